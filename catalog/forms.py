from __future__ import annotations

from django import forms

from catalog.models import Difficulty, Skill


class CatalogFilterForm(forms.Form):
    """Search box and filters of the catalog page (GET parameters, all optional)."""

    q = forms.CharField(label="Search", required=False, max_length=100)
    skill = forms.ModelChoiceField(
        label="Skill",
        queryset=Skill.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="Any skill",
    )
    difficulty = forms.ChoiceField(
        label="Difficulty",
        choices=[("", "Any difficulty"), *Difficulty.choices],
        required=False,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": "Title or topic"})

    def search_kwargs(self) -> dict[str, str]:
        """Arguments for catalog.selectors.courses_published; invalid filters are not applied."""
        if not self.is_valid():
            return {}
        skill = self.cleaned_data["skill"]
        return {
            "q": self.cleaned_data["q"].strip(),
            "skill": skill.slug if skill else "",
            "difficulty": self.cleaned_data["difficulty"],
        }


class AskForm(forms.Form):
    """A question about the course, answered from its lessons (catalog.tutor)."""

    question = forms.CharField(label="Ask about this course", max_length=300, strip=True)

from __future__ import annotations

from decimal import Decimal

from django import forms

from catalog.models import Skill

LEVEL_CHOICES = [("", "Not a goal"), *[(str(n), f"Level {n}") for n in range(1, 11)]]


class GoalForm(forms.Form):
    """A goal: target level per chosen skill, weekly study time, deadline.

    The time zone is asked once, at sign-up (and changed on the account page).

    One optional level <select> per skill keeps the form usable without JavaScript;
    the rules (at least one skill, level range, hours range) are checked by
    learning.services.goal_create, whose errors the view attaches back here.
    """

    title = forms.CharField(label="Goal title", max_length=200, initial="My learning goal")
    weekly_hours = forms.DecimalField(
        label="Hours per week you can study",
        min_value=Decimal("0.5"),
        max_value=Decimal("80"),
        decimal_places=1,
        initial=5,
    )
    deadline = forms.DateField(
        label="Deadline (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(
        self, *args, skills: list[Skill], current_levels: dict[str, int], **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.skills = skills
        for skill in skills:
            current = current_levels.get(skill.slug)
            self.fields[self.skill_field_name(skill)] = forms.TypedChoiceField(
                label=skill.name,
                choices=LEVEL_CHOICES,
                coerce=int,
                empty_value=None,
                required=False,
                help_text=f"Now: level {current}" if current else "Not assessed yet",
            )

    @staticmethod
    def skill_field_name(skill: Skill) -> str:
        return f"level_{skill.slug}"

    def skill_fields(self) -> list[forms.BoundField]:
        return [self[self.skill_field_name(skill)] for skill in self.skills]

    def target_levels(self) -> dict[str, int]:
        return {
            skill.slug: self.cleaned_data[self.skill_field_name(skill)]
            for skill in self.skills
            if self.cleaned_data.get(self.skill_field_name(skill))
        }

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from assessments.grading import number_as_typed
from assessments.importers import guess_format
from assessments.models import Question
from assessments.services import LearnerQuestion


class AttemptForm(forms.Form):
    """One field per question, built from what a learner may see (no answer key).

    The form only turns HTML input into the response shapes of assessments.grading;
    grading and its rules stay in assessments.services.attempt_submit.
    """

    def __init__(self, *args, questions: list[LearnerQuestion], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[self.field_name(question.id)] = self._field_for(question)

    @staticmethod
    def field_name(question_id: int) -> str:
        return f"q{question_id}"

    @staticmethod
    def _field_for(question: LearnerQuestion) -> forms.Field:
        label = f"{question.order}. {question.prompt}"
        choices = [(str(choice.id), choice.text) for choice in question.choices]
        if question.kind == Question.Kind.MULTIPLE_CHOICE:
            return forms.TypedMultipleChoiceField(
                label=label,
                choices=choices,
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text="Select every correct answer.",
            )
        if question.kind in (Question.Kind.SINGLE_CHOICE, Question.Kind.TRUE_FALSE):
            return forms.TypedChoiceField(
                label=label,
                choices=choices,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
        if question.kind == Question.Kind.NUMERIC:
            return forms.DecimalField(
                label=label,
                required=False,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                help_text="A number, e.g. 3.5",
            )
        return forms.CharField(
            label=label,
            required=False,
            max_length=1000,
            widget=forms.TextInput(attrs={"autocomplete": "off"}),
        )

    def bound_questions(self) -> list[tuple[LearnerQuestion, forms.BoundField]]:
        return [(question, self[self.field_name(question.id)]) for question in self.questions]

    def responses(self) -> dict[int, dict]:
        """Answered questions in grading's shapes; unanswered ones are left out (score 0)."""
        responses: dict[int, dict] = {}
        for question in self.questions:
            value = self.cleaned_data.get(self.field_name(question.id))
            if value in (None, "", []):
                continue
            if question.kind == Question.Kind.MULTIPLE_CHOICE:
                responses[question.id] = {"choices": list(value)}
            elif question.kind in (Question.Kind.SINGLE_CHOICE, Question.Kind.TRUE_FALSE):
                responses[question.id] = {"choices": [value]}
            elif question.kind == Question.Kind.NUMERIC:
                responses[question.id] = {"value": str(value)}
            else:
                responses[question.id] = {"text": value}
        return responses


class NumberInput(forms.TextInput):
    """Shows a stored decimal as typed: 30, not "30.0000" (or "3E+1")."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, Decimal):
            return number_as_typed(value)
        return super().format_value(value)


class AuthorDecimalField(forms.DecimalField):
    widget = NumberInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "decimal")
        self.widget.attrs.setdefault("size", "10")


class AcceptedAnswersField(forms.Field):
    """Short-text answers typed one per line; stored as the list grading reads."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 40})

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list):
            return "\n".join(str(answer) for answer in value)
        return "" if value is None else str(value)

    def to_python(self, value: Any) -> list[str]:
        lines = value if isinstance(value, list) else str(value or "").splitlines()
        return [line.strip() for line in lines if str(line).strip()]

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial) != self.to_python(data)


MAX_IMPORT_BYTES = 1_000_000


class QuestionImportForm(forms.Form):
    """A GIFT or Aiken text, uploaded or pasted, for ``questions_import``."""

    file = forms.FileField(required=False, help_text="A .gift or .txt file in UTF-8.")
    text = forms.CharField(
        required=False,
        label="or paste the questions",
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80, "spellcheck": "false"}),
    )
    format = forms.ChoiceField(
        choices=[("", "Guess from the text"), ("gift", "Moodle GIFT"), ("aiken", "Aiken")],
        required=False,
    )
    skill = forms.ModelChoiceField(
        queryset=None,
        required=False,
        help_text="For questions whose $CATEGORY does not name a skill slug.",
    )
    dry_run = forms.BooleanField(
        required=False, label="Only check the file (store nothing)", initial=False
    )

    def __init__(self, *args: Any, skills: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["skill"].queryset = skills

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload, pasted = cleaned.get("file"), cleaned.get("text", "")
        if upload:
            if upload.size > MAX_IMPORT_BYTES:
                raise forms.ValidationError("The file is larger than 1 MB.")
            try:
                cleaned["source"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
        elif pasted.strip():
            cleaned["source"] = pasted
        else:
            raise forms.ValidationError("Upload a file or paste the questions.")
        cleaned["format"] = cleaned.get("format") or guess_format(cleaned["source"])
        return cleaned

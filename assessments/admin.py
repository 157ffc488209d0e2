"""Assessment authoring: assessments → questions → choices, and read-only attempts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from assessments.forms import AcceptedAnswersField, AuthorDecimalField, QuestionImportForm
from assessments.models import (
    AUTHORED_KIND_CHOICES,
    Answer,
    Assessment,
    AssessmentAttempt,
    Choice,
    Question,
)
from assessments.rules import answer_key_problems, choice_problems, lesson_course_problem
from assessments.services import (
    ASSESSMENT_FIELDS,
    QUESTION_FIELDS,
    assessment_create,
    assessment_delete,
    assessment_delete_blocker,
    assessment_publish,
    assessment_unpublish,
    assessment_update,
    assessments_publish,
    assessments_unpublish,
    question_create,
    question_delete,
    question_delete_blocker,
    question_update,
    questions_import,
)
from catalog.admin import MarkdownTextarea
from catalog.models import Course, Lesson, Skill
from insights.ml.irt import MIN_FIT_ANSWERS
from insights.models import ItemAnalysisRun, QuestionItemAnalysis
from skillstudio.access import is_platform_admin
from skillstudio.admin import (
    InstructorInlineMixin,
    LearnerDataProtectedMixin,
    OwnerAssignedAdmin,
    PublishButtonsMixin,
    ReadOnlyAdminMixin,
    ScopedModelAdmin,
    ServiceWriteMixin,
    owned_by,
    protected_formset,
)
from skillstudio.jobs import defer

SHORT_TEXTAREA = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}}


class AssessmentForm(forms.ModelForm):
    class Meta:
        model = Assessment
        fields = (
            "title",
            "kind",
            "description",
            "course",
            "lesson",
            "owner",
            "passing_score",
            "time_limit_minutes",
            "due_at",
            "weight",
            "max_attempts",
            "min_minutes_between_attempts",
            "show_answers",
            "is_adaptive",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Skill checks and course challenges are created by the platform, not by authors.
        if "kind" in self.fields and self.instance.kind in Assessment.AUTHORED_KINDS:
            self.fields["kind"].choices = AUTHORED_KIND_CHOICES

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        problem = lesson_course_problem(course=cleaned.get("course"), lesson=cleaned.get("lesson"))
        if problem:
            self.add_error("lesson", problem)
        return cleaned


def _answer_field(name: str) -> forms.Field:
    return Question._meta.get_field(name).formfield(form_class=AuthorDecimalField)


class QuestionForm(forms.ModelForm):
    numeric_answer = _answer_field("numeric_answer")
    numeric_tolerance = _answer_field("numeric_tolerance")
    accepted_answers = AcceptedAnswersField(
        required=False,
        help_text="Short text only: one accepted answer per line (case and spaces are ignored).",
    )

    class Meta:
        model = Question
        fields = (
            "assessment",
            "order",
            "kind",
            "prompt",
            "skill",
            "difficulty",
            "points",
            "partial_credit",
            "explanation",
            "numeric_answer",
            "numeric_tolerance",
            "accepted_answers",
        )
        help_texts = {
            "numeric_tolerance": "Numeric only: answers within ± this value are correct.",
        }
        widgets = {
            "prompt": MarkdownTextarea(attrs={"rows": 4, "cols": 80}),
            "explanation": MarkdownTextarea(attrs={"rows": 3, "cols": 80}),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        problems = answer_key_problems(
            kind=cleaned.get("kind", ""),
            numeric_answer=cleaned.get("numeric_answer"),
            accepted_answers=cleaned.get("accepted_answers"),
        )
        for field_name, message in problems.items():
            self.add_error(field_name, message)
        return cleaned


class QuestionRowForm(forms.ModelForm):
    """A question row on its assessment's page: numeric ones carry their answer here.

    Choices and short-text answers are added on the question's own page (publishing
    refuses questions without them); a numeric question cannot even be stored without
    its number, so the row asks for it instead of failing on save.
    """

    numeric_answer = _answer_field("numeric_answer")
    numeric_tolerance = _answer_field("numeric_tolerance")

    class Meta:
        model = Question
        fields = (
            "order",
            "kind",
            "prompt",
            "skill",
            "difficulty",
            "points",
            "numeric_answer",
            "numeric_tolerance",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind = cleaned.get("kind", "")
        if kind == Question.Kind.NUMERIC:
            problems = answer_key_problems(
                kind=kind, numeric_answer=cleaned.get("numeric_answer"), accepted_answers=None
            )
            for field_name, message in problems.items():
                self.add_error(field_name, message)
        return cleaned


class ChoiceFormSet(BaseInlineFormSet):
    """Choices must make the question gradable for its kind."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        live = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        problems = choice_problems(
            kind=self.instance.kind,
            correct_flags=[bool(f.cleaned_data.get("is_correct")) for f in live],
        )
        if problems:
            raise forms.ValidationError(problems)


def _course_skill(assessment: Assessment) -> Skill | None:
    """The default skill of imported questions: the course's, when it has exactly one."""
    if assessment.course_id is None:
        return None
    skills = list(assessment.course.skills.all()[:2])
    return skills[0] if len(skills) == 1 else None


def _number(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def item_analysis_table(
    run: ItemAnalysisRun | None, rows: Iterable[QuestionItemAnalysis]
) -> SafeString:
    """Read-only table of a stored item analysis (predicted difficulties marked).

    Only reads what ``insights.ml.irt.refresh_item_analysis`` stored: fitting takes seconds
    and scipy, which web processes never load.
    """
    if run is None:
        return format_html(
            "<p>{}</p>",
            "Not analysed yet: the nightly job analyses it, or use the action "
            "“Recompute item analysis” on the assessment list.",
        )
    summary = format_html(
        "<p>Based on {} answers, computed {} UTC.</p>",
        run.answers,
        timezone.localtime(run.computed_at, UTC).strftime("%Y-%m-%d %H:%M"),
    )
    rows = list(rows)
    if not rows:
        return summary + format_html("<p>{}</p>", "No questions were analysed.")
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                row.question,
                row.answers,
                _number(row.share_correct, ".0%"),
                _number(row.discrimination, ".2f"),
                _number(row.irt_difficulty, "+.2f")
                + (" (predicted)" if row.difficulty_predicted else ""),
                _number(row.irt_discrimination if not row.difficulty_predicted else None, ".2f")
                + (f" ({row.irt_model})" if row.irt_model else ""),
                "; ".join(row.flags) or "n/a",
            )
            for row in rows
        ),
    )
    return summary + format_html(
        "<table><thead><tr><th>question</th><th>answers</th><th>correct</th>"
        "<th>discrimination (point-biserial)</th><th>IRT difficulty</th>"
        "<th>IRT discrimination</th><th>flags</th></tr></thead><tbody>{}</tbody></table>"
        "<p class='help'>From each learner's first submitted answers. Difficulty on a logit "
        "scale (0: an average learner is right half the time). Questions with fewer than {} "
        "answers get a predicted difficulty from fitted questions on the same skill.</p>",
        body,
        MIN_FIT_ANSWERS,
    )


class QuestionInline(InstructorInlineMixin, admin.TabularInline):
    model = Question
    form = QuestionRowForm
    formset = protected_formset(lambda question: question_delete_blocker(question=question))
    fields = QuestionRowForm.Meta.fields
    autocomplete_fields = ("skill",)
    ordering = ("order",)
    formfield_overrides = SHORT_TEXTAREA
    extra = 0
    show_change_link = True


def _fields(form: forms.ModelForm, names: frozenset[str]) -> dict[str, Any]:
    """The form's values for the service's fields."""
    return {name: value for name, value in form.cleaned_data.items() if name in names}


@admin.register(Assessment)
class AssessmentAdmin(
    PublishButtonsMixin, ServiceWriteMixin, LearnerDataProtectedMixin, OwnerAssignedAdmin
):
    owner_path = "owner"
    form = AssessmentForm
    inlines = (QuestionInline,)
    list_display = (
        "title",
        "kind",
        "course",
        "is_published",
        "passing_score",
        "question_count",
        "owner",
    )
    list_filter = ("kind", "is_published", ("course", admin.RelatedOnlyFieldListFilter))
    search_fields = ("title", "description", "course__title")
    list_select_related = ("course", "owner")
    readonly_fields = ("is_published", "created_at", "updated_at", "item_analysis")
    actions = ("publish", "unpublish", "import_questions", "recompute_item_analysis")
    change_form_template = "admin/assessments/assessment/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<path:object_id>/import-questions/",
                self.admin_site.admin_view(self.import_questions_view),
                name="assessments_assessment_import",
            ),
            *super().get_urls(),
        ]

    def import_questions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        assessment = self.get_object(request, unquote(object_id))
        if assessment is None:
            raise Http404
        if not self.has_change_permission(request, assessment):
            raise PermissionDenied
        skills = Skill.objects.order_by("name")
        form = QuestionImportForm(
            request.POST or None,
            request.FILES or None,
            skills=skills,
            initial={"skill": _course_skill(assessment)},
        )
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                report = questions_import(
                    assessment=assessment,
                    text=data["source"],
                    fmt=data["format"],
                    now=timezone.now(),
                    default_skill=data["skill"],
                    dry_run=data["dry_run"],
                )
            except ValidationError as error:
                problems = error.messages
            else:
                kinds = ", ".join(
                    f"{count} {Question.Kind(kind).label.lower()}"
                    for kind, count in sorted(report.kinds.items())
                )
                if report.dry_run:
                    self.message_user(
                        request,
                        f"The file is fine: {report.count} question(s) would be imported "
                        f"({kinds}). Nothing was stored.",
                        messages.INFO,
                    )
                else:
                    self.message_user(
                        request,
                        f"Imported {report.count} question(s) ({kinds}).",
                        messages.SUCCESS,
                    )
                    return redirect("admin:assessments_assessment_change", assessment.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": assessment,
            "title": f"Import questions into “{assessment}”",
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(
            request, "admin/assessments/assessment/import_questions.html", context
        )

    @admin.display(description="item analysis")
    def item_analysis(self, obj: Assessment) -> SafeString:
        if obj.pk is None:
            return format_html("<p>{}</p>", "Available once learners have answered.")
        run = ItemAnalysisRun.objects.filter(assessment=obj).first()
        rows = () if run is None else run.questions.select_related("question")
        return item_analysis_table(run, rows)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Assessment]:
        return super().get_queryset(request).annotate(question_total=Count("questions"))

    def learner_records(self, obj: Assessment) -> str | None:
        return assessment_delete_blocker(assessment=obj)

    def save_with_service(
        self, request: HttpRequest, obj: Assessment, form: Any, change: bool
    ) -> Assessment:
        fields, now = _fields(form, ASSESSMENT_FIELDS), timezone.now()
        if change:
            owner = form.cleaned_data.get("owner") if is_platform_admin(request.user) else None
            return assessment_update(assessment=obj, now=now, owner=owner, **fields)
        return assessment_create(owner=self.owner_for(request, form), now=now, **fields)

    def delete_with_service(self, request: HttpRequest, obj: Assessment) -> None:
        assessment_delete(assessment=obj, now=timezone.now())

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Question rows without their choices: the key is added on the question's page,
        # and publishing refuses questions learners could not be graded on.
        assessment, now = form.instance, timezone.now()
        names = frozenset(QuestionInline.fields) & QUESTION_FIELDS
        formset.save(commit=False)
        for question in formset.deleted_objects:
            question_delete(question=question, now=now)
        for question in formset.new_objects:
            question_create(
                assessment=assessment,
                now=now,
                require_answer_key=False,
                **{name: getattr(question, name) for name in names},
            )
        for question, _changed in formset.changed_objects:
            question_update(
                question=question,
                now=now,
                require_answer_key=False,
                **{name: getattr(question, name) for name in names},
            )

    @admin.display(description="questions", ordering="question_total")
    def question_count(self, obj: Assessment) -> int:
        return obj.question_total

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "course":
            kwargs["queryset"] = owned_by(
                Course.objects.all(), owner_path="owner", user=request.user
            )
        elif db_field.name == "lesson":
            kwargs["queryset"] = owned_by(
                Lesson.objects.select_related("module__course"),
                owner_path="module__course__owner",
                user=request.user,
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def publish_one(self, request: HttpRequest, obj: Assessment) -> bool:
        return assessment_publish(assessment=obj, now=timezone.now())

    def unpublish_one(self, request: HttpRequest, obj: Assessment) -> bool:
        return assessment_unpublish(assessment=obj, now=timezone.now())

    @admin.action(description="Publish selected assessments")
    def publish(self, request: HttpRequest, queryset: QuerySet[Assessment]) -> None:
        changed, refused = assessments_publish(assessments=queryset, now=timezone.now())
        for assessment, problems in refused.items():
            # Learners would meet questions that cannot be graded.
            self.message_user(
                request,
                f"“{assessment}” was not published. " + " ".join(problems),
                messages.ERROR,
            )
        # A success line only for what happened: never "Published 0" under a refusal.
        if changed:
            self.message_user(request, f"Published {changed} assessment(s).", messages.SUCCESS)
        elif not refused:
            self.message_user(request, "The selected assessments were already published.")

    @admin.action(description="Unpublish selected assessments")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Assessment]) -> None:
        changed = assessments_unpublish(assessments=queryset, now=timezone.now())
        if changed:
            self.message_user(request, f"Unpublished {changed} assessment(s).", messages.SUCCESS)
        else:
            self.message_user(request, "The selected assessments were not published.")

    @admin.action(description="Import questions (GIFT / Aiken) into the selected assessment")
    def import_questions(
        self, request: HttpRequest, queryset: QuerySet[Assessment]
    ) -> HttpResponse | None:
        ids = list(queryset.values_list("pk", flat=True)[:2])
        if len(ids) != 1:
            self.message_user(
                request, "Select exactly one assessment to import questions into.", messages.WARNING
            )
            return None
        return redirect("admin:assessments_assessment_import", ids[0])

    @admin.action(description="Recompute item analysis")
    def recompute_item_analysis(self, request: HttpRequest, queryset: QuerySet[Assessment]) -> None:
        # The queryset is already limited to the user's own assessments (get_queryset).
        ids = sorted(queryset.values_list("pk", flat=True))
        if not ids:
            self.message_user(request, "No assessments selected.", messages.WARNING)
            return
        # Fitting takes seconds: a worker does it; the outbox keeps the job if Redis is down.
        with transaction.atomic():
            defer("insights.refresh_item_analysis", assessment_ids=ids)
        self.message_user(
            request,
            f"Item analysis of {len(ids)} assessment(s) queued; reload in a minute to see it.",
            messages.SUCCESS,
        )


class ChoiceInline(InstructorInlineMixin, admin.TabularInline):
    model = Choice
    formset = ChoiceFormSet
    fields = ("order", "text", "is_correct")
    ordering = ("order",)
    extra = 2


@admin.register(Question)
class QuestionAdmin(ServiceWriteMixin, LearnerDataProtectedMixin, ScopedModelAdmin):
    owner_path = "assessment__owner"
    form = QuestionForm
    inlines = (ChoiceInline,)
    list_display = ("short_prompt", "assessment", "order", "kind", "skill", "difficulty", "points")
    list_filter = (
        "kind",
        "difficulty",
        ("assessment", admin.RelatedOnlyFieldListFilter),
        ("skill", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("prompt", "explanation", "assessment__title", "skill__name")
    list_select_related = ("assessment", "skill")
    ordering = ("assessment__title", "order")
    autocomplete_fields = ("skill",)
    fieldsets = (
        (None, {"fields": ("assessment", "order", "kind", "prompt", "explanation")}),
        ("Scoring", {"fields": ("skill", "difficulty", "points", "partial_credit")}),
        (
            "Answer key for numeric and short-text questions",
            {"fields": ("numeric_answer", "numeric_tolerance", "accepted_answers")},
        ),
        ("Item analysis", {"fields": ("item_analysis",)}),
    )
    readonly_fields = ("item_analysis",)

    @admin.display(description="item analysis")
    def item_analysis(self, obj: Question) -> SafeString:
        if obj.pk is None:
            return format_html("<p>{}</p>", "Available once learners have answered.")
        row = (
            QuestionItemAnalysis.objects.filter(question=obj)
            .select_related("run", "question")
            .first()
        )
        # None: never analysed, or added since the last run.
        return item_analysis_table(None, ()) if row is None else item_analysis_table(row.run, [row])

    def learner_records(self, obj: Question) -> str | None:
        return question_delete_blocker(question=obj)

    def save_with_service(
        self, request: HttpRequest, obj: Question, form: Any, change: bool
    ) -> Question:
        # The question is stored with its choices in save_related, where the choice
        # formset is at hand: one service call for the question and its answer key.
        return obj

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        choices = None
        for formset in formsets:
            # Sorts rows into new / changed / deleted (the change message lists them);
            # writes nothing.
            formset.save(commit=False)
            if formset.model is Choice:
                live = [
                    f.cleaned_data
                    for f in formset.forms
                    if f.cleaned_data and not f.cleaned_data.get("DELETE")
                ]
                live.sort(key=lambda data: data.get("order") or 0)
                choices = [{"text": d["text"], "is_correct": d["is_correct"]} for d in live]
        fields, now = _fields(form, QUESTION_FIELDS), timezone.now()
        assessment = form.cleaned_data.get("assessment")
        if change:
            saved = question_update(question=form.instance, now=now, choices=choices, **fields)
        else:
            saved = question_create(assessment=assessment, now=now, choices=choices, **fields)
        form.instance.pk = saved.pk
        form.instance._state.adding = False

    def delete_with_service(self, request: HttpRequest, obj: Question) -> None:
        question_delete(question=obj, now=timezone.now())

    @admin.display(description="prompt", ordering="prompt")
    def short_prompt(self, obj: Question) -> str:
        return obj.prompt if len(obj.prompt) <= 80 else obj.prompt[:79] + "…"

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "assessment":
            kwargs["queryset"] = owned_by(
                Assessment.objects.all(), owner_path="owner", user=request.user
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AnswerInline(InstructorInlineMixin, admin.TabularInline):
    model = Answer
    fields = ("question", "response", "is_correct", "points_awarded", "seconds_spent")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Answer]:
        return super().get_queryset(request).select_related("question")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AssessmentAttempt)
class AssessmentAttemptAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    # Instructors see how learners do on their own assessments; attempts are
    # written only by grading, never by hand.
    owner_path = "assessment__owner"
    instructor_actions = frozenset({"view"})
    inlines = (AnswerInline,)
    list_display = ("learner", "assessment", "started_at", "submitted_at", "score", "passed")
    list_filter = ("passed", ("assessment", admin.RelatedOnlyFieldListFilter))
    search_fields = ("learner__email", "assessment__title")
    list_select_related = ("learner", "assessment")
    date_hierarchy = "started_at"

"""Assessment reads, with access control in one place per object type."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Prefetch, Q, QuerySet

from accounts.selectors import reachable_by
from assessments.grading import number_as_typed
from assessments.models import Answer, Assessment, AssessmentAttempt, Choice, Question
from assessments.rules import answers_visible
from catalog.models import Course
from skillstudio.access import is_platform_admin, owner_scoped


def _open_to_learners() -> Q:
    # A published assessment of a draft course stays hidden with its course.
    return Q(is_published=True) & (
        Q(course__isnull=True) | Q(course__status=Course.Status.PUBLISHED)
    )


def assessments_open_to_learners() -> QuerySet[Assessment]:
    """The assessments any learner may open and take (published, with their course)."""
    return Assessment.objects.filter(_open_to_learners())


def assessments_visible_to(*, user) -> QuerySet[Assessment]:
    """Published assessments for any signed-in user; drafts for their owner and admins."""
    queryset = Assessment.objects.select_related("course", "lesson", "owner")
    if is_platform_admin(user):
        return queryset
    if user is None or not user.is_authenticated:
        return queryset.none()
    return queryset.filter(_open_to_learners() | Q(owner=user))


def assessments_editable_by(*, user) -> QuerySet[Assessment]:
    return owner_scoped(Assessment.objects.all(), owner_path="owner", user=user)


def assessment_is_open(assessment: Assessment) -> bool:
    """Whether learners may take it (the rule of _open_to_learners, for one row)."""
    return assessment.is_published and (
        assessment.course_id is None or assessment.course.is_published
    )


def questions_with_key(*, assessment: Assessment) -> QuerySet[Question]:
    """Questions with their answer key, for grading and for authors only."""
    return (
        Question.objects.filter(assessment=assessment)
        .select_related("skill")
        .prefetch_related(Prefetch("choices", queryset=Choice.objects.order_by("order", "id")))
        .order_by("order")
    )


def questions_editable_by(*, user) -> QuerySet[Question]:
    return (
        Question.objects.filter(assessment__in=assessments_editable_by(user=user).values("pk"))
        .select_related("skill", "assessment")
        .prefetch_related(Prefetch("choices", queryset=Choice.objects.order_by("order", "id")))
    )


def attempts_for(*, user) -> QuerySet[AssessmentAttempt]:
    return AssessmentAttempt.objects.filter(learner=user).select_related("assessment")


# The adaptive attempt a learner last started from a page (assessments.views).
ADAPTIVE_ATTEMPT_SESSION_KEY = "adaptive_attempt_id"
# The skill check or course challenge last started from a goal's path page,
# {"attempt": id, "goal": id}: its result leads back to that path.
STARTED_FROM_PATH_SESSION_KEY = "started_from_path"


def graded_attempts_of(*, learner_ids) -> QuerySet[AssessmentAttempt]:
    """The learners' submitted attempts of every kind (quiz, exam, diagnostic, skill check,
    course challenge): what counts as their activity wherever activity is shown (the
    progress page's activity per day, the instructor's "last activity")."""
    return AssessmentAttempt.objects.filter(learner_id__in=learner_ids, submitted_at__isnull=False)


def adaptive_attempt_in_progress(*, learner, attempt_id: int) -> AssessmentAttempt | None:
    """The learner's adaptive attempt ``attempt_id`` if it is still asking a question, for
    "continue where you left off"; one query."""
    return (
        AssessmentAttempt.objects.filter(
            pk=attempt_id,
            learner=learner,
            submitted_at__isnull=True,
            current_question__isnull=False,
        )
        .select_related("assessment")
        .first()
    )


def attempts_reachable_by(*, user) -> QuerySet[AssessmentAttempt]:
    """Own attempts; every learner's for admins (to read: answering stays the learner's)."""
    return reachable_by(AssessmentAttempt.objects.select_related("assessment"), user=user)


@dataclass(frozen=True)
class ChoiceReview:
    """One choice of a reviewed question: did the learner pick it, is it right (None when
    the review rules keep the key hidden)."""

    text: str
    picked: bool
    correct: bool | None


@dataclass(frozen=True)
class AnswerReview:
    """One graded answer with what the learner may see after submitting."""

    question: Question
    response: dict
    is_correct: bool
    points_awarded: Decimal
    explanation: str
    correct_choice_ids: list[int]
    correct_answer: str
    # What the learner answered, as text ("" when left blank); always theirs to see.
    your_answer: str = ""
    # Choice questions: every choice with the learner's pick and (when allowed) the key.
    choices: tuple[ChoiceReview, ...] = ()
    # Its place in the attempt as the learner met it (1, 2, ...).
    number: int = 0

    @property
    def answered(self) -> bool:
        return bool(self.response)

    @property
    def partly_correct(self) -> bool:
        return not self.is_correct and self.points_awarded > 0


def _your_answer(question: Question, response: dict) -> str:
    if not response:
        return ""
    if question.has_choices:
        picked = set(response.get("choices") or [])
        return ", ".join(c.text for c in question.choices.all() if c.pk in picked)
    if question.kind == Question.Kind.NUMERIC:
        value = str(response.get("value", ""))
        try:
            return number_as_typed(Decimal(value))  # stored as "30.0000": shown as typed
        except InvalidOperation:
            return value
    return str(response.get("text", ""))


def attempt_review(*, attempt: AssessmentAttempt) -> list[AnswerReview]:
    """Answers as graded; empty until the attempt is submitted.

    The learner's own answer is always shown. The key (correct choices and answer) and
    the explanations are filled in only when the assessment's review rule allows it
    (assessments.rules.answers_visible).
    """
    if not attempt.is_submitted:
        return []
    reveal = answers_visible(attempt=attempt)
    answers = (
        Answer.objects.filter(attempt=attempt)
        .select_related("question__skill")
        .prefetch_related(
            Prefetch("question__choices", queryset=Choice.objects.order_by("order", "id"))
        )
        # An adaptive attempt asks across quizzes: in the order asked, not by quiz order.
        .order_by(*(("answered_at", "id") if attempt.is_adaptive else ("question__order", "id")))
    )
    reviews = []
    for number, answer in enumerate(answers, start=1):
        question = answer.question
        correct_choices = [c for c in question.choices.all() if c.is_correct]
        if question.has_choices:
            correct_answer = ", ".join(c.text for c in correct_choices)
        elif question.kind == Question.Kind.NUMERIC:
            correct_answer = number_as_typed(question.numeric_answer)
            if question.numeric_tolerance:
                correct_answer += f" ± {number_as_typed(question.numeric_tolerance)}"
        else:
            correct_answer = " / ".join(str(a) for a in question.accepted_answers or [])
        picked = set((answer.response or {}).get("choices") or [])
        reviews.append(
            AnswerReview(
                number=number,
                question=question,
                response=answer.response,
                is_correct=answer.is_correct,
                points_awarded=answer.points_awarded,
                explanation=question.explanation if reveal else "",
                correct_choice_ids=[c.pk for c in correct_choices] if reveal else [],
                correct_answer=correct_answer if reveal else "",
                your_answer=_your_answer(question, answer.response or {}),
                choices=tuple(
                    ChoiceReview(
                        text=choice.text,
                        picked=choice.pk in picked,
                        correct=choice.is_correct if reveal else None,
                    )
                    for choice in question.choices.all()
                ),
            )
        )
    return reviews


def courses_demonstrated(*, learner) -> QuerySet[Course]:
    """Courses the learner tested out of: a passed course challenge (every skill the course
    teaches proficient or mastered when the challenge ended; assessments.services)."""
    return Course.objects.filter(
        assessments__kind=Assessment.Kind.COURSE_CHALLENGE,
        assessments__attempts__learner=learner,
        assessments__attempts__passed=True,
        assessments__attempts__submitted_at__isnull=False,
    ).distinct()

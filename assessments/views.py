from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from assessments.forms import AttemptForm
from assessments.models import Assessment, AssessmentAttempt
from assessments.rules import (
    answers_shown_when,
    answers_visible,
    runs_adaptively,
    skill_run_status,
)
from assessments.selectors import (
    ADAPTIVE_ATTEMPT_SESSION_KEY,
    STARTED_FROM_PATH_SESSION_KEY,
    assessments_visible_to,
    attempt_review,
    attempts_for,
)
from assessments.services import (
    attempt_answer,
    attempt_start,
    attempt_submit,
    course_challenge_start,
    current_question_for_learner,
    questions_for_learner,
    skill_check_start,
)
from catalog.models import Skill
from catalog.selectors import courses_visible_to
from insights.diagnostic import MAX_QUESTIONS, adaptive_progress
from insights.progress import (
    TargetProgress,
    attempt_answer_counts,
    breakdown_rows,
    goal_targets,
)
from learning.models import LearningGoal
from learning.selectors import goals_for
from skillstudio.forms import attach_service_errors


@login_required
@require_GET
def assessment_detail(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = get_object_or_404(assessments_visible_to(user=request.user), pk=assessment_id)
    attempts = list(attempts_for(user=request.user).filter(assessment=assessment))
    return render(
        request,
        "assessments/assessment_detail.html",
        {
            "assessment": assessment,
            "question_count": assessment.questions.count(),
            "adaptive": runs_adaptively(assessment),
            "max_per_skill": MAX_QUESTIONS,
            "open_attempt": next((a for a in attempts if not a.is_submitted), None),
            "submitted": [a for a in attempts if a.is_submitted],
        },
    )


@login_required
@require_POST
def assessment_start(request: HttpRequest, assessment_id: int) -> HttpResponse:
    assessment = get_object_or_404(assessments_visible_to(user=request.user), pk=assessment_id)
    try:
        attempt = attempt_start(learner=request.user, assessment=assessment, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("assessments:detail", assessment_id=assessment.pk)
    return _to_attempt(request, attempt)


@login_required
@require_http_methods(["GET", "POST"])
def attempt_detail(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """Take an open attempt (GET form, POST answers) or review a submitted one.

    The attempt id in the URL is the one-time token: a second POST of the same
    form finds the attempt submitted and lands on its result, never a new attempt.
    """
    attempt = get_object_or_404(attempts_for(user=request.user), pk=attempt_id)
    if attempt.is_submitted:
        if request.method == "POST":
            return redirect("assessments:attempt", attempt_id=attempt.pk)
        return _result(request, attempt)
    if attempt.is_adaptive:
        return _adaptive(request, attempt)
    form = AttemptForm(
        request.POST or None, questions=questions_for_learner(assessment=attempt.assessment)
    )
    unanswered = ""
    if request.method == "POST" and form.is_valid():
        try:
            attempt_submit(
                attempt=attempt,
                responses=form.responses(),
                now=timezone.now(),
                allow_unanswered="submit_anyway" in request.POST,
            )
        except ValidationError as error:
            if getattr(error, "error_dict", {}).keys() == {"unanswered"}:
                # Not an error: the confirmation step, answers kept in the form.
                unanswered = " ".join(error.messages)
            else:
                attach_service_errors(form, error)
        else:
            return redirect("assessments:attempt", attempt_id=attempt.pk)
    return render(
        request,
        "assessments/attempt_form.html",
        {
            "attempt": attempt,
            "assessment": attempt.assessment,
            "form": form,
            "unanswered": unanswered,
        },
        status=400 if form.errors else 200,
    )


def _adaptive(request: HttpRequest, attempt: AssessmentAttempt) -> HttpResponse:
    """One question at a time: GET shows the current one, POST answers it (then redirects)."""
    question = current_question_for_learner(attempt=attempt)
    form = AttemptForm(
        request.POST if request.method == "POST" and "dont_know" not in request.POST else None,
        questions=[question] if question else [],
    )
    if request.method == "POST":
        posted = request.POST.get("question", "")
        if question is None or posted != str(question.id):
            # A replayed or stale page: the attempt has moved on; show where it is.
            messages.info(request, "That question was already answered; here is the next one.")
            return redirect("assessments:attempt", attempt_id=attempt.pk)
        dont_know = "dont_know" in request.POST
        if not dont_know and form.is_valid() and not form.responses():
            # An empty "Answer" is a slip, not a choice: "I don't know" is its own button.
            form.add_error(None, "Choose an answer, or use “I don't know”.")
        elif dont_know or form.is_valid():
            responses = {} if dont_know else form.responses()
            try:
                attempt_answer(
                    attempt=attempt,
                    question_id=question.id,
                    response=responses.get(question.id),
                    now=timezone.now(),
                )
            except ValidationError as error:
                if not form.is_bound:
                    form = AttemptForm(request.POST, questions=[question])
                    form.is_valid()
                attach_service_errors(form, error)
            else:
                if attempt.is_submitted and (
                    request.session.get(ADAPTIVE_ATTEMPT_SESSION_KEY) == attempt.pk
                ):
                    # Finished: nothing left to continue from the dashboard.
                    del request.session[ADAPTIVE_ATTEMPT_SESSION_KEY]
                return redirect("assessments:attempt", attempt_id=attempt.pk)
    progress = adaptive_progress(attempt=attempt)
    return render(
        request,
        "assessments/attempt_adaptive.html",
        {
            "attempt": attempt,
            "assessment": attempt.assessment,
            "form": form,
            "question": question,
            "progress": progress,
            "skills": [(run, skill_run_status(run, progress)) for run in progress.runs],
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def skill_check_begin(request: HttpRequest, skill_slug: str) -> HttpResponse:
    skill = get_object_or_404(Skill, slug=skill_slug)
    if request.method == "GET":
        # A link followed or a URL typed: starting a check is a POST, so say where to.
        messages.info(
            request,
            f"A skill check in {skill.name} starts from a button, not a link: your progress "
            "page offers one beside each skill of your goals or answers that needs it.",
        )
        return redirect("insights:progress")
    path_goal = _started_from_path(request)
    try:
        attempt = skill_check_start(learner=request.user, skill=skill, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        if path_goal is not None:
            return redirect("insights:path", goal_id=path_goal.pk)
        return redirect("insights:progress")
    return _to_attempt(request, attempt, path_goal)


@login_required
@require_http_methods(["GET", "POST"])
def course_challenge_begin(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(courses_visible_to(user=request.user), pk=course_id)
    if request.method == "GET":
        messages.info(request, "Start the course challenge with its button on the course page.")
        return redirect(course.get_absolute_url())
    path_goal = _started_from_path(request)
    try:
        attempt = course_challenge_start(learner=request.user, course=course, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        if path_goal is not None:
            return redirect("insights:path", goal_id=path_goal.pk)
        return redirect(course.get_absolute_url())
    return _to_attempt(request, attempt, path_goal)


def _started_from_path(request: HttpRequest) -> LearningGoal | None:
    """The learner's goal whose path page offered this check or challenge ("Check Python
    first?", "Test out first?"), from the form's ``goal``: its result leads back there.
    A goal id that is not the learner's is a 404; one that is no number, a 400."""
    goal_id = request.POST.get("goal", "")
    if not goal_id:
        return None
    if not goal_id.isdigit():
        raise BadRequest("The goal to return to must be a goal id.")
    return get_object_or_404(goals_for(user=request.user), pk=goal_id)


def _to_attempt(
    request: HttpRequest, attempt: AssessmentAttempt, path_goal: LearningGoal | None = None
) -> HttpResponse:
    """To the attempt just started; an adaptive one is remembered in the session, so the
    dashboard can offer to continue it if the learner leaves half-way (no query on the
    dashboard otherwise), and so is the path page that started it, if one did."""
    if attempt.is_adaptive:
        request.session[ADAPTIVE_ATTEMPT_SESSION_KEY] = attempt.pk
    if path_goal is not None:
        request.session[STARTED_FROM_PATH_SESSION_KEY] = {
            "attempt": attempt.pk,
            "goal": path_goal.pk,
        }
    return redirect("assessments:attempt", attempt_id=attempt.pk)


def _result(request: HttpRequest, attempt: AssessmentAttempt) -> HttpResponse:
    breakdown = breakdown_rows(breakdown=attempt.skill_breakdown)
    is_diagnostic = attempt.assessment.kind == Assessment.Kind.DIAGNOSTIC
    # A course challenge asks only about the skills not shown when it starts: name those it
    # did not ask about, and those it still has to see (walk14: a bare "Not yet").
    challenge_not_asked = (
        [
            skill.name
            for skill in attempt.assessment.course.skills.order_by("name")
            if skill.slug not in attempt.skill_breakdown
        ]
        if attempt.assessment.kind == Assessment.Kind.COURSE_CHALLENGE
        and attempt.assessment.course_id
        else []
    )
    return render(
        request,
        "assessments/attempt_result.html",
        {
            "attempt": attempt,
            "assessment": attempt.assessment,
            "reviews": attempt_review(attempt=attempt),
            "answers_shown": answers_visible(attempt=attempt),
            "answers_shown_when": answers_shown_when(attempt.assessment),
            "breakdown": breakdown,
            "challenge_not_asked": challenge_not_asked,
            "challenge_still_to_show": [row.name for row in breakdown if not row.confirmed],
            "counts": attempt_answer_counts(breakdown=attempt.skill_breakdown),
            "goal_gaps": _goal_gaps(request.user) if is_diagnostic else [],
            "path_goal": _path_goal(request, attempt),
        },
    )


def _path_goal(request: HttpRequest, attempt: AssessmentAttempt) -> LearningGoal | None:
    """The goal whose path page started this skill check or course challenge, if one did
    (still the learner's own: a goal deleted since leaves today's links)."""
    started = request.session.get(STARTED_FROM_PATH_SESSION_KEY) or {}
    if started.get("attempt") != attempt.pk:
        return None
    return goals_for(user=request.user).filter(pk=started["goal"]).first()


def _goal_gaps(user: User) -> list[tuple[LearningGoal, list[TargetProgress]]]:
    """Each active goal with its target skills' level, state and whether it is reached."""
    goals = list(goals_for(user=user).filter(status="active"))
    return goal_targets(learner=user, goals=goals, now=timezone.now())

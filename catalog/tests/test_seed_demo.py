from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from assessments.models import Answer, Assessment, AssessmentAttempt, Choice, Question
from catalog.demo_seed import seed_demo, seed_scale
from catalog.models import Course, Lesson, Skill
from catalog.services import course_prerequisites_validate, lesson_prerequisites_validate
from insights.models import LearnerSkillState
from insights.skills import level_from_mastery
from learning.models import Enrollment, LearnerEvent, LearningGoal, LessonProgress

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
MODELS = (
    User,
    Skill,
    Course,
    Lesson,
    Assessment,
    Question,
    Choice,
    AssessmentAttempt,
    Answer,
    Enrollment,
    LessonProgress,
    LearnerEvent,
    LearningGoal,
    LearnerSkillState,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seed_demo_builds_the_world_and_a_second_run_adds_nothing():
    first = seed_demo(now=NOW)
    after_first = counts()

    second = seed_demo(now=NOW + timedelta(hours=3))

    assert counts() == after_first
    assert second.created == {}
    assert first.created["skills"] == 12
    assert first.created["courses"] == 6
    assert after_first["Lesson"] == 24


def test_demo_accounts_log_in_with_the_printed_passwords(client):
    seed_demo(now=NOW)

    learner = User.objects.get(email="learner@skillstudio.test")
    instructor = User.objects.get(email="instructor@skillstudio.test")
    admin = User.objects.get(email="admin@skillstudio.test")
    assert learner.check_password("learnpass123") and learner.role == "learner"
    assert instructor.check_password("teachpass123") and instructor.is_staff
    assert admin.check_password("adminpass123") and admin.is_superuser
    assert client.login(username="instructor@skillstudio.test", password="teachpass123")
    assert client.get("/admin/catalog/course/").status_code == 200


def test_demo_content_is_complete_and_gradable():
    seed_demo(now=NOW)

    kinds = set(Question.objects.values_list("kind", flat=True))
    assert kinds == set(Question.Kind.values)
    assert not Question.objects.filter(explanation="").exists()
    for question in Question.objects.filter(kind__in=Question.CHOICE_KINDS):
        correct = question.choices.filter(is_correct=True).count()
        assert correct == 1 or question.kind == Question.Kind.MULTIPLE_CHOICE, question.prompt
        assert correct >= 1
    assert not Question.objects.filter(kind="short_text", accepted_answers=[]).exists()
    assert Question.objects.filter(kind="numeric", numeric_tolerance__gt=0).exists()
    diagnostic = Assessment.objects.get(kind=Assessment.Kind.DIAGNOSTIC)
    assert set(diagnostic.questions.values_list("skill__slug", flat=True)) == set(
        Skill.objects.values_list("slug", flat=True)
    )
    assert Course.objects.published().count() == 6
    assert all(lesson.body.startswith("## ") for lesson in Lesson.objects.all())
    assert Lesson.objects.exclude(video_url="").filter(content_type="video").count() == 6


def test_demo_prerequisites_form_a_graph_without_cycles():
    seed_demo(now=NOW)

    flask = Course.objects.get(slug="python-backend-flask")
    assert set(flask.prerequisites.values_list("slug", flat=True)) == {
        "python-fundamentals",
        "sql-and-postgresql",
    }
    for course in Course.objects.all():
        course_prerequisites_validate(course=course, prerequisites=course.prerequisites.all())
    for lesson in Lesson.objects.filter(prerequisites__isnull=False).distinct():
        lesson_prerequisites_validate(lesson=lesson, prerequisites=lesson.prerequisites.all())


def test_demo_learner_has_a_consistent_recent_history():
    seed_demo(now=NOW)
    learner = User.objects.get(email="learner@skillstudio.test")

    enrollments = {e.course.slug: e for e in Enrollment.objects.filter(learner=learner)}
    assert enrollments["python-fundamentals"].status == Enrollment.Status.COMPLETED
    assert enrollments["python-fundamentals"].progress_percent == 100
    # 2 of the Flask course's 4 lessons completed.
    assert enrollments["python-backend-flask"].progress_percent == 50
    attempts = AssessmentAttempt.objects.filter(learner=learner)
    assert attempts.count() == 4
    assert not attempts.filter(submitted_at__isnull=True).exists()
    sql_quiz = attempts.get(assessment__title="SQL and PostgreSQL quiz")
    # One of four questions right.
    assert (sql_quiz.score, sql_quiz.passed) == (25, False)
    assert sql_quiz.answers.filter(is_correct=True).count() == 1
    # The skill model replayed the attempts: the result page has its breakdown.
    assert sql_quiz.skill_breakdown["sql"]["questions"] == 3
    assert sql_quiz.skill_breakdown["sql"]["correct"] == 1
    assert not attempts.filter(skills_processed_at__isnull=True).exists()
    events = LearnerEvent.objects.filter(learner=learner)
    assert events.filter(occurred_at__gt=NOW).count() == 0
    assert events.filter(occurred_at__gte=NOW - timedelta(days=7)).exists()
    assert events.filter(occurred_at__lt=NOW - timedelta(days=28)).exists()
    goal = LearningGoal.objects.get(learner=learner)
    assert goal.target_skills.get(skill__slug="flask").target_level == 7
    levels = learner.profile.skill_levels
    # SQL: 2 of 6 answers right across the diagnostic and the SQL quiz -> weak.
    assert levels["sql"] < levels["python"]


def test_scale_mode_tops_up_and_is_idempotent():
    seed_demo(now=NOW)
    lines: list[str] = []

    first = seed_scale(now=NOW, learners=5, courses=2, events=40, answers=12, log=lines.append)
    before = counts()
    second = seed_scale(now=NOW, learners=5, courses=2, events=40, answers=12, log=lines.append)

    assert (first.created["learners"], first.created["courses"]) == (5, 2)
    assert first.created["events"] == 40
    assert first.created["answers"] == 12
    assert second.created == {}
    assert counts() == before
    scale_learners = User.objects.filter(email__endswith="@scale.skillstudio.test")
    assert scale_learners.count() == 5
    assert LearnerEvent.objects.filter(learner__in=scale_learners).count() == 40
    assert not LearnerEvent.objects.filter(learner__in=scale_learners, occurred_at__gt=NOW).exists()
    assert Answer.objects.filter(attempt__learner__in=scale_learners).count() == 12
    # Every answering learner has skill states and a mirrored profile level.
    answering = scale_learners.filter(assessment_attempts__isnull=False).distinct()
    for learner in answering:
        states = LearnerSkillState.objects.filter(learner=learner)
        assert states.exists()
        assert learner.profile.skill_levels == {s.skill.slug: s.level for s in states}
        assert all(s.level == level_from_mastery(s.mastery) for s in states)
    assert any(line.endswith("events: 40/40") for line in lines)


def test_scale_events_use_only_the_learners_enrolled_courses():
    seed_demo(now=NOW)

    seed_scale(now=NOW, learners=3, courses=2, events=30, answers=0, log=lambda _: None)

    for event in LearnerEvent.objects.filter(learner__email__endswith="scale.skillstudio.test"):
        assert Enrollment.objects.filter(learner=event.learner_id, course=event.course_id).exists()


def test_command_prints_accounts_and_rejects_bad_options():
    out = StringIO()
    call_command("seed_demo", "--cohort", "0", stdout=out)
    assert "instructor@skillstudio.test" in out.getvalue()
    assert "teachpass123" in out.getvalue()

    with pytest.raises(CommandError, match="--events and --answers are generated for --learners"):
        call_command("seed_demo", "--events", "10", stdout=StringIO())
    with pytest.raises(CommandError, match="is negative"):
        call_command("seed_demo", "--learners", "-3", stdout=StringIO())

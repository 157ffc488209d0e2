"""Build the demo world (`seed_demo`) and optional scale data.

Both are idempotent: the demo world is looked up by natural keys (emails,
slugs, titles, orders) before anything is created, and the demo learner's
history is written only for a learner who has none. Scale data is topped up
to the requested numbers: a second run with the same numbers adds nothing.
Everything is dated relative to one injected ``now``.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from accounts.models import LearnerProfile, User
from assessments.models import Answer, Assessment, AssessmentAttempt, Choice, Question
from catalog import demo_content
from catalog.models import Course, Lesson, Module, Skill
from catalog.search import catalog_index
from catalog.services import course_prerequisites_set, lesson_prerequisites_set
from insights.models import LearnerSkillState
from insights.sim.driver import response_for
from insights.skills import recompute_learner_skills
from learning.models import Enrollment, GoalSkill, LearnerEvent, LearningGoal, LessonProgress
from learning.partitions import ensure_month_partition, month_start, next_month
from skillstudio.chunks import chunked
from skillstudio.devstack import DEMO_ACCOUNTS

Log = Callable[[str], None]

SCALE_EMAIL_DOMAIN = "scale.skillstudio.test"
SCALE_COURSE_PREFIX = "scale-course-"
SCALE_PASSWORD = "learnpass123"  # noqa: S105 - published demo credential, like DEMO_ACCOUNTS
SCALE_EVENT_DAYS = 90
# Identifies demo events, so their ids are stable for a given story position.
EVENT_NAMESPACE = uuid.UUID("3f0c9a52-6a55-4f3e-9d0e-5f9b1c2d7e11")


@dataclass
class SeedSummary:
    created: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, count: int = 1) -> None:
        if count:
            self.created[name] = self.created.get(name, 0) + count

    def text(self) -> str:
        if not self.created:
            return "nothing new (already seeded)"
        return ", ".join(f"{n} {name}" for name, n in sorted(self.created.items()))


# --------------------------------------------------------------------- demo world


@transaction.atomic
def seed_demo(*, now: datetime) -> SeedSummary:
    summary = SeedSummary()
    users = _seed_accounts(summary)
    skills = _seed_skills(summary)
    lessons = _seed_courses(
        summary, owner=users["instructor"], skills=skills, published_at=now - timedelta(days=90)
    )
    _seed_assessments(summary, owner=users["instructor"], skills=skills)
    # Search data for the demo content now, not via the outbox: the site is searchable at once.
    indexed, _ = catalog_index(only_missing=True)
    summary.add("lessons indexed for search", indexed)
    learner = users["learner"]
    if not Enrollment.objects.filter(learner=learner).exists():
        _seed_learner_history(summary, learner=learner, skills=skills, lessons=lessons, now=now)
        # The real skill model replays the demo attempts: breakdowns, levels, gaps.
        recompute_learner_skills(learner=learner, now=now)
    return summary


def _seed_accounts(summary: SeedSummary) -> dict[str, User]:
    users: dict[str, User] = {}
    for role, email, password in DEMO_ACCOUNTS:
        user = User.objects.filter(email=email).first()
        if user is None:
            names = {
                "learner": "Lea Learner",
                "instructor": "Ivan Instructor",
                "admin": "Ada Admin",
            }
            if role == "admin":
                user = User.objects.create_superuser(email, password, full_name=names[role])
            else:
                user = User.objects.create_user(email, password, full_name=names[role], role=role)
            summary.add("users")
        users[role] = user
    return users


def _seed_skills(summary: SeedSummary) -> dict[str, Skill]:
    skills = {}
    for spec in demo_content.load().skills:
        skill, created = Skill.objects.get_or_create(
            slug=spec.slug, defaults={"name": spec.name, "description": spec.description}
        )
        summary.add("skills", created)
        skills[spec.slug] = skill
    return skills


def _seed_courses(
    summary: SeedSummary, *, owner: User, skills: dict[str, Skill], published_at: datetime
) -> dict[str, Lesson]:
    """Create courses, modules and lessons; returns lessons by content key."""
    specs = demo_content.load().courses
    courses: dict[str, tuple[Course, bool]] = {}
    lessons: dict[str, tuple[Lesson, bool, list[str]]] = {}
    for spec in specs:
        course, created = Course.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "title": spec.title,
                "description": spec.description,
                "difficulty": spec.difficulty,
                "estimated_hours": spec.estimated_hours,
                "owner": owner,
                "status": Course.Status.PUBLISHED,
                "published_at": published_at,
            },
        )
        summary.add("courses", created)
        if created:
            course.skills.set(skills[s] for s in spec.skills)
        courses[spec.slug] = (course, created)
        for module_order, module_spec in enumerate(spec.modules, start=1):
            module, created = Module.objects.get_or_create(
                course=course, order=module_order, defaults={"title": module_spec.title}
            )
            summary.add("modules", created)
            for lesson_order, ls in enumerate(module_spec.lessons, start=1):
                lesson, created = Lesson.objects.get_or_create(
                    module=module,
                    order=lesson_order,
                    defaults={
                        "title": ls.title,
                        "content_type": ls.content_type,
                        "body": ls.body,
                        "video_url": ls.video_url,
                        "estimated_minutes": ls.minutes,
                        "difficulty": ls.difficulty,
                    },
                )
                summary.add("lessons", created)
                if created:
                    lesson.skills.set(skills[s] for s in ls.skills)
                lessons[ls.key] = (lesson, created, ls.prerequisites)
    # Prerequisites go through the same cycle check as the admin and the API.
    for spec in specs:
        course, created = courses[spec.slug]
        if created and spec.prerequisites:
            course_prerequisites_set(
                course=course, prerequisites=[courses[s][0] for s in spec.prerequisites]
            )
    for lesson, created, prerequisite_keys in lessons.values():
        if created and prerequisite_keys:
            lesson_prerequisites_set(
                lesson=lesson, prerequisites=[lessons[k][0] for k in prerequisite_keys]
            )
    return {key: lesson for key, (lesson, _, _) in lessons.items()}


def _seed_assessments(summary: SeedSummary, *, owner: User, skills: dict[str, Skill]) -> None:
    content = demo_content.load()
    courses = {c.slug: c for c in Course.objects.filter(owner=owner)}
    specs = [(content.diagnostic, Assessment.Kind.DIAGNOSTIC, None)] + [
        (spec.quiz, Assessment.Kind.QUIZ, courses[spec.slug]) for spec in content.courses
    ]
    if content.question_bank is not None:
        specs.append((content.question_bank, Assessment.Kind.QUIZ, None))
    for spec, kind, course in specs:
        assessment, created = Assessment.objects.get_or_create(
            title=spec.title,
            owner=owner,
            defaults={
                "kind": kind,
                "course": course,
                "description": spec.description,
                "passing_score": spec.passing_score,
                "time_limit_minutes": 20 if kind == Assessment.Kind.DIAGNOSTIC else None,
                "is_published": True,
                "is_adaptive": spec.adaptive,
            },
        )
        summary.add("assessments", created)
        for order, qs in enumerate(spec.questions, start=1):
            question, created = Question.objects.get_or_create(
                assessment=assessment,
                order=order,
                defaults={
                    "kind": qs.kind,
                    "prompt": qs.prompt,
                    "skill": skills[qs.skill],
                    "difficulty": qs.difficulty,
                    "points": qs.points,
                    "explanation": qs.explanation,
                    "numeric_answer": qs.answer,
                    "numeric_tolerance": qs.tolerance,
                    "accepted_answers": qs.accepted,
                },
            )
            summary.add("questions", created)
            if created and qs.choices:
                Choice.objects.bulk_create(
                    Choice(question=question, text=text, is_correct=correct, order=i)
                    for i, (text, correct) in enumerate(qs.choices, start=1)
                )
                summary.add("choices", len(qs.choices))


def _seed_learner_history(
    summary: SeedSummary,
    *,
    learner: User,
    skills: dict[str, Skill],
    lessons: dict[str, Lesson],
    now: datetime,
) -> None:
    rng = random.Random(7)  # the same story every time
    profile = LearnerProfile.objects.get(user=learner)
    profile.timezone = "Europe/London"
    profile.preferences = {
        "weekly_hours": demo_content.DEMO_GOAL["weekly_hours"],
        "content_types": ["text", "exercise"],
        "study_days": ["mon", "wed", "thu"],
    }
    profile.onboarded_at = now - timedelta(days=42)
    profile.save()

    goal = LearningGoal.objects.create(
        learner=learner,
        title=demo_content.DEMO_GOAL["title"],
        weekly_hours=demo_content.DEMO_GOAL["weekly_hours"],
        deadline=(now + timedelta(days=demo_content.DEMO_GOAL["deadline_days"])).date(),
    )
    GoalSkill.objects.bulk_create(
        GoalSkill(goal=goal, skill=skills[slug], target_level=level)
        for slug, level in demo_content.DEMO_GOAL["targets"].items()
    )
    summary.add("goals")

    events: list[LearnerEvent] = []

    def event(kind: str, at: datetime, **fields: Any) -> None:
        events.append(
            LearnerEvent(
                event_id=uuid.uuid5(EVENT_NAMESPACE, f"{learner.pk}-{len(events)}"),
                learner=learner,
                event_type=kind,
                occurred_at=at,
                received_at=at + timedelta(seconds=1),
                **fields,
            )
        )

    by_slug = {c.slug: c for c in Course.objects.filter(slug__in=demo_content.DEMO_ENROLLMENTS)}
    for slug, plan in demo_content.DEMO_ENROLLMENTS.items():
        course = by_slug[slug]
        course_lessons = list(
            Lesson.objects.filter(module__course=course).order_by("module__order", "order")
        )
        enrolled_at = now - timedelta(days=plan["days_ago"])
        done = plan["completed_lessons"]
        started = plan.get("started_lessons", 0)
        complete = done == len(course_lessons)
        Enrollment.objects.create(
            learner=learner,
            course=course,
            enrolled_at=enrolled_at,
            status=Enrollment.Status.COMPLETED if complete else Enrollment.Status.ACTIVE,
            completed_at=enrolled_at + timedelta(days=done * 2) if complete else None,
            progress_percent=Decimal(100 * done / len(course_lessons)).quantize(Decimal("0.01")),
        )
        summary.add("enrollments")
        for index, lesson in enumerate(course_lessons[: done + started]):
            # Evenings around 19:00-21:00 UTC, two days apart: the learner's rhythm.
            day = (enrolled_at + timedelta(days=2 * index)).replace(
                hour=rng.choice((19, 20)), minute=rng.randrange(60), second=0, microsecond=0
            )
            day = min(day, now - timedelta(hours=1))
            finished = index < done
            spent = lesson.estimated_minutes * 60 + rng.randrange(-300, 600)
            LessonProgress.objects.create(
                learner=learner,
                lesson=lesson,
                status=LessonProgress.Status.COMPLETED
                if finished
                else LessonProgress.Status.IN_PROGRESS,
                started_at=day,
                completed_at=day + timedelta(seconds=spent) if finished else None,
                time_spent_seconds=spent if finished else spent // 2,
                last_position_seconds=spent // 2 if lesson.video_url and not finished else 0,
            )
            summary.add("lesson progress")
            ids = {"course_id": course.pk, "lesson_id": lesson.pk}
            event(LearnerEvent.Type.LESSON_VIEWED, day, **ids)
            event(LearnerEvent.Type.LESSON_STARTED, day + timedelta(seconds=5), **ids)
            if lesson.video_url:
                event(LearnerEvent.Type.VIDEO_PLAY, day + timedelta(seconds=20), **ids)
                event(
                    LearnerEvent.Type.VIDEO_PAUSE,
                    day + timedelta(seconds=spent // 3),
                    data={"position": spent // 3},
                    **ids,
                )
            for beat in range(1, (spent if finished else spent // 2) // 60, 5):
                event(LearnerEvent.Type.HEARTBEAT, day + timedelta(minutes=beat), **ids)
            if finished:
                event(LearnerEvent.Type.LESSON_COMPLETED, day + timedelta(seconds=spent), **ids)

    for plan in demo_content.DEMO_ATTEMPTS:
        assessment = Assessment.objects.get(title=plan["assessment"])
        started_at = (now - timedelta(days=plan["days_ago"])).replace(
            hour=20, minute=5, second=0, microsecond=0
        )
        questions = list(assessment.questions.prefetch_related("choices").order_by("order"))
        attempt = AssessmentAttempt.objects.create(
            learner=learner, assessment=assessment, started_at=started_at
        )
        answers, earned, possible, per_skill = [], 0, 0, {}
        for index, question in enumerate(questions):
            correct = index in plan["correct"]
            earned += question.points if correct else 0
            possible += question.points
            tally = per_skill.setdefault(question.skill_id, [0, 0])
            tally[0] += 1
            tally[1] += correct
            answers.append(
                Answer(
                    attempt=attempt,
                    question=question,
                    response=response_for(question, question.choices.all(), correct=correct),
                    is_correct=correct,
                    points_awarded=question.points if correct else 0,
                    seconds_spent=rng.randrange(20, 120),
                    answered_at=started_at + timedelta(minutes=index + 1),
                )
            )
        Answer.objects.bulk_create(answers)
        attempt.submitted_at = started_at + timedelta(minutes=len(questions) + 2)
        attempt.score = Decimal(100 * earned / possible).quantize(Decimal("0.01"))
        attempt.passed = attempt.score >= assessment.passing_score
        attempt.save()
        summary.add("attempts")
        summary.add("answers", len(answers))
        ids = {"assessment_id": assessment.pk, "course_id": assessment.course_id}
        event(LearnerEvent.Type.QUIZ_STARTED, started_at, **ids)
        event(
            LearnerEvent.Type.QUIZ_SUBMITTED,
            attempt.submitted_at,
            data={"score": float(attempt.score)},
            **ids,
        )
    LearnerEvent.objects.bulk_create(events, ignore_conflicts=True)
    summary.add("events", len(events))


def derive_skill_states(*, learner_ids: Sequence[int], now: datetime) -> None:
    """Starting skill states for many scale learners, in two set-based statements.

    Replaying thousands of learners answer by answer through the skill model
    (``recompute_skills``) is the exact path but takes minutes; this gives each
    learner the Laplace-smoothed share of correct answers per skill as mastery,
    with levels mapped as ``insights.skills.level_from_mastery`` does. Operators
    can run ``manage.py recompute_skills`` afterwards for knowledge-tracing
    estimates.
    """
    state = LearnerSkillState._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {state} (learner_id, skill_id, mastery, level, evidence_count,
                                 correct_count, distinct_questions, last_practiced_at,
                                 created_at, updated_at)
            SELECT s.learner_id, s.skill_id, s.mastery,
                   LEAST(10, 1 + FLOOR(ROUND(10 * s.mastery, 9)))::int,
                   s.n, s.k, s.d, s.last_at, %(now)s, %(now)s
            FROM (
                SELECT t.learner_id, q.skill_id, count(*) AS n,
                       count(DISTINCT a.question_id) AS d,
                       sum(a.is_correct::int) AS k, max(a.answered_at) AS last_at,
                       (sum(a.is_correct::int) + 1.0) / (count(*) + 2) AS mastery
                FROM {Answer._meta.db_table} a
                JOIN {AssessmentAttempt._meta.db_table} t ON t.id = a.attempt_id
                JOIN {Question._meta.db_table} q ON q.id = a.question_id
                WHERE t.learner_id = ANY(%(ids)s) AND t.submitted_at IS NOT NULL
                GROUP BY t.learner_id, q.skill_id
            ) s
            ON CONFLICT (learner_id, skill_id) DO UPDATE SET
                mastery = EXCLUDED.mastery, level = EXCLUDED.level,
                evidence_count = EXCLUDED.evidence_count,
                correct_count = EXCLUDED.correct_count,
                distinct_questions = EXCLUDED.distinct_questions,
                last_practiced_at = EXCLUDED.last_practiced_at, updated_at = EXCLUDED.updated_at
            """,  # noqa: S608 - table names come from model metadata
            {"ids": list(learner_ids), "now": now},
        )
        cursor.execute(
            f"""
            UPDATE {LearnerProfile._meta.db_table} p
            SET skill_levels = levels.map, updated_at = %(now)s
            FROM (
                SELECT st.learner_id, jsonb_object_agg(sk.slug, st.level) AS map
                FROM {state} st JOIN {Skill._meta.db_table} sk ON sk.id = st.skill_id
                WHERE st.learner_id = ANY(%(ids)s)
                GROUP BY st.learner_id
            ) levels
            WHERE p.user_id = levels.learner_id
            """,  # noqa: S608 - table names come from model metadata
            {"ids": list(learner_ids), "now": now},
        )


# --------------------------------------------------------------------- scale data


@dataclass(frozen=True)
class CourseShape:
    course_id: int
    lesson_ids: list[int]
    # (question id, points, correct response, wrong response) of the course quiz
    quiz_id: int | None
    questions: list[tuple[int, int, str, str]]


EVENT_WEIGHTS = {
    LearnerEvent.Type.HEARTBEAT: 40,
    LearnerEvent.Type.LESSON_VIEWED: 18,
    LearnerEvent.Type.LESSON_STARTED: 8,
    LearnerEvent.Type.LESSON_COMPLETED: 6,
    LearnerEvent.Type.VIDEO_PLAY: 8,
    LearnerEvent.Type.VIDEO_PAUSE: 6,
    LearnerEvent.Type.VIDEO_SEEK: 3,
    LearnerEvent.Type.QUIZ_STARTED: 3,
    LearnerEvent.Type.QUIZ_SUBMITTED: 3,
    LearnerEvent.Type.PAGE_VIEWED: 5,
}
VIDEO_EVENTS = {"video_play", "video_pause", "video_seek"}
BATCH = 5000


@transaction.atomic
def seed_scale(
    *, now: datetime, learners: int, courses: int, events: int, answers: int, log: Log
) -> SeedSummary:
    """Top scale data up to ``learners`` learners and ``courses`` courses.

    Events and answers are generated for the learners this run creates, so a
    rerun with the same numbers adds nothing. Set-based writes throughout:
    bulk_create for rows whose ids are needed, COPY for the big tables.
    """
    summary = SeedSummary()
    rng = random.Random(20261124)
    started = time.monotonic()

    def progress(message: str) -> None:
        log(f"[{time.monotonic() - started:6.1f}s] {message}")

    owner = User.objects.get(email={r: e for r, e, _ in DEMO_ACCOUNTS}["instructor"])
    _scale_courses(summary, owner=owner, target=courses, now=now, rng=rng, progress=progress)
    pool = _course_pool()
    new_learners = _scale_learners(summary, target=learners, rng=rng, progress=progress)
    if not new_learners:
        progress(f"scale learners: {learners} requested, all exist; no events or answers added")
        return summary
    if not pool:
        raise ValueError("No published course to enroll scale learners in: seed courses first.")
    with _foreign_keys_checked_once(BULK_TABLES, progress=progress):
        plan = _scale_enrollments(summary, learner_ids=new_learners, pool=pool, now=now, rng=rng)
        progress(f"enrollments: {summary.created.get('enrollments', 0):,} rows")
        if events:
            _scale_events(summary, plan=plan, total=events, now=now, rng=rng, progress=progress)
        if answers:
            _scale_answers(summary, plan=plan, total=answers, now=now, rng=rng, progress=progress)
    if answers:
        for chunk in chunked(new_learners, 5000):
            derive_skill_states(learner_ids=chunk, now=now)
        progress("skill states derived from answers")
    with connection.cursor() as cursor:
        # Fresh statistics so the first queries against the new rows plan well.
        for model in (LearnerEvent, Answer, AssessmentAttempt, Enrollment, LessonProgress):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    progress("done")
    return summary


# The tables the scale seed bulk-loads (COPY and bulk_create), with the events' rollups.
BULK_TABLES = (
    "learning_enrollment",
    "learning_lessonprogress",
    "learning_learnerevent",
    "learning_learneractivitybucket",
    "assessments_assessmentattempt",
    "assessments_answer",
)


@contextmanager
def _foreign_keys_checked_once(tables: Sequence[str], *, progress: Log) -> Iterator[None]:
    """Load ``tables`` without their foreign keys, then add the keys back with the same
    names and definitions, in the caller's transaction (nothing is ever committed without
    them). A key in place checks each inserted row on its own: deferred, as Django declares
    them, that is one lookup per row at COMMIT (tens of millions at 10x, minutes); adding
    the key back checks every row in one set-based scan per table. Call it before anything
    is inserted into these tables in the transaction."""
    with connection.cursor() as cursor:
        # Run the checks still pending for earlier rows of the transaction (courses, users):
        # a table with pending checks cannot be altered, and a key's triggers live on both
        # of its tables.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conparentid = 0 "
            "AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
            [list(tables)],
        )
        keys = cursor.fetchall()
        for table, name, _ in keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    yield
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    progress(f"foreign keys checked: {len(keys)} on {len(tables)} tables")


# The columns of a learner event row as the bulk loaders write it (here and bench.workloads).
EVENT_COLUMNS = (
    "event_id",
    "occurred_at",
    "learner_id",
    "event_type",
    "course_id",
    "lesson_id",
    "assessment_id",
    "received_at",
    "data",
)


def _copy(model: type, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    table = model._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _scale_courses(
    summary: SeedSummary,
    *,
    owner: User,
    target: int,
    now: datetime,
    rng: random.Random,
    progress: Log,
) -> None:
    existing = Course.objects.filter(slug__startswith=SCALE_COURSE_PREFIX).count()
    if existing >= target:
        return
    skills = list(Skill.objects.order_by("slug"))
    difficulties = ["beginner", "intermediate", "advanced"]
    new_courses, course_skills = [], []
    for number in range(existing + 1, target + 1):
        chosen = rng.sample(skills, k=min(3, len(skills)))
        new_courses.append(
            Course(
                slug=f"{SCALE_COURSE_PREFIX}{number:05d}",
                title=f"{' & '.join(s.name for s in chosen)} workshop {number}",
                description=f"Hands-on practice in {', '.join(s.name for s in chosen)}.",
                difficulty=rng.choice(difficulties),
                estimated_hours=rng.randrange(4, 30),
                owner=owner,
                status=Course.Status.PUBLISHED,
                published_at=now - timedelta(days=120),
            )
        )
        course_skills.append(chosen)
    Course.objects.bulk_create(new_courses, batch_size=BATCH)
    Course.skills.through.objects.bulk_create(
        Course.skills.through(course_id=c.pk, skill_id=s.pk)
        for c, chosen in zip(new_courses, course_skills, strict=True)
        for s in chosen
    )
    modules = [
        Module(course=c, order=order, title=f"Part {order}")
        for c in new_courses
        for order in (1, 2, 3)
    ]
    Module.objects.bulk_create(modules, batch_size=BATCH)
    skill_of = {c.pk: chosen for c, chosen in zip(new_courses, course_skills, strict=True)}
    lessons, lesson_skills = [], []
    for module in modules:
        for order in (1, 2, 3, 4):
            skill = rng.choice(skill_of[module.course_id])
            kind = rng.choice(["text", "text", "video", "exercise"])
            lessons.append(
                Lesson(
                    module=module,
                    order=order,
                    title=f"{skill.name} practice {module.order}.{order}",
                    content_type=kind,
                    body=f"## {skill.name}, step {order}\n\n{skill.description}\n\n"
                    f"Work through the example, then explain it in your own words.",
                    video_url=f"https://videos.skillstudio.test/scale/{module.pk}-{order}.mp4"
                    if kind == "video"
                    else "",
                    estimated_minutes=rng.choice([10, 15, 20, 30, 45]),
                    difficulty=module.course.difficulty,
                )
            )
            lesson_skills.append(skill)
    Lesson.objects.bulk_create(lessons, batch_size=BATCH)
    Lesson.skills.through.objects.bulk_create(
        (
            Lesson.skills.through(lesson_id=lesson.pk, skill_id=skill.pk)
            for lesson, skill in zip(lessons, lesson_skills, strict=True)
        ),
        batch_size=BATCH,
    )
    quizzes = [
        Assessment(
            title=f"{c.title} quiz",
            kind=Assessment.Kind.QUIZ,
            course=c,
            owner=owner,
            passing_score=60,
            is_published=True,
        )
        for c in new_courses
    ]
    Assessment.objects.bulk_create(quizzes, batch_size=BATCH)
    questions = []
    for quiz, course in zip(quizzes, new_courses, strict=True):
        for order in range(1, 6):
            skill = rng.choice(skill_of[course.pk])
            questions.append(
                Question(
                    assessment=quiz,
                    order=order,
                    kind=Question.Kind.SINGLE_CHOICE,
                    prompt=f"Which statement about {skill.name} is accurate? ({order})",
                    skill=skill,
                    difficulty=course.difficulty,
                    explanation=skill.description,
                )
            )
    Question.objects.bulk_create(questions, batch_size=BATCH)
    Choice.objects.bulk_create(
        (
            Choice(question=q, text=text, is_correct=correct, order=i)
            for q in questions
            for i, (text, correct) in enumerate(
                [("The accurate statement", True), ("A near miss", False), ("A myth", False)],
                start=1,
            )
        ),
        batch_size=BATCH,
    )
    summary.add("courses", len(new_courses))
    summary.add("lessons", len(lessons))
    summary.add("questions", len(questions))
    progress(
        f"courses: {len(new_courses)} new ({len(lessons)} lessons, {len(questions)} questions)"
    )


def _course_pool() -> list[CourseShape]:
    """Scale learners study the scale courses, or the demo courses when there are none."""
    courses = Course.objects.published()
    if courses.filter(slug__startswith=SCALE_COURSE_PREFIX).exists():
        courses = courses.filter(slug__startswith=SCALE_COURSE_PREFIX)
    lessons: dict[int, list[int]] = {}
    for course_id, lesson_id in (
        Lesson.objects.filter(module__course__in=courses)
        .order_by("module__course_id", "module__order", "order")
        .values_list("module__course_id", "id")
    ):
        lessons.setdefault(course_id, []).append(lesson_id)
    quiz_of = dict(
        Assessment.objects.filter(course__in=courses, kind=Assessment.Kind.QUIZ, is_published=True)
        .order_by("course_id", "id")
        .values_list("course_id", "id")
    )
    choices: dict[int, dict[bool, int]] = {}
    for question_id, choice_id, correct in Choice.objects.filter(
        question__assessment_id__in=quiz_of.values()
    ).values_list("question_id", "id", "is_correct"):
        choices.setdefault(question_id, {}).setdefault(correct, choice_id)
    questions: dict[int, list[tuple[int, int, str, str]]] = {}
    for quiz_id, question_id, points in (
        Question.objects.filter(assessment_id__in=quiz_of.values(), kind__in=Question.CHOICE_KINDS)
        .order_by("assessment_id", "order")
        .values_list("assessment_id", "id", "points")
    ):
        pair = choices.get(question_id, {})
        if True in pair and False in pair:
            right = json.dumps({"choices": [pair[True]]})
            wrong = json.dumps({"choices": [pair[False]]})
            questions.setdefault(quiz_id, []).append((question_id, points, right, wrong))
    return [
        CourseShape(
            course_id=course_id,
            lesson_ids=lesson_ids,
            quiz_id=quiz_of.get(course_id),
            questions=questions.get(quiz_of.get(course_id), []),
        )
        for course_id, lesson_ids in lessons.items()
    ]


def _scale_learners(
    summary: SeedSummary, *, target: int, rng: random.Random, progress: Log
) -> list[int]:
    existing = User.objects.filter(email__endswith=f"@{SCALE_EMAIL_DOMAIN}").count()
    if existing >= target:
        return []
    # One hash for everyone: hashing 10,000 passwords would dominate the run.
    password = make_password(SCALE_PASSWORD)
    ids: list[int] = []
    timezones = ["UTC", "Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
    for start in range(existing, target, BATCH):
        users = [
            User(
                email=f"learner{number:06d}@{SCALE_EMAIL_DOMAIN}",
                full_name=f"Scale Learner {number}",
                role=User.Role.LEARNER,
                password=password,
            )
            for number in range(start, min(start + BATCH, target))
        ]
        User.objects.bulk_create(users)
        LearnerProfile.objects.bulk_create(
            LearnerProfile(
                user=user,
                timezone=rng.choice(timezones),
                preferences={"weekly_hours": rng.choice([2, 3, 5, 8, 10])},
            )
            for user in users
        )
        ids.extend(user.pk for user in users)
        progress(f"learners: {len(ids):,}/{target - existing:,} new")
    summary.add("learners", len(ids))
    return ids


@dataclass
class LearnerPlan:
    learner_id: int
    courses: list[CourseShape]
    ability: float  # chance of answering a question right


def _scale_enrollments(
    summary: SeedSummary,
    *,
    learner_ids: list[int],
    pool: list[CourseShape],
    now: datetime,
    rng: random.Random,
) -> list[LearnerPlan]:
    plans, enrollments, progress_rows = [], [], []
    for learner_id in learner_ids:
        chosen = rng.sample(pool, k=min(len(pool), rng.choice([1, 1, 2, 3])))
        plans.append(LearnerPlan(learner_id, chosen, ability=rng.uniform(0.35, 0.95)))
        for shape in chosen:
            enrolled_at = now - timedelta(days=rng.uniform(1, SCALE_EVENT_DAYS))
            done = rng.randrange(0, len(shape.lesson_ids) + 1)
            finished = done == len(shape.lesson_ids)
            finished_at = enrolled_at + (now - enrolled_at) * 0.9 if finished else None
            enrollments.append(
                (
                    learner_id,
                    shape.course_id,
                    "completed" if finished else "active",
                    enrolled_at,
                    finished_at,
                    round(100 * done / len(shape.lesson_ids), 2) if shape.lesson_ids else 0,
                    now,
                    now,
                )
            )
            span = (now - enrolled_at) / (done + 1)
            for index, lesson_id in enumerate(shape.lesson_ids[: done + 1]):
                began = enrolled_at + span * index
                completed = index < done
                spent = rng.randrange(300, 3000)
                progress_rows.append(
                    (
                        learner_id,
                        lesson_id,
                        "completed" if completed else "in_progress",
                        began,
                        began + timedelta(seconds=spent) if completed else None,
                        spent,
                        0,
                        now,
                        now,
                    )
                )
    count = _copy(
        Enrollment,
        (
            "learner_id",
            "course_id",
            "status",
            "enrolled_at",
            "completed_at",
            "progress_percent",
            "created_at",
            "updated_at",
        ),
        enrollments,
    )
    summary.add("enrollments", count)
    count = _copy(
        LessonProgress,
        (
            "learner_id",
            "lesson_id",
            "status",
            "started_at",
            "completed_at",
            "time_spent_seconds",
            "last_position_seconds",
            "created_at",
            "updated_at",
        ),
        progress_rows,
    )
    summary.add("lesson progress", count)
    return plans


# Rows per COPY statement of events: the rollup trigger aggregates each statement's rows
# (its transition table) at once, so bounded statements keep that work in memory.
EVENT_CHUNK = 200_000


def _scale_events(
    summary: SeedSummary,
    *,
    plan: list[LearnerPlan],
    total: int,
    now: datetime,
    rng: random.Random,
    progress: Log,
) -> None:
    """``total`` events spread at random over the learners (as many per learner as drawing
    a learner per event gives), types by ``EVENT_WEIGHTS``, times over the last
    SCALE_EVENT_DAYS.

    Written learner after learner, each learner's in time order, with event ids counting
    up from a random start: every index of the events (id, learner and time) and of their
    rollups (learner and quarter hour) then grows at its end. Rows drawn in random order
    made every one of those inserts land at a random place in indexes far larger than the
    buffer cache, which is what made the 10x seed slower than ten 1x seeds.
    """
    first = (now - timedelta(days=SCALE_EVENT_DAYS)).date()
    month = month_start(first)
    while month <= now.date():
        ensure_month_partition(month)
        month = next_month(month)
    types = list(EVENT_WEIGHTS)
    cumulative = list(itertools.accumulate(EVENT_WEIGHTS.values()))
    window = SCALE_EVENT_DAYS * 86400
    step = max(total // 10, 1)
    per_learner = [0] * len(plan)
    for start in range(0, total, BATCH):
        for index in rng.choices(range(len(plan)), k=min(BATCH, total - start)):
            per_learner[index] += 1
    # Unique across seed runs (a rerun tops up new learners); ascending within this one.
    first_id = uuid.uuid4().int >> 64 << 64

    def rows() -> Iterable[tuple]:
        done = 0
        for learner, count in zip(plan, per_learner, strict=True):
            kinds = rng.choices(types, cum_weights=cumulative, k=count)
            ages = sorted((rng.random() * window for _ in range(count)), reverse=True)
            for kind, age in zip(kinds, ages, strict=True):
                shape = learner.courses[rng.randrange(len(learner.courses))]
                occurred = now - timedelta(seconds=age)
                lesson_id = shape.lesson_ids[rng.randrange(len(shape.lesson_ids))]
                quiz = kind in ("quiz_started", "quiz_submitted")
                data = f'{{"position": {rng.randrange(1800)}}}' if kind in VIDEO_EVENTS else "{}"
                yield (
                    uuid.UUID(int=first_id + done),
                    occurred,
                    learner.learner_id,
                    kind,
                    shape.course_id,
                    None if quiz else lesson_id,
                    shape.quiz_id if quiz else None,
                    occurred + timedelta(seconds=1),
                    data,
                )
                done += 1
                if done % step == 0 or done == total:
                    progress(f"events: {done:,}/{total:,}")

    stream = rows()
    count = 0
    while chunk := list(itertools.islice(stream, EVENT_CHUNK)):
        count += _copy(LearnerEvent, EVENT_COLUMNS, chunk)
    summary.add("events", count)


def _scale_answers(
    summary: SeedSummary,
    *,
    plan: list[LearnerPlan],
    total: int,
    now: datetime,
    rng: random.Random,
    progress: Log,
) -> None:
    takers = [(p, s) for p in plan for s in p.courses if s.quiz_id and s.questions]
    if not takers:
        progress("answers: no quiz with gradable questions in the course pool; skipped")
        return
    written = 0
    while written < total:
        attempts, answer_sets = [], []
        while written < total and len(attempts) < BATCH:
            learner, shape = rng.choice(takers)
            started = now - timedelta(seconds=rng.random() * SCALE_EVENT_DAYS * 86400)
            chosen = shape.questions[: total - written]
            results = [rng.random() < learner.ability for _ in chosen]
            possible = sum(points for _, points, _, _ in chosen)
            earned = sum(
                points for (_, points, _, _), ok in zip(chosen, results, strict=True) if ok
            )
            score = Decimal(100 * earned / possible).quantize(Decimal("0.01"))
            attempts.append(
                AssessmentAttempt(
                    learner_id=learner.learner_id,
                    assessment_id=shape.quiz_id,
                    started_at=started,
                    submitted_at=started + timedelta(minutes=len(chosen) + 1),
                    score=score,
                    passed=score >= 60,
                )
            )
            answer_sets.append((started, chosen, results))
            written += len(chosen)
        AssessmentAttempt.objects.bulk_create(attempts)

        def rows(attempts=attempts, answer_sets=answer_sets) -> Iterable[tuple]:
            for attempt, (started, chosen, results) in zip(attempts, answer_sets, strict=True):
                for index, ((question_id, points, right, wrong), ok) in enumerate(
                    zip(chosen, results, strict=True)
                ):
                    yield (
                        attempt.pk,
                        question_id,
                        right if ok else wrong,
                        ok,
                        points if ok else 0,
                        rng.randrange(10, 180),
                        started + timedelta(minutes=index + 1),
                    )

        count = _copy(
            Answer,
            (
                "attempt_id",
                "question_id",
                "response",
                "is_correct",
                "points_awarded",
                "seconds_spent",
                "answered_at",
            ),
            rows(),
        )
        summary.add("attempts", len(attempts))
        summary.add("answers", count)
        progress(f"answers: {summary.created['answers']:,}/{total:,}")

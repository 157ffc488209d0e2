"""Load the Open University Learning Analytics Dataset (OULAD) into SkillStudio's own tables.

Mapping: a module (AAA…) becomes a Course, a presentation (2013J…) a CourseRun, a
registration an Enrollment of a synthetic learner `learner-<id_student>@oulad.invalid`,
an assessment an Assessment with due date and weight, a submission a submitted
AssessmentAttempt with its score. OULAD days are relative to the presentation start;
the dataset does not give calendar dates, so a "B" run starts on 1 February and a "J"
run on 1 October of its year (the published approximate start months).

Idempotent: rows are keyed by natural keys (course slug, run code, user email, assessment
external id, learner and run, learner and assessment) and only missing rows are inserted.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import LearnerProfile, User
from assessments.models import Assessment, AssessmentAttempt
from catalog.models import Course, CourseRun
from learning.models import Enrollment
from skillstudio.data_versions import catalog_changed

FILES = (
    "courses.csv",
    "assessments.csv",
    "studentInfo.csv",
    "studentRegistration.csv",
    "studentAssessment.csv",
)
EMAIL_DOMAIN = "oulad.invalid"
OWNER_EMAIL = f"oulad-instructor@{EMAIL_DOMAIN}"
BATCH = 5000
# studentInfo columns known at registration; final_result is the outcome and stays out.
REGISTRATION_FACTS = (
    "gender",
    "region",
    "highest_education",
    "imd_band",
    "age_band",
    "num_of_prev_attempts",
    "studied_credits",
    "disability",
)
RESULTS = {
    "Pass": Enrollment.FinalResult.PASS,
    "Distinction": Enrollment.FinalResult.DISTINCTION,
    "Fail": Enrollment.FinalResult.FAIL,
    "Withdrawn": Enrollment.FinalResult.WITHDRAWN,
}


class OuladError(Exception):
    """The directory does not hold a readable OULAD export."""


@dataclass
class ImportSummary:
    courses: int = 0
    runs: int = 0
    learners: int = 0
    assessments: int = 0
    enrollments: int = 0
    attempts: int = 0

    def __str__(self) -> str:
        return (
            f"created {self.courses} courses, {self.runs} runs, {self.learners} learners, "
            f"{self.assessments} assessments, {self.enrollments} enrollments, "
            f"{self.attempts} attempts"
        )


def presentation_start(code: str) -> date:
    """Start date of a presentation code such as "2013J" (B: February, J: October)."""
    try:
        year, month = int(code[:4]), {"B": 2, "J": 10}[code[4:]]
    except (ValueError, KeyError):
        raise OuladError(f"Unknown presentation code {code!r} (expected e.g. 2013J).") from None
    return date(year, month, 1)


def learner_email(student_id: str) -> str:
    return f"learner-{student_id}@{EMAIL_DOMAIN}"


def _read(directory: Path, name: str) -> list[dict[str, str]]:
    path = directory / name
    if not path.is_file():
        raise OuladError(f"{path} is missing; expected the OULAD files {', '.join(FILES)}.")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _int(value: str) -> int | None:
    value = value.strip()
    if value in ("", "?"):
        return None
    return int(float(value))


def _at(start: datetime, day: int | None) -> datetime | None:
    return None if day is None else start + timedelta(days=day)


def import_oulad(
    *, directory: Path, now: datetime, progress: Callable[[str], None] = lambda _: None
) -> ImportSummary:
    """Import (or complete a previous import of) an OULAD export; all-or-nothing."""
    tables = {name: _read(directory, name) for name in FILES}
    summary = ImportSummary()
    with transaction.atomic():
        # Courses, runs and assessments are written in bulk, not through catalog.services.
        catalog_changed()
        owner = User.objects.filter(email=OWNER_EMAIL).first() or User.objects.create_user(
            email=OWNER_EMAIL, full_name="OULAD import", role=User.Role.INSTRUCTOR
        )

        runs: dict[tuple[str, str], CourseRun] = {}
        starts: dict[tuple[str, str], datetime] = {}
        for row in tables["courses.csv"]:
            module, code = row["code_module"], row["code_presentation"]
            course, created = Course.objects.get_or_create(
                slug=f"oulad-{module.lower()}",
                defaults={
                    "title": f"OULAD module {module}",
                    "owner": owner,
                    "status": Course.Status.PUBLISHED,
                    "published_at": now,
                    "description": "Imported from the Open University Learning Analytics Dataset.",
                },
            )
            summary.courses += created
            run, created = CourseRun.objects.get_or_create(
                course=course,
                code=code,
                defaults={
                    "starts_on": presentation_start(code),
                    "length_days": _int(row["module_presentation_length"]),
                },
            )
            summary.runs += created
            runs[(module, code)] = run
            starts[(module, code)] = datetime.combine(run.starts_on, time.min, tzinfo=UTC)
        progress(f"courses and runs: {summary.courses} + {summary.runs} new")

        def run_of(row: dict[str, str]) -> tuple[str, str]:
            key = (row["code_module"], row["code_presentation"])
            if key not in runs:
                raise OuladError(f"{key[0]} {key[1]} is not in courses.csv.")
            return key

        # Assessments.
        existing = set(
            Assessment.objects.filter(external_id__startswith="oulad:").values_list(
                "external_id", flat=True
            )
        )
        new_assessments = []
        for row in tables["assessments.csv"]:
            key = run_of(row)
            external_id = f"oulad:{row['id_assessment']}"
            if external_id in existing:
                continue
            kind = (
                Assessment.Kind.EXAM if row["assessment_type"] == "Exam" else Assessment.Kind.QUIZ
            )
            weight = row["weight"].strip()
            new_assessments.append(
                Assessment(
                    title=f"{key[0]} {key[1]} {row['assessment_type']} #{row['id_assessment']}",
                    kind=kind,
                    course=runs[key].course,
                    course_run=runs[key],
                    owner=owner,
                    passing_score=40,
                    is_published=True,
                    due_at=_at(starts[key], _int(row["date"])),
                    weight=Decimal(weight) if weight else None,
                    external_id=external_id,
                )
            )
        Assessment.objects.bulk_create(new_assessments, batch_size=BATCH)
        summary.assessments = len(new_assessments)
        assessments = {
            ext.removeprefix("oulad:"): (pk, run_id)
            for pk, ext, run_id in Assessment.objects.filter(
                external_id__startswith="oulad:"
            ).values_list("id", "external_id", "course_run_id")
        }
        run_start_by_id = {run.id: starts[key] for key, run in runs.items()}
        progress(f"assessments: {summary.assessments} new")

        # Learners (bulk, with unusable passwords: these accounts never log in).
        student_ids = {row["id_student"] for row in tables["studentRegistration.csv"]}
        student_ids |= {row["id_student"] for row in tables["studentAssessment.csv"]}
        known = set(
            User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").values_list("email", flat=True)
        )
        unusable = make_password(None)
        new_users = [
            User(email=learner_email(sid), password=unusable, role=User.Role.LEARNER)
            for sid in sorted(student_ids)
            if learner_email(sid) not in known
        ]
        User.objects.bulk_create(new_users, batch_size=BATCH)
        summary.learners = len(new_users)
        user_ids = {
            email.split("@")[0].removeprefix("learner-"): pk
            for pk, email in User.objects.filter(
                email__startswith="learner-", email__endswith=f"@{EMAIL_DOMAIN}"
            ).values_list("id", "email")
        }
        LearnerProfile.objects.bulk_create(
            [LearnerProfile(user_id=user_ids[sid]) for sid in student_ids],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        progress(f"learners: {summary.learners} new")

        # Enrollments with registration facts (never the outcome) from studentInfo.
        info = {
            (row["code_module"], row["code_presentation"], row["id_student"]): row
            for row in tables["studentInfo.csv"]
        }
        have = set(
            Enrollment.objects.filter(course_run__in=runs.values()).values_list(
                "learner_id", "course_run_id"
            )
        )
        new_enrollments = []
        for row in tables["studentRegistration.csv"]:
            key = run_of(row)
            learner_id, run = user_ids[row["id_student"]], runs[key]
            if (learner_id, run.id) in have:
                continue
            have.add((learner_id, run.id))
            start = starts[key]
            student = info.get((*key, row["id_student"]), {})
            result = RESULTS.get(student.get("final_result", ""), "")
            withdrawn = result == Enrollment.FinalResult.WITHDRAWN
            facts = {k: student[k] for k in REGISTRATION_FACTS if k in student}
            for k in ("num_of_prev_attempts", "studied_credits"):
                if k in facts:
                    facts[k] = _int(facts[k]) or 0
            new_enrollments.append(
                Enrollment(
                    learner_id=learner_id,
                    course=run.course,
                    course_run=run,
                    enrolled_at=_at(start, _int(row["date_registration"])) or start,
                    unregistered_at=_at(start, _int(row["date_unregistration"])),
                    final_result=result,
                    status=(
                        Enrollment.Status.DROPPED
                        if withdrawn
                        else Enrollment.Status.COMPLETED
                        if result
                        else Enrollment.Status.ACTIVE
                    ),
                    completed_at=(
                        _at(start, run.length_days) if result and not withdrawn else None
                    ),
                    progress_percent=100 if result and not withdrawn else 0,
                    registration_info=facts,
                )
            )
        Enrollment.objects.bulk_create(new_enrollments, batch_size=BATCH)
        summary.enrollments = len(new_enrollments)
        progress(f"enrollments: {summary.enrollments} new")

        # Submissions: one attempt per learner and assessment.
        done = set(
            AssessmentAttempt.objects.filter(
                assessment__external_id__startswith="oulad:"
            ).values_list("learner_id", "assessment_id")
        )
        new_attempts = []
        for row in tables["studentAssessment.csv"]:
            if row["id_assessment"] not in assessments:
                raise OuladError(f"Submission for unknown assessment {row['id_assessment']}.")
            assessment_id, run_id = assessments[row["id_assessment"]]
            learner_id = user_ids[row["id_student"]]
            day = _int(row["date_submitted"])
            if (learner_id, assessment_id) in done or day is None:
                continue
            done.add((learner_id, assessment_id))
            submitted = run_start_by_id[run_id] + timedelta(days=day)
            score = _int(row["score"])
            new_attempts.append(
                AssessmentAttempt(
                    learner_id=learner_id,
                    assessment_id=assessment_id,
                    started_at=submitted,
                    submitted_at=submitted,
                    score=score,
                    passed=None if score is None else score >= 40,
                    # No answers to replay: mark as consumed so skill jobs skip them.
                    skills_processed_at=submitted,
                )
            )
        AssessmentAttempt.objects.bulk_create(new_attempts, batch_size=BATCH)
        summary.attempts = len(new_attempts)
        progress(f"attempts: {summary.attempts} new")
    return summary

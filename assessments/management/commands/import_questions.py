"""`manage.py import_questions`: add Moodle GIFT or Aiken questions to an assessment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from assessments.importers import FORMATS, guess_format
from assessments.models import Assessment
from assessments.services import questions_import
from catalog.models import Skill


class Command(BaseCommand):
    help = (
        "Import the questions of a GIFT or Aiken file into an assessment, after its last "
        "question. Every problem is reported with its line number; nothing is stored then."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The GIFT or Aiken text file (UTF-8).")
        parser.add_argument("--assessment", type=int, required=True, metavar="ID")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="The file's format (default: guessed; Aiken when it has ANSWER: lines "
            "and no {…} answer blocks).",
        )
        parser.add_argument(
            "--skill",
            metavar="SLUG",
            help="Skill of questions whose $CATEGORY names no skill (default: the "
            "assessment's course's skill when it has exactly one).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check the file; store nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        assessment = (
            Assessment.objects.select_related("course").filter(pk=options["assessment"]).first()
        )
        if assessment is None:
            raise CommandError(f"No assessment with id {options['assessment']}.")
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        fmt = options["format"] or guess_format(text)
        skill = self._skill(options["skill"], assessment)
        try:
            report = questions_import(
                assessment=assessment,
                text=text,
                fmt=fmt,
                now=timezone.now(),
                default_skill=skill,
                dry_run=options["dry_run"],
            )
        except ValidationError as error:
            for message in error.messages:
                self.stderr.write(f"{path}: {message}")
            raise CommandError(
                f"{len(error.messages)} problem(s) in {path}; nothing was imported."
            ) from None
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.kinds.items()))
        verb = "Would import" if report.dry_run else "Imported"
        self.stdout.write(
            f"{verb} {report.count} question(s) ({fmt}) into “{assessment}”: {kinds}."
        )

    def _skill(self, slug: str | None, assessment: Assessment) -> Skill | None:
        if slug:
            skill = Skill.objects.filter(slug=slug).first()
            if skill is None:
                raise CommandError(f"No skill with slug “{slug}”.")
            return skill
        if assessment.course is not None:
            skills = list(assessment.course.skills.all()[:2])
            if len(skills) == 1:
                return skills[0]
        return None

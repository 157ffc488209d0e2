"""`manage.py analyze_items`: the nightly item analysis, run by hand for some or all assessments."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from assessments.models import Assessment
from insights.ml.irt import refresh_item_analysis
from insights.models import ItemAnalysisRun


class Command(BaseCommand):
    help = "Fit and store the item analysis (share correct, discrimination, IRT, flags)."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument(
            "--assessment",
            type=int,
            action="append",
            metavar="ID",
            help="Analyse this assessment (repeatable).",
        )
        target.add_argument("--all", action="store_true", help="Analyse every assessment.")

    def handle(self, *args: Any, assessment: list[int] | None, **options: Any) -> None:
        if assessment:
            found = Assessment.objects.filter(pk__in=assessment).values_list("pk", flat=True)
            missing = sorted(set(assessment) - set(found))
            if missing:
                raise CommandError(f"No assessment with id {', '.join(map(str, missing))}.")
        report = refresh_item_analysis(
            assessment_ids=assessment, now=timezone.now(), on_result=self._progress
        )
        self.stdout.write(
            f"Analysed {len(report.analysed)} assessment(s), {len(report.failed)} failed."
        )
        if report.failed:
            raise CommandError(f"Item analysis failed for assessment(s) {sorted(report.failed)}.")

    def _progress(self, assessment: Assessment, run: ItemAnalysisRun | None, error: str) -> None:
        if run is None:
            self.stderr.write(f"  {assessment.pk} {assessment}: failed ({error})")
        else:
            self.stdout.write(f"  {assessment.pk} {assessment}: {run.answers} answers")

"""Create monthly event partitions ahead of time and (optionally) drop expired ones."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from learning import partitions


class Command(BaseCommand):
    help = (
        "Create the current month's event partition and the next N months' (default 3); "
        "move rows out of the default partition into their new monthly partition. With "
        "--retention-months, report partitions entirely older than that; drop them only "
        "with --drop."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--months-ahead", type=int, default=3)
        parser.add_argument("--retention-months", type=int, default=None)
        parser.add_argument(
            "--drop", action="store_true", help="Detach and drop expired partitions."
        )
        parser.add_argument("--dry-run", action="store_true", help="Report, change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = partitions.maintain_partitions(
                now=timezone.now(),
                months_ahead=options["months_ahead"],
                retention_months=options["retention_months"],
                drop=options["drop"],
                dry_run=options["dry_run"],
                progress=self.stdout.write,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["dry_run"]:
            summary = (
                f"Dry run: {len(report.would_create)} partition(s) to create, "
                f"{len(report.expired)} expired."
            )
        else:
            moved = sum(r.rows_moved for r in report.created)
            summary = (
                f"{len(report.created)} partition(s) created ({moved} rows moved), "
                f"{len(report.dropped)} dropped, "
                f"{len(report.expired) - len(report.dropped)} expired kept."
            )
        self.stdout.write(self.style.SUCCESS(summary))

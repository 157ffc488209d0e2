"""Send deferred jobs that are still pending (the broker was down) or were lost."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from insights.models import PendingJob
from skillstudio import jobs


class Command(BaseCommand):
    help = "Relay pending outbox jobs (insights.PendingJob) to Celery."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=jobs.RELAY_BATCH)
        parser.add_argument("--dry-run", action="store_true", help="Count, send nothing.")
        parser.add_argument(
            "--retry-failed", action="store_true", help="Send failed jobs again (after a fix)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1.")
        if options["retry_failed"]:
            if options["dry_run"]:
                failed = PendingJob.objects.filter(status=PendingJob.Status.FAILED).count()
                self.stdout.write(f"Dry run: {failed} failed job(s) to re-queue.")
            else:
                self.stdout.write(f"{jobs.requeue_failed_jobs()} failed job(s) re-queued.")
        report = jobs.relay_pending_jobs(
            now=timezone.now(), limit=options["limit"], dry_run=options["dry_run"]
        )
        if options["dry_run"]:
            self.stdout.write(
                f"Dry run: {report.sent} job(s) to send, {report.given_up} to give up."
            )
            return
        self.stdout.write(str(report))
        if report.unsent:
            raise CommandError(f"{report.unsent} job(s) could not be sent: {report.error}")

"""`manage.py process_erasures`: the nightly erasure job, run by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accounts.privacy import data_exports_purge, erasures_process_due


class Command(BaseCommand):
    help = "Erase the accounts whose grace period is over and delete expired data exports."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list, erase nothing")

    def handle(self, *args, dry_run: bool, **options) -> None:
        now = timezone.now()
        erased = erasures_process_due(now=now, dry_run=dry_run)
        verb = "would erase" if dry_run else "erased"
        for user_id in erased:
            self.stdout.write(f"{verb} account {user_id}")
        purged = 0 if dry_run else data_exports_purge(now=now)
        self.stdout.write(f"{len(erased)} account(s) {verb}; {purged} expired export(s) deleted.")

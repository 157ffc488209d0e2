"""`manage.py rebuild_rollups`: recompute the learners' activity rollups from the raw events.

Needed after dropping event partitions (no trigger fires) or restoring a dump without
triggers; writers wait while it runs.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from learning.rollups import activity_rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the activity rollups (learner events per quarter hour) from the raw events."

    def handle(self, *args, **options) -> None:
        buckets = activity_rollups_rebuild()
        self.stdout.write(f"Rebuilt {buckets} activity buckets.")

"""(Re)index the whole catalogue for search: search vectors, trigrams, embeddings."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand

from catalog.search import catalog_index


class Command(BaseCommand):
    help = "Compute search vectors, trigrams and embeddings of every lesson and course."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be indexed; write nothing."
        )
        parser.add_argument(
            "--missing", action="store_true", help="Only rows that have no embedding yet."
        )
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        lessons, courses = catalog_index(
            only_missing=options["missing"],
            dry_run=options["dry_run"],
            batch_size=max(1, options["batch_size"]),
            progress=lambda line: self.stdout.write(line),
        )
        verb = "Would index" if options["dry_run"] else "Indexed"
        self.stdout.write(self.style.SUCCESS(f"{verb} {lessons} lesson(s), {courses} course(s)."))

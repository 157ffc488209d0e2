"""Print MRR and nDCG@5 of catalogue search per channel and fused (needs seed_demo)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from catalog.search_quality import CUTOFF, QUERY_SET, evaluate, load_queries


class Command(BaseCommand):
    help = "Measure search quality on the labelled query set over the demo catalogue."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--queries", type=Path, default=QUERY_SET)

    def handle(self, *args: Any, **options: Any) -> None:
        queries = load_queries(options["queries"])
        try:
            scores = evaluate(queries)
        except LookupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{len(queries)} queries, lessons of the published demo courses\n")
        self.stdout.write(f"{'mode':<8} {'MRR':>6} {f'nDCG@{CUTOFF}':>8} {'empty':>6}")
        for s in scores:
            self.stdout.write(f"{s.mode:<8} {s.mrr:>6.3f} {s.ndcg:>8.3f} {s.empty:>6}")

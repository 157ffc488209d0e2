"""`manage.py evaluate_recommender`: item-item CF vs popularity on a held-out slice."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from insights.ml.cf import assistments_user_items, evaluate_recommenders, platform_user_items


class Command(BaseCommand):
    help = (
        "Hold out 20 % of each user's items (seeded), rank the rest with item-item CF and "
        "with popularity; print precision@5 and recall@10. Data: the platform's enrollments, "
        "or an ASSISTments folder (skills each student practised)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--assistments", type=Path, help="Folder with builder_*.csv.")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, assistments: Path | None, seed: int, **options) -> None:
        started = time.perf_counter()
        if assistments:
            files = sorted(assistments.glob("builder_*.csv")) if assistments.is_dir() else []
            if not files:
                raise CommandError(f"No builder_*.csv files in {assistments}.")
            data: dict = {}
            try:
                for path in files:
                    data.update(assistments_user_items(path))
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            source = f"ASSISTments skills ({', '.join(p.name for p in files)})"
        else:
            data, source = platform_user_items(), "platform enrollments"
        result = evaluate_recommenders(data, seed=seed)
        if not result.test_users:
            raise CommandError(f"No user in {source} has two or more items to hold out.")
        self.stdout.write(
            "\n".join(
                [
                    f"Recommender evaluation on {source}, seed {seed}",
                    f"  {result.users} users, {result.items} items, "
                    f"{result.test_users} users with held-out items",
                    f"  item-item CF: precision@5 {result.cf_precision_at_5:.3f}, "
                    f"recall@10 {result.cf_recall_at_10:.3f}",
                    f"  popularity:   precision@5 {result.popular_precision_at_5:.3f}, "
                    f"recall@10 {result.popular_recall_at_10:.3f}",
                    f"  ({time.perf_counter() - started:.1f} s)",
                ]
            )
        )

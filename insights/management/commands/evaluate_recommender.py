"""`manage.py evaluate_recommender`: CF, what-came-next and popularity on two hold-outs."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from insights.ml.cf import (
    SPLITS,
    RecommenderEvaluation,
    assistments_user_items,
    evaluate_recommenders,
    platform_user_items,
)

LABELS = {
    "cf": "item-item CF (cosine)",
    "next": "what learners took next",
    "popular": "popularity",
}
SPLIT_LABELS = {
    "random": "random 20 % of each user's items held out (seeded)",
    "temporal": "each user's latest 20 % of items held out (temporal)",
}


def report_lines(result: RecommenderEvaluation, *, recency: float | None = None) -> list[str]:
    lines = [f"  {SPLIT_LABELS[result.split]}: {result.test_users} users tested"]
    for method, label in LABELS.items():
        if method == "next" and recency is not None:
            label += f" (recency {recency:g})"
        lead = ""
        if method != "popular":
            lead = " ahead of popularity" if result.ahead_of_popularity(method) else " NOT ahead"
        lines.append(
            f"    {label:<38} precision@5 {result.precision_at_5[method]:.3f}, "
            f"recall@10 {result.recall_at_10[method]:.3f}{lead}"
        )
    return lines


class Command(BaseCommand):
    help = (
        "Hold out 20 % of each user's items, once at random (seeded) and once the latest "
        "ones (temporal); rank the rest with item-item CF, with what learners took next and "
        "with popularity; print precision@5 and recall@10. Data: the platform's enrollments "
        "(in enrollment order), or an ASSISTments folder (skills in the order first practised)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--assistments", type=Path, help="Folder with builder_*.csv.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--recency",
            type=float,
            default=None,
            help="Weight the sequence model's seen items by RECENCY ** (items ago), e.g. 0.5 "
            "(default: every seen item 1, as served).",
        )

    def handle(
        self, *args, assistments: Path | None, seed: int, recency: float | None, **options
    ) -> None:
        if recency is not None and not 0 < recency <= 1:
            raise CommandError("--recency must be in (0, 1].")
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
        results = [
            evaluate_recommenders(data, split=split, seed=seed, recency=recency) for split in SPLITS
        ]
        if not results[0].test_users:
            raise CommandError(f"No user in {source} has two or more items to hold out.")
        lines = [
            f"Recommender evaluation on {source}, seed {seed}",
            f"  {results[0].users} users, {results[0].items} items",
        ]
        for result in results:
            lines += report_lines(result, recency=recency)
        lines.append(f"  ({time.perf_counter() - started:.1f} s)")
        self.stdout.write("\n".join(lines))

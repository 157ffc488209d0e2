"""`manage.py evaluate_dropout_model --cutoff 56`: honest train-2013 / test-2014 evaluation."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from insights.instructor import ReviewOutcomes, review_outcomes
from insights.ml.dropout import HIGH_FROM, evaluate_dropout
from insights.models import RiskReview


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


class Command(BaseCommand):
    help = (
        "Train the dropout model on the 2013 course runs and test it on the 2014 runs, "
        "with features as of day --cutoff of each run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cutoff", type=int, default=56, help="Day of the run (default 56).")
        parser.add_argument("--train", default="2013", help="Run code prefix to train on.")
        parser.add_argument("--test", default="2014", help="Run code prefix to test on.")
        parser.add_argument(
            "--without",
            default="",
            help="Comma-separated features to leave out (ablation), e.g. "
            "course_withdrawal_rate,score_percentile.",
        )

    def handle(self, *args, cutoff: int, train: str, test: str, without: str, **options) -> None:
        if cutoff < 1:
            raise CommandError("--cutoff must be a positive day number.")
        left_out = [name.strip() for name in without.split(",") if name.strip()]
        started = time.perf_counter()
        try:
            result = evaluate_dropout(
                cutoff_day=cutoff, train_prefix=train, test_prefix=test, without=left_out
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        lines = [
            f"Dropout model, features as of day {cutoff} (train {train}*, test {test}*)"
            + (f", without {', '.join(left_out)}" if left_out else ""),
            f"  train: {result.train_examples} enrollments, {result.train_dropouts} withdrew later",
            f"  test:  {result.test_examples} enrollments, {result.test_dropouts} withdrew later",
            f"  AUC logistic regression (served model): {_fmt(result.auc_logistic)}",
            f"  AUC gradient boosting:                  {_fmt(result.auc_boosting)}",
            f"  AUC rule 'missed an assessment due before the cutoff': {_fmt(result.auc_rule)}",
            f"  high risk (p >= {HIGH_FROM:.2f}): {result.high_share:.1%} of learners, "
            f"precision {_fmt(result.high_precision)}, recall {_fmt(result.high_recall)}",
            f"  ({time.perf_counter() - started:.1f} s)",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.write("\n".join(review_lines(review_outcomes())))


def review_lines(outcomes: ReviewOutcomes) -> list[str]:
    """What instructors did with the served risks (R-INSTR's closed loop)."""
    if not outcomes.reviews:
        return ["Instructor reviews of at-risk learners: none recorded yet."]
    lines = [
        f"Instructor reviews of at-risk learners: {outcomes.reviews}, "
        f"not useful {outcomes.not_useful_rate:.1%}"
    ]
    for action, label in RiskReview.Action.choices:
        count = outcomes.by_action.get(action, 0)
        statuses = outcomes.outcomes.get(action, {})
        ended = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())) or "none"
        lines.append(f"  {label.lower()}: {count} (enrollments now: {ended})")
    return lines

"""`manage.py evaluate_dropout_model`: honest train-2013 / test-2014 evaluation.

The figures come from `insights.ml.dropout.evaluate_dropout`; each block of the report is
one function of an `Evaluation` (so further sections can be added next to them).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from insights.instructor import ReviewOutcomes, review_outcomes
from insights.ml.calibration import RECALL_TARGETS, CalibrationBin, LightStats
from insights.ml.dropout import HIGH_FROM, MEDIUM_FROM, Evaluation, evaluate_dropout
from insights.models import RiskReview

DEFAULT_CUTOFFS = (28, 56, 112)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def summary_lines(result: Evaluation) -> list[str]:
    return [
        f"  train: {result.train_examples} enrollments, {result.train_dropouts} withdrew later",
        f"  test:  {result.test_examples} enrollments, {result.test_dropouts} withdrew later "
        f"({result.test_dropouts / result.test_examples:.1%})",
        "                                   AUC    PR-AUC  Brier",
        f"  logistic regression (served)     {_fmt(result.auc_logistic)}  "
        f"{_fmt(result.pr_auc_logistic)}   {_fmt(result.brier_logistic)}",
        f"  gradient boosting                {_fmt(result.auc_boosting)}",
        f"  rule 'missed an assessment'      {_fmt(result.auc_rule)}  "
        f"{_fmt(result.pr_auc_rule)}   {_fmt(result.brier_rule)}",
    ]


def calibration_lines(title: str, table: list[CalibrationBin]) -> list[str]:
    lines = [f"  {title}", "    predicted range    learners  mean predicted  withdrew"]
    for b in table:
        lines.append(
            f"    {b.lower:.3f}-{b.upper:.3f}    {b.learners:>8}  {b.predicted:>14.3f}  "
            f"{b.observed:>8.3f}"
        )
    return lines


def light_lines(title: str, lights: list[LightStats]) -> list[str]:
    lines = [f"  {title}", "    light   share  precision  recall (this light or higher)"]
    for s in lights:
        lines.append(f"    {s.light:<6}  {s.share:>5.1%}  {_fmt(s.precision):>9}  {_fmt(s.recall)}")
    return lines


def threshold_lines(result: Evaluation) -> list[str]:
    targets = ", ".join(f"{light} recall >= {r:.0%}" for light, r in RECALL_TARGETS.items())
    chosen = result.chosen
    lines = [
        f"  thresholds from the training runs' predictions ({targets}): "
        f"medium p >= {chosen.medium:.2f}, high p >= {chosen.high:.2f}",
    ]
    lines += light_lines(
        f"traffic light as served (medium p >= {MEDIUM_FROM:.2f}, high p >= {HIGH_FROM:.2f}) "
        "on the test runs:",
        result.lights,
    )
    lines += light_lines(
        "traffic light with this day's chosen thresholds on the test runs:", result.lights_chosen
    )
    rule = result.rule_flagged
    lines.append(
        f"  rule flags {rule.share:.1%} of learners, precision {_fmt(rule.precision)}, "
        f"recall {_fmt(rule.recall)}"
    )
    return lines


def report_lines(result: Evaluation) -> list[str]:
    return [
        *summary_lines(result),
        *calibration_lines("calibration, served model (test runs, equal-count bins):",
                           result.calibration),
        *calibration_lines("calibration, rule as a probability:", result.rule_calibration),
        *threshold_lines(result),
    ]  # fmt: skip


def parse_cutoffs(text: str) -> list[int]:
    try:
        days = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise CommandError(f"--cutoffs takes comma-separated day numbers, not {text!r}.") from exc
    if not days or any(day < 1 for day in days):
        raise CommandError("--cutoffs must list positive day numbers.")
    return days


class Command(BaseCommand):
    help = (
        "Train the dropout model on the 2013 course runs and test it on the 2014 runs, with "
        "features as of each day in --cutoffs: AUC, PR-AUC, Brier score, calibration table "
        "and traffic-light thresholds next to the rule baseline."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cutoffs",
            default=",".join(map(str, DEFAULT_CUTOFFS)),
            help="Comma-separated days of the run (default 28,56,112).",
        )
        parser.add_argument("--cutoff", type=int, help="One day only (same as --cutoffs N).")
        parser.add_argument("--train", default="2013", help="Run code prefix to train on.")
        parser.add_argument("--test", default="2014", help="Run code prefix to test on.")
        parser.add_argument(
            "--without",
            default="",
            help="Comma-separated features to leave out (ablation), e.g. "
            "course_withdrawal_rate,score_percentile.",
        )

    def handle(
        self,
        *args,
        cutoffs: str,
        cutoff: int | None,
        train: str,
        test: str,
        without: str,
        **options,
    ) -> None:
        if cutoff is not None and cutoff < 1:
            raise CommandError("--cutoff must be a positive day number.")
        days = [cutoff] if cutoff is not None else parse_cutoffs(cutoffs)
        left_out = [name.strip() for name in without.split(",") if name.strip()]
        for day in days:
            started = time.perf_counter()
            try:
                result = evaluate_dropout(
                    cutoff_day=day, train_prefix=train, test_prefix=test, without=left_out
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            lines = [
                f"Dropout model, features as of day {day} (train {train}*, test {test}*)"
                + (f", without {', '.join(left_out)}" if left_out else ""),
                *report_lines(result),
                f"  ({time.perf_counter() - started:.1f} s)",
                "",
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

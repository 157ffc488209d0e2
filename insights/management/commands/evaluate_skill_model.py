"""Measure the skill model on ASSISTments-format data (see insights/skill_eval.py)."""

from __future__ import annotations

import math
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from insights import skill_eval

TRAIN_FILE = "builder_train.csv"
TEST_FILE = "builder_test.csv"


class Command(BaseCommand):
    help = (
        "Fit the skill model on builder_train.csv and report AUC/RMSE of next-answer "
        "prediction on builder_test.csv, next to baselines (and pyBKT with --compare-pybkt)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data",
            help=f"Directory holding {TRAIN_FILE} and {TEST_FILE} "
            "(e.g. ../shared/datasets/assistments2009). Required.",
        )
        parser.add_argument(
            "--compare-pybkt",
            action="store_true",
            help="Also fit pyBKT's BKT and BKT with forgetting on the same split, if installed.",
        )
        parser.add_argument(
            "--iterations", type=int, default=40, help="Maximum EM iterations (default 40)."
        )

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        train_path, test_path = self._data_files(options["data"])
        if options["iterations"] < 1:
            raise CommandError("--iterations must be at least 1.")
        try:
            train = skill_eval.read_builder_csv(train_path)
            test = skill_eval.read_builder_csv(test_path)
        except skill_eval.DatasetError as exc:
            raise CommandError(str(exc)) from exc

        extra = None
        if options["compare_pybkt"]:
            model_class = skill_eval.import_pybkt()
            if model_class is None:
                self.stdout.write(
                    "pyBKT is not importable in this environment: its rows are skipped "
                    "(install pybkt to compare; it is an evaluation-only dependency)."
                )
            else:

                def extra(tr, te):
                    return skill_eval.pybkt_rows(model_class, tr, te)

        report = skill_eval.evaluate(train, test, iterations=options["iterations"], extra=extra)
        self._print(report, data=options["data"], seconds=time.perf_counter() - started)

    def _data_files(self, data: str | None) -> tuple[Path, Path]:
        if not data:
            raise CommandError(
                f"--data is required: a directory holding {TRAIN_FILE} and {TEST_FILE} "
                "(e.g. --data ../shared/datasets/assistments2009)."
            )
        directory = Path(data)
        if not directory.is_dir():
            raise CommandError(f"--data {data}: no such directory.")
        paths = (directory / TRAIN_FILE, directory / TEST_FILE)
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise CommandError(f"--data {data}: missing {', '.join(missing)}.")
        return paths

    def _print(self, report: skill_eval.Report, *, data: str, seconds: float) -> None:
        write = self.stdout.write
        write(f"Skill model evaluation on {data}")
        write(
            f"train: {report.train_responses:,} responses from {report.train_learners:,} learners; "
            f"test: {report.test_responses:,} responses from {report.test_learners:,} learners; "
            f"{report.skills} skills ({report.train_skills} seen in train); "
            f"EM iterations: {report.em_iterations}"
        )
        write("")
        width = max(len(row.model) for row in report.rows)
        write(f"{'model':<{width}}  {'AUC':>6}  {'RMSE':>6}  {'seconds':>7}  note")
        for row in report.rows:
            auc = "n/a" if math.isnan(row.auc) else f"{row.auc:.4f}"
            write(
                f"{row.model:<{width}}  {auc:>6}  {row.rmse:>6.4f}  {row.seconds:>7.1f}  {row.note}"
            )
        if report.calibration is not None:
            write("")
            write("Calibration (logistic, fitted on train): P(correct) = sigmoid(")
            write(f"  {report.calibration.intercept:+.4f}")
            for name, weight in report.calibration.coefficients.items():
                write(f"  {weight:+.4f} * {name}")
            write(")")
        write("")
        write(f"Total time: {seconds:.1f} s")

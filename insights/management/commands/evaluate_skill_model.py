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
        parser.add_argument(
            "--resplits",
            type=int,
            default=0,
            help="Also pool both files and re-split them by learner this many times "
            "(seeds 1..N, 20%% of learners to test), reporting each ability weight's gain.",
        )

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        train_path, test_path = self._data_files(options["data"])
        if options["iterations"] < 1:
            raise CommandError("--iterations must be at least 1.")
        if options["resplits"] < 0:
            raise CommandError("--resplits must be 0 or more.")
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
        if options["resplits"]:
            splits = skill_eval.resplits(
                train,
                test,
                seeds=range(1, options["resplits"] + 1),
                iterations=options["iterations"],
            )
            self._print_splits(splits)
            self.stdout.write(f"Total time: {time.perf_counter() - started:.1f} s")

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
        if report.ability is not None:
            write("")
            write(
                "Ability weights (fitted on train; logit units per unit of ability): "
                + ", ".join(f"{k}={v:.4g}" for k, v in report.ability.as_dict().items())
            )
            write("Test AUC with one weight held at 0 (others refitted on train):")
            model_auc = next(r.auc for r in report.rows if r.model == skill_eval.MODEL_ROW)
            for name, auc in report.ablations.items():
                write(f"  without {name}: {auc:.4f} (gain {model_auc - auc:+.4f})")
        write("")
        write(f"Total time: {seconds:.1f} s")

    def _print_splits(self, splits: list[skill_eval.SplitResult]) -> None:
        write = self.stdout.write
        write("")
        write("Learner-level re-splits of both files pooled (20% of learners to test):")
        names = skill_eval.WEIGHTS
        head = "  ".join(f"gain {n:<15}" for n in names)
        write(f"{'seed':>4}  {'BKT':>6}  {'model':>6}  {'gain':>7}  {head}  weights")
        for split in splits:
            gains = "  ".join(f"{split.gain(n):>+20.4f}" for n in names)
            weights = " ".join(f"{n.split('_')[0]}={getattr(split.ability, n):g}" for n in names)
            write(
                f"{split.seed:>4}  {split.bkt_auc:.4f}  {split.model_auc:.4f}  "
                f"{split.model_auc - split.bkt_auc:>+7.4f}  {gains}  {weights}"
            )
        gains = [s.model_auc - s.bkt_auc for s in splits]
        aucs = [s.model_auc for s in splits]
        write(
            f"model AUC min {min(aucs):.4f} max {max(aucs):.4f}; gain over BKT "
            f"min {min(gains):+.4f} max {max(gains):+.4f}"
        )
        for name in names:
            held = all(s.gain(name) > 0 for s in splits)
            verdict = "holds on every split" if held else "does NOT hold on every split"
            write(f"  {name}: gain {verdict}")

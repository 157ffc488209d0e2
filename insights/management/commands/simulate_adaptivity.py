"""`manage.py simulate_adaptivity`: the adaptivity benchmark (insights/sim/benchmark.py)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from insights import skill_eval
from insights.sim.benchmark import BenchmarkError, run_benchmark
from insights.sim.generative import PARAMS_PATH


class Command(BaseCommand):
    help = (
        "Simulate learners through the platform's services and report diagnostic accuracy, "
        "wasted path time, time to goal against a fixed curriculum and recommendation "
        "precision. Nothing is kept (one rolled-back transaction) unless --keep. With "
        "--fit DIR, first refit the simulator's parameters on DIR/builder_train.csv."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--learners", type=int, default=500, help="simulated learners (500)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
        parser.add_argument("--keep", action="store_true", help="commit the simulated rows")
        parser.add_argument(
            "--fit",
            metavar="DIR",
            help="ASSISTments 2009 folder: refit and rewrite the shipped parameter JSON",
        )

    def handle(self, *args, **options) -> None:
        if options["learners"] < 1:
            raise CommandError("--learners must be at least 1.")
        if options["fit"]:
            from insights.sim.fit import fit_generative_params

            path = Path(options["fit"]) / "builder_train.csv"
            try:
                params = fit_generative_params(path)
            except skill_eval.DatasetError as exc:
                raise CommandError(str(exc)) from exc
            PARAMS_PATH.write_text(json.dumps(params, indent=1) + "\n")
            self.stdout.write(f"Wrote {PARAMS_PATH.name} from {path}.")
        try:
            report = run_benchmark(
                learners=options["learners"],
                seed=options["seed"],
                now=timezone.now(),
                keep=options["keep"],
                progress=self.stdout.write,
            )
        except BenchmarkError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)

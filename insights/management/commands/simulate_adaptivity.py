"""`manage.py simulate_adaptivity`: the adaptivity benchmark (insights/sim/benchmark.py)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from insights import skill_eval
from insights.sim.benchmark import BenchmarkError, run_benchmark
from insights.sim.bound import bayes_bound, diagnostic_bank
from insights.sim.generative import PARAMS_PATH, World, load_params


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
            "--history",
            type=int,
            default=0,
            metavar="N",
            help="first N other learners of the same world, then the weekly skill-model "
            "re-fit on their answers: the platform in operation (0: the database's model)",
        )
        parser.add_argument(
            "--true-model",
            action="store_true",
            help="experiment: run the world's true parameters as the skill model",
        )
        parser.add_argument(
            "--bound",
            action="store_true",
            help="only the Bayes bound on diagnostic accuracy (insights/sim/bound.py), "
            "for 2 to 6 questions per skill and asking until sure",
        )
        parser.add_argument(
            "--draws", type=int, default=20_000, help="draws per row of --bound (20000)"
        )
        parser.add_argument(
            "--fit",
            metavar="DIR",
            help="ASSISTments 2009 folder: refit and rewrite the shipped parameter JSON",
        )

    def handle(self, *args, **options) -> None:
        if options["learners"] < 1:
            raise CommandError("--learners must be at least 1.")
        if options["draws"] < 1:
            raise CommandError("--draws must be at least 1.")
        if options["history"] < 0:
            raise CommandError("--history must be 0 or more.")
        if options["bound"]:
            self._bound(seed=options["seed"], draws=options["draws"])
            return
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
                history=options["history"],
                true_model=options["true_model"],
                progress=self.stdout.write,
            )
        except BenchmarkError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)

    def _bound(self, *, seed: int, draws: int) -> None:
        bank = diagnostic_bank()
        if not bank:
            raise CommandError("No open questions: load the demo world with seed_demo first.")
        world = World.draw(skill_slugs=set(bank), seed=seed, params=load_params())
        self.stdout.write(
            f"Bayes bound on diagnostic accuracy, world seed {seed}, {draws} draws per row "
            "(questions at random from each skill's bank):"
        )
        for questions in (2, 3, 4, 5, 6, None):
            row = bayes_bound(
                world=world,
                bank=bank,
                questions=questions,
                draws=draws,
                seed=seed,
                now=timezone.now(),
            )
            label = "until sure" if questions is None else "at random"
            self.stdout.write(
                f"  {row.questions:.2f} questions per skill ({label}): Bayes "
                f"{100 * row.bayes_accuracy:.1f} %, default skill model "
                f"{100 * row.default_model_accuracy:.1f} %; known skills the Bayes observer "
                f"calls not known: {100 * row.bayes_missed_known:.1f} %"
            )

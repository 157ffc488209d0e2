"""Fit per-skill BKT parameters from the platform's answers and activate them."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from insights import skills


class Command(BaseCommand):
    help = (
        "Fit the skill model (individualised BKT with forgetting) from the answers of submitted "
        "attempts and store it as the next active 'skill_model' version."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--min-answers",
            type=int,
            default=50,
            help="Skills with fewer answers keep the default parameters (default 50).",
        )
        parser.add_argument(
            "--iterations", type=int, default=40, help="Maximum EM iterations (default 40)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Fit and print, store nothing.")

    def handle(self, *args, **options) -> None:
        if options["min_answers"] < 1:
            raise CommandError("--min-answers must be at least 1.")
        if options["iterations"] < 1:
            raise CommandError("--iterations must be at least 1.")
        try:
            fitted = skills.fit_skill_parameters(
                min_answers=options["min_answers"], iterations=options["iterations"]
            )
        except skills.SkillModelError as exc:
            raise CommandError(str(exc)) from exc
        metrics = fitted.metrics
        self.stdout.write(
            f"{metrics['answers']} answers from {metrics['learners']} learners; "
            f"{len(metrics['skills_fitted'])} skills fitted, "
            f"{len(metrics['skills_defaulted'])} on defaults (< {metrics['min_answers']} answers); "
            f"EM iterations {metrics['em_iterations']}; in-sample AUC {metrics['train_auc']}"
        )
        ability = fitted.parameters[skills.ABILITY_KEY]
        self.stdout.write(
            "  learner ability weights: " + " ".join(f"{k}={v:.3f}" for k, v in ability.items())
        )
        for slug, values in fitted.parameters.items():
            if slug == skills.ABILITY_KEY:
                continue
            source = "fitted" if slug in metrics["skills_fitted"] else "default"
            numbers = " ".join(f"{name}={value:.3f}" for name, value in values.items())
            answers = metrics["answers_per_skill"][slug]
            self.stdout.write(f"  {slug}: {numbers} ({source}, {answers} answers)")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing stored.")
            return
        stored = skills.skill_model_store(fitted=fitted, now=timezone.now())
        self.stdout.write(
            f"Stored and activated {stored}. Run `manage.py recompute_skills` to replay "
            "learners' attempts with it."
        )

"""`manage.py import_oulad <dir>`: load an OULAD export into the platform's tables."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from insights.ml.oulad import OuladError, import_oulad


class Command(BaseCommand):
    help = "Import the Open University Learning Analytics Dataset (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="Folder with the OULAD CSV files.")

    def handle(self, *args, directory: Path, **options) -> None:
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        started = time.perf_counter()
        try:
            summary = import_oulad(
                directory=directory, now=timezone.now(), progress=self.stdout.write
            )
        except (OuladError, ValueError, KeyError) as exc:
            raise CommandError(f"Import failed, nothing was stored: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"OULAD import: {summary} in {time.perf_counter() - started:.1f} s")
        )

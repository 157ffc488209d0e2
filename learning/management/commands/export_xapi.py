"""`manage.py export_xapi --since … --learner …`: xAPI statements as JSON lines."""

from __future__ import annotations

import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from learning import xapi


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Not an ISO 8601 date or time: {value!r}") from error
    if moment.tzinfo is None:
        raise CommandError(f"Give a time zone, e.g. {value}+00:00 or {value}Z.")
    return moment


class Command(BaseCommand):
    help = "Write xAPI 1.0.3 statements (one JSON object per line) to stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="ISO 8601 with a time zone: records from then on")
        parser.add_argument("--until", help="ISO 8601 with a time zone: records before then")
        parser.add_argument("--learner", type=int, help="only this learner's statements")

    def handle(self, *args, since: str | None, until: str | None, learner: int | None, **options):
        count = 0
        for statement in xapi.statements(
            since=_moment(since), until=_moment(until), learner_id=learner
        ):
            self.stdout.write(json.dumps(statement, sort_keys=True))
            count += 1
        self.stderr.write(f"{count} statement(s)")

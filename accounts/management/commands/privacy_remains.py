"""`manage.py privacy_remains --user ID [--email E]`: what is left of a user in any table."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.privacy import personal_data_remains


class Command(BaseCommand):
    help = (
        "List every row that still points at a user id (or mentions their e-mail): after an "
        "erasure this must print nothing personal. Exits with an error when something remains."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", type=int, required=True, help="the user's id")
        parser.add_argument(
            "--email", help="also search every text column for this e-mail (known before erasure)"
        )

    def handle(self, *args, user: int, email: str | None, **options) -> None:
        if user < 1:
            raise CommandError("--user must be a positive id.")
        account = User.objects.filter(pk=user).first()
        email = email or (account.email if account else None)
        remains = personal_data_remains(user_id=user, email=email)
        if not remains:
            self.stdout.write(f"Nothing personal remains for user {user}.")
            return
        for remain in remains:
            self.stdout.write(f"{remain.model}.{remain.field}: {remain.rows} row(s)")
        raise CommandError(f"{len(remains)} place(s) still hold data of user {user}.")

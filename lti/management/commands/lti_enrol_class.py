"""`manage.py lti_enrol_class --context ID --course SLUG`: pre-enrol a platform class (NRPS)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from lti_tool.models import LtiContext

from catalog.models import Course
from lti import services


class Command(BaseCommand):
    help = "Enrol every active learner of an LTI context (its roster, NRPS) in a course."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--context", type=int, required=True, help="LtiContext id (admin)")
        parser.add_argument("--course", required=True, help="course slug")

    def handle(self, *args, context: int, course: str, **options) -> None:
        lti_context = LtiContext.objects.select_related("deployment__registration").filter(
            pk=context
        )
        found = lti_context.first()
        if found is None:
            raise CommandError(f"No LTI context {context}.")
        target = Course.objects.filter(slug=course).first()
        if target is None or not target.is_published:
            raise CommandError(f"No published course {course!r}.")
        try:
            count = services.lti_class_enrol(context=found, course=target, now=timezone.now())
        except services.LaunchRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{count} learner(s) enrolled in {target.title}")

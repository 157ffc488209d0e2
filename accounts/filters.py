"""Filters shared by the API's learner-owned lists."""

from __future__ import annotations

from django_filters import rest_framework as filters


class LearnerFilterSet(filters.FilterSet):
    """``?learner=<id>`` as a plain number: admins narrow a list to one learner, anyone else
    filters their own rows, so an unknown id is an empty list and never tells who exists."""

    learner = filters.NumberFilter(field_name="learner_id")

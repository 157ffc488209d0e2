"""Filters shared by the API's learner-owned lists."""

from __future__ import annotations

from django import forms
from django_filters import rest_framework as filters


class IdFilter(filters.NumberFilter):
    """``?course=<id>`` as a plain whole number, never a lookup of the related row.

    A model-choice filter answers 400 for an id that does not exist but filters
    fine on a hidden (draft) one, which tells the two apart. As a number, both
    are simply an empty list.
    """

    field_class = forms.IntegerField


class LearnerFilterSet(filters.FilterSet):
    """``?learner=<id>`` as a plain number: admins narrow a list to one learner, anyone else
    filters their own rows, so an unknown id is an empty list and never tells who exists."""

    learner = filters.NumberFilter(field_name="learner_id")

"""Filters for the lists of loan projects and claims (django-filter FilterSets).

They only narrow a queryset that a selector has already scoped to the requesting user; they
never widen it. Nothing here depends on DRF, so the web pages can use them too.
"""
from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from core import calendar as working_days
from riskpool import rules, selectors
from riskpool.models import Claim, LoanProject

LP = LoanProject


class LoanProjectFilter(django_filters.FilterSet):
    library = django_filters.MultipleChoiceFilter(choices=LP.Library.choices, label=_("library"))
    classification = django_filters.MultipleChoiceFilter(choices=LP.Classification.choices, label=_("classification"))
    # ?disbursed_on_after=2024-01-01&disbursed_on_before=2024-12-31 (both inclusive)
    disbursed_on = django_filters.DateFromToRangeFilter(label=_("disbursed on"))
    loan_no = django_filters.CharFilter(lookup_expr="icontains", label=_("loan note number"))
    pool = django_filters.NumberFilter(field_name="pool_id", label=_("pool"))

    class Meta:
        model = LoanProject
        fields = ["library", "classification", "disbursed_on", "loan_no", "pool"]


class ClaimFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=[(s, s) for s in rules.CLAIM_STATES], label=_("state"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("next step overdue (RP-16)"))
    project = django_filters.NumberFilter(field_name="project_id", label=_("loan project"))

    class Meta:
        model = Claim
        fields = ["state", "overdue", "project"]

    def filter_overdue(self, queryset, name, value):
        """RP-16: the deadline of the claim's next step (``next_due_on``) is before today's
        Asia/Shanghai date, whoever owes the step; the due date itself is still in time."""
        if value is None:
            return queryset
        overdue = selectors.overdue_q(working_days.shanghai_today())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

"""Filters for lists of agreements, guarantees and compensations (django-filter FilterSets).

Shared by the REST API and the web pages, so nothing here depends on DRF. They only narrow a
queryset that a selector has already scoped to the requesting user; they never widen it.
"""
from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.calendar import shanghai_today
from core.models import Organisation
from guarantees.models import Agreement, Compensation, Guarantee


def _organisations(kind: str):
    return Organisation.objects.filter(kind=kind)


class AgreementFilter(django_filters.FilterSet):
    firm = django_filters.ModelChoiceFilter(queryset=_organisations(Organisation.Kind.GUARANTEE_FIRM), label=_("guarantee firm"))
    bank = django_filters.ModelChoiceFilter(queryset=_organisations(Organisation.Kind.BANK), label=_("bank"))
    compliant = django_filters.BooleanFilter(label=_("compliant with GU-2"))
    code = django_filters.CharFilter(lookup_expr="icontains", label=_("agreement number"))
    signed_on = django_filters.DateFromToRangeFilter(label=_("signed on"))

    class Meta:
        model = Agreement
        fields = ["firm", "bank", "compliant", "code", "signed_on", "batch_mode"]


class GuaranteeFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Guarantee.Status.choices, label=_("status"))
    firm = django_filters.ModelChoiceFilter(queryset=_organisations(Organisation.Kind.GUARANTEE_FIRM), label=_("guarantee firm"))
    bank = django_filters.ModelChoiceFilter(queryset=_organisations(Organisation.Kind.BANK), label=_("bank"))
    # ?start_after=2024-01-01&start_before=2024-12-31 (both inclusive)
    agreement = django_filters.NumberFilter(field_name="agreement_id", label=_("agreement"))
    start = django_filters.DateFromToRangeFilter(label=_("guarantee start"))
    fee_compliant = django_filters.BooleanFilter(label=_("fee compliant (GU-5)"))
    small_micro_or_agri = django_filters.BooleanFilter(label=_("small-micro or 三农"))
    contract_no = django_filters.CharFilter(lookup_expr="icontains", label=_("guarantee contract number"))

    class Meta:
        model = Guarantee
        fields = ["status", "firm", "bank", "agreement", "start", "fee_compliant", "small_micro_or_agri", "contract_no"]


class CompensationFilter(django_filters.FilterSet):
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue (GU-4)"))
    paid = django_filters.BooleanFilter(field_name="paid_on", lookup_expr="isnull", exclude=True, label=_("paid"))
    written_off = django_filters.BooleanFilter(
        field_name="written_off_on", lookup_expr="isnull", exclude=True, label=_("written off")
    )
    firm = django_filters.ModelChoiceFilter(
        field_name="guarantee__firm", queryset=_organisations(Organisation.Kind.GUARANTEE_FIRM), label=_("guarantee firm")
    )
    bank = django_filters.ModelChoiceFilter(
        field_name="guarantee__bank", queryset=_organisations(Organisation.Kind.BANK), label=_("bank")
    )
    default_on = django_filters.DateFromToRangeFilter(label=_("default date"))
    due_on = django_filters.DateFromToRangeFilter(label=_("compensation due on"))

    class Meta:
        model = Compensation
        fields = ["overdue", "paid", "written_off", "firm", "bank", "default_on", "due_on"]

    def filter_overdue(self, queryset, name, value):
        """GU-4 (``rules.is_compensation_overdue``) as a query: unpaid and past the due date,
        judged on today's Asia/Shanghai date; the due date itself is still in time."""
        if value is None:
            return queryset
        overdue = Q(paid_on__isnull=True, due_on__lt=shanghai_today())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

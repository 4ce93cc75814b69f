"""Counter-guarantee test data. Plans are made through counterguarantee.services, so the check
runs as in production; the tables are the shipped ones (migration 0002)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from importlib import import_module

from counterguarantee.services import MeasureData, PlanData, plan_save
from tests.factories import GuaranteeFactory, UserFactory, firm_user


def ensure_tables() -> None:
    """The shipped asset classes, bank rates and rule set (idempotent; a transactional test's flush
    may have emptied them)."""
    from django.apps import apps

    import_module("counterguarantee.migrations.0002_default_tables").add_tables(apps, None)


def mortgage_data(**overrides) -> MeasureData:
    """The worked example's real-estate mortgage, made to pass: 1,000,000 × 70% ≤ 1,000,000."""
    values = dict(kind="mortgage", asset_class="real_estate", value=D("1000000.00"), rate=D("0.700000"),
                  valuation_source="approved_appraiser", appraiser="湖北某评估公司",
                  valued_on=date(2024, 12, 1), valuation_valid_until=date(2025, 11, 30),
                  start=date(2025, 1, 1), end=date(2025, 12, 31), owners=["张三"], signatories=["张三"],
                  contract_no="DY-001", registry="real_estate", registration_number="鄂(2024)武汉市不动产证明第0001号")
    values.update(overrides)
    return MeasureData(**values)


def guarantor_data(**overrides) -> MeasureData:
    values = dict(kind="guarantee", start=date(2025, 1, 1), end=date(2025, 12, 31), owners=["李四"],
                  signatories=["李四"], contract_no="BZ-001")
    values.update(overrides)
    return MeasureData(**values)


def example_guarantee(**kwargs):
    """1,000,000 guaranteed for 2025 (the spec's worked example)."""
    values = dict(amount=D("1000000.00"), loan_principal=D("1000000.00"), start=date(2025, 1, 1),
                  end=date(2025, 12, 31), loan_start=date(2025, 1, 1), loan_maturity=date(2025, 12, 31))
    values.update(kwargs)
    return GuaranteeFactory(**values)


def operator_of(guarantee):
    return firm_user(organisation=guarantee.firm)


def draft_plan(guarantee=None, *, user=None, measures=None, on=date(2025, 1, 1), **data):
    guarantee = guarantee or example_guarantee()
    user = user or operator_of(guarantee)
    plan = plan_save(user=user, guarantee=guarantee, data=PlanData(**data),
                     measures=[mortgage_data()] if measures is None else measures, on=on)
    return plan, user


def other_firm_user():
    return UserFactory(organisation__kind="guarantee_firm", roles=["firm_operator"])

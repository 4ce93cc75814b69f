"""CG-13 limitation dates feed the daily deadline scan (JB-3) through core.deadlines."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import deadlines
from core.calendar import shanghai_today
from counterguarantee import services
from counterguarantee.deadlines import limitation_dates_due
from counterguarantee.models import Measure
from guarantees.models import Guarantee
from tests.counterguarantee.factories import draft_plan, ensure_tables, example_guarantee, guarantor_data, mortgage_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def enforced():
    """An approved plan of a compensated guarantee with a guarantor and a mortgage both pursued."""
    ensure_tables()
    today = shanghai_today()
    guarantee = example_guarantee(start=today - timedelta(days=400), loan_start=today - timedelta(days=400),
                                  end=today - timedelta(days=40), loan_maturity=today - timedelta(days=40))
    plan, user = draft_plan(guarantee, on=guarantee.start, measures=[
        guarantor_data(start=guarantee.start, end=guarantee.end),
        mortgage_data(start=guarantee.start, end=guarantee.end, valued_on=guarantee.start,
                      valuation_valid_until=guarantee.end)])
    services.plan_approve(user=user, plan=plan, on=guarantee.start)
    Guarantee.objects.filter(pk=guarantee.pk).update(status=Guarantee.Status.COMPENSATED)
    recourse = today - timedelta(days=30)
    for m in plan.measures.all():
        services.measure_enforce(user=user, measure=m, recourse_from=recourse)
    return plan, recourse


def test_cg13_provider_yields_the_limitation_dates_due_by_the_horizon(enforced):
    plan, recourse = enforced
    guarantor_due = plan.measures.get(position=0).limitation_due_on
    mortgage_due = plan.measures.get(position=1).limitation_due_on
    assert guarantor_due < mortgage_due
    found = list(limitation_dates_due(shanghai_today(), guarantor_due))
    assert [(o.rule, o.due_on, o.organisation_id) for o in found] == [("CG-13", guarantor_due, plan.firm_id)]
    assert found[0].key == f"counterguarantee.measure:{plan.measures.get(position=0).pk}:limitation"
    assert plan.guarantee.contract_no in found[0].text()
    assert found[0].url.endswith(f"/counterguarantee/plans/{plan.pk}/")
    assert len(list(limitation_dates_due(shanghai_today(), mortgage_due))) == 2
    assert list(limitation_dates_due(shanghai_today(), guarantor_due - timedelta(days=1))) == []


def test_cg13_overdue_dates_are_included_and_closed_ones_left_out(enforced):
    plan, _ = enforced
    Measure.objects.filter(plan=plan, position=0).update(limitation_due_on=date(2020, 1, 1))
    Measure.objects.filter(plan=plan, position=1).update(enforcement_closed_on=shanghai_today())
    found = list(limitation_dates_due(shanghai_today(), shanghai_today()))
    assert [o.due_on for o in found] == [date(2020, 1, 1)]


def test_cg13_is_registered_with_the_deadline_scan(enforced):
    plan, _ = enforced
    horizon = shanghai_today() + timedelta(days=4000)
    rows = [o for o in deadlines.obligations(today=shanghai_today(), horizon=horizon,
                                             organisation_ids={plan.firm_id}) if o.rule == "CG-13"]
    assert len(rows) == 2


def test_cg13_provider_is_one_query(enforced):
    with CaptureQueriesContext(connection) as queries:
        list(limitation_dates_due(shanghai_today(), shanghai_today() + timedelta(days=4000)))
    assert len(queries) == 1

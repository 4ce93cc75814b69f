"""The counterguarantee app's dated obligations for the daily deadline scan (JB-3, core.deadlines):
CG-13, the date by which the firm must act on a counter-guarantee being enforced (demand the
guarantor, sue, enforce the collateral) so that its rights do not lapse."""
from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils.translation import gettext_noop

from core import deadlines
from counterguarantee.models import Measure
from counterguarantee.workflows import MEASURE


@deadlines.provider
def limitation_dates_due(today: date, horizon: date):
    """CG-13: every open limitation date on or before the horizon (overdue ones included), owed by
    the guarantee firm: the deadline of the measure workflow's "action" step. One query over the
    partial index of open enforcements."""
    rows = (Measure.objects.filter(status=Measure.Status.ENFORCED, enforcement_closed_on__isnull=True,
                                   limitation_due_on__lte=horizon)
            .select_related("plan__guarantee")
            .only("pk", "position", "kind", "status", "limitation_due_on", "enforcement_closed_on", "plan_id",
                  "plan__firm_id", "plan__guarantee__contract_no")
            .order_by("limitation_due_on", "pk"))
    for measure in rows.iterator(chunk_size=2000):
        due = MEASURE.step_deadline(measure, "action")
        if due is None:
            continue
        yield deadlines.Obligation(
            organisation_id=measure.plan.firm_id, rule="CG-13", key=f"counterguarantee.measure:{measure.pk}:limitation",
            due_on=due,
            message=gettext_noop("Act on counter-guarantee measure %(number)s of guarantee %(contract)s before its "
                                 "limitation date"),
            params={"number": measure.position + 1, "contract": measure.plan.guarantee.contract_no},
            url=reverse("counterguarantee:plan-detail", args=[measure.plan_id]),
        )

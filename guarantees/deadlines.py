"""The guarantees app's dated obligations for the daily deadline scan (JB-3, core.deadlines):
GU-4, a firm's unpaid compensation to the bank by the end of the agreement's grace period."""
from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils.translation import gettext_noop

from core import deadlines
from guarantees.models import Compensation


@deadlines.provider
def compensations_due(today: date, horizon: date):
    """GU-4: every unpaid compensation due on or before the horizon, owed by the guarantee firm."""
    rows = Compensation.objects.filter(paid_on__isnull=True, due_on__lte=horizon).values(
        "pk", "due_on", "guarantee__firm_id", "guarantee__contract_no", "guarantee__bank__name"
    )
    for row in rows.iterator(chunk_size=2000):
        yield deadlines.Obligation(
            organisation_id=row["guarantee__firm_id"], rule="GU-4", key=f"guarantees.compensation:{row['pk']}",
            due_on=row["due_on"], message=gettext_noop("Pay the compensation of guarantee %(contract)s to %(bank)s"),
            params={"contract": row["guarantee__contract_no"], "bank": row["guarantee__bank__name"]},
            url=reverse("guarantees:compensation-detail", args=[row["pk"]]),
        )

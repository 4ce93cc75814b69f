"""The risk pool's dated obligations for the daily deadline scan (JB-3, core.deadlines):
the next RP-16 step of every open claim, owed by the reviewer, the bank or the treasurer, and
the RP-14 claim window of every non-performing loan not yet claimed."""
from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils.translation import gettext_noop

from core import deadlines
from core.periods import period_bounds
from riskpool import rules
from riskpool.models import Claim, Classification, LoanProject, MissingRecoveryReport, RecoveryReport
from riskpool.selectors import STATE_OWNERS
from riskpool.services import scheme_s_params

OWNER_FIELD = {"reviewer": "pool__reviewer_id", "bank": "project__bank_id", "treasurer": "pool__treasurer_id"}
STEP_MESSAGES = {
    "submitted": gettext_noop("Decide on the claim for loan %(loan)s (%(bank)s)"),
    "re_review": gettext_noop("Re-review the claim for loan %(loan)s (%(bank)s)"),
    "on_notice": gettext_noop("Close the public notice of the claim for loan %(loan)s (%(bank)s)"),
    "closure_requested": gettext_noop("Check the closure application for loan %(loan)s (%(bank)s)"),
    "in_funding_plan": gettext_noop("Upload the payment documents for loan %(loan)s"),
    "paid": gettext_noop("Move loan %(loan)s to the compensation library"),
    "documents_uploaded": gettext_noop("Pay the claim for loan %(loan)s (%(bank)s)"),
}
ACTIVE_CLAIM_STATES_EXCLUDED = ("withdrawn", "upgraded")


@deadlines.provider
def claim_steps(today: date, horizon: date):
    """RP-16: each open claim's next step, for the organisation that owes it."""
    rows = (
        Claim.objects.filter(state__in=list(STATE_OWNERS), next_due_on__lte=horizon)
        .values("pk", "state", "next_due_on", "next_due_provisional", "project__loan_no", "project__bank__name",
                *OWNER_FIELD.values())
    )
    for row in rows.iterator(chunk_size=2000):
        owner = row[OWNER_FIELD[STATE_OWNERS[row["state"]]]]
        if owner is None:
            continue
        yield deadlines.Obligation(
            organisation_id=owner, rule="RP-16", key=f"riskpool.claim:{row['pk']}:{row['state']}",
            due_on=row["next_due_on"], message=STEP_MESSAGES[row["state"]],
            params={"loan": row["project__loan_no"], "bank": row["project__bank__name"]},
            url=reverse("riskpool:claim-detail", args=[row["pk"]]), provisional=row["next_due_provisional"],
        )


@deadlines.provider
def claim_windows(today: date, horizon: date):
    """RP-14: a loan that became non-performing must be claimed within 3 months; the bank is told
    while the window is still open (a window that has closed cannot be acted on any more)."""
    months = scheme_s_params(today).claim_window_months
    # Classification dates whose deadline can fall in [today, horizon]; a few days' slack for
    # month-end clamping, then the exact rule decides.
    earliest = rules.add_months(today, -months) - timedelta(days=3)
    latest = rules.add_months(horizon, -months) + timedelta(days=3)
    claimed = Claim.objects.filter(project=OuterRef("project")).exclude(state__in=ACTIVE_CLAIM_STATES_EXCLUDED)
    moves = (
        Classification.objects.filter(
            on__range=(earliest, latest), new__in=LoanProject.NPL_CLASSES,
            project__classification__in=LoanProject.NPL_CLASSES, project__library=LoanProject.Library.LOAN,
            project__closed_on__isnull=True, project__npl_before_entry=False,
        )
        .exclude(old__in=LoanProject.NPL_CLASSES)
        .exclude(Exists(claimed))
        .values("project_id", "on", "project__loan_no", bank=F("project__bank_id"))
    )
    for row in moves:
        due = rules.claim_deadline(row["on"], scheme_s_params(row["on"]))
        if today <= due <= horizon:
            yield deadlines.Obligation(
                organisation_id=row["bank"], rule="RP-14", key=f"riskpool.window:{row['project_id']}:{row['on']}",
                due_on=due, message=gettext_noop("Claim for non-performing loan %(loan)s by the end of its window"),
                params={"loan": row["project__loan_no"]},
                url=reverse("riskpool:project-detail", args=[row["project_id"]]),
            )


@deadlines.provider
def recovery_reports(today: date, horizon: date):
    """RP-16 8b: a claim in recovery whose report for a closed quarter was missing at the JB-5
    close stays owed by its bank until a recovery received in that quarter is reported. Two
    queries: the missing rows, and the reports filed on their claims since."""
    rows = list(
        MissingRecoveryReport.objects.filter(due_on__lte=horizon, claim__state__in=("in_compensation_library", "recovering"))
        .values("period", "due_on", "claim_id", "claim__project__loan_no", bank=F("member__organisation_id"))
    )
    received: dict[int, list[date]] = {}
    for claim_id, on in RecoveryReport.objects.filter(claim_id__in={r["claim_id"] for r in rows}).values_list(
        "claim_id", "received_on"
    ):
        received.setdefault(claim_id, []).append(on)
    for row in rows:
        _kind, start, end = period_bounds(row["period"])
        if any(start <= on <= end for on in received.get(row["claim_id"], ())):
            continue
        yield deadlines.Obligation(
            organisation_id=row["bank"], rule="RP-16", key=f"riskpool.recovery:{row['claim_id']}:{row['period']}",
            due_on=row["due_on"], message=gettext_noop("Report the %(period)s recoveries of loan %(loan)s"),
            params={"period": row["period"], "loan": row["claim__project__loan_no"]},
            url=reverse("riskpool:claim-detail", args=[row["claim_id"]]),
        )

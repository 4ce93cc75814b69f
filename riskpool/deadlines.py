"""The risk pool's dated obligations for the daily deadline scan (JB-3, core.deadlines):
the next RP-16 step of every open claim, owed by the reviewer, the bank, the treasurer, the
authority or the finance bureau (8a upgrade and 8b settlement applications included), the
RP-14 claim window of every non-performing loan not yet claimed, and the RP-18 closure of matured
performing loans."""
from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Exists, F, OuterRef
from django.urls import reverse
from django.utils.translation import gettext_noop

from core import deadlines
from core.periods import add_months
from riskpool import rules
from riskpool.models import Claim, Classification, LoanProject
from riskpool.services import scheme_s_params
from riskpool.services_reports import auto_close_cutoff
from riskpool.workflows import LIBRARY, STATE_OWNERS

OWNER_FIELD = {"reviewer": "pool__reviewer_id", "bank": "project__bank_id", "treasurer": "pool__treasurer_id",
               "authority": "pool__authority_id", "finance_bureau": "pool__finance_bureau_id"}
STEP_MESSAGES = {
    "submitted": gettext_noop("Decide on the claim for loan %(loan)s (%(bank)s)"),
    "re_review": gettext_noop("Re-review the claim for loan %(loan)s (%(bank)s)"),
    "on_notice": gettext_noop("Close the public notice of the claim for loan %(loan)s (%(bank)s)"),
    "closure_requested": gettext_noop("Check the closure application for loan %(loan)s (%(bank)s)"),
    "in_funding_plan": gettext_noop("Upload the payment documents for loan %(loan)s"),
    "paid": gettext_noop("Move loan %(loan)s to the compensation library"),
    "documents_uploaded": gettext_noop("Pay the claim for loan %(loan)s (%(bank)s)"),
    "upgrade_requested": gettext_noop("Decide the upgrade application for loan %(loan)s (%(bank)s)"),
    "settlement_requested": gettext_noop("Check the settlement application for loan %(loan)s (%(bank)s)"),
    "closure_reviewed": gettext_noop("Re-check the write-off closure of loan %(loan)s (%(bank)s)"),
    "closure_rechecked": gettext_noop("Approve the write-off closure of loan %(loan)s (%(bank)s)"),
    "closure_approved": gettext_noop("Approve the write-off closure of loan %(loan)s (%(bank)s) as finance bureau"),
}
# RP-16 8a / 8b: in the library states the bank owes an application, named by its step.
APPLICATION_MESSAGES = {
    "upgrade_application": gettext_noop("Apply for the upgrade of loan %(loan)s (reclassified as performing)"),
    "settlement_application": gettext_noop("Apply for the settlement of loan %(loan)s (disposal complete)"),
}


def _application_step(row) -> str:
    """Which 8a / 8b application a library-state claim owes: the one whose clock started first."""
    upgraded, disposed = row["reclassified_on"], row["disposal_completed_on"]
    if upgraded is not None and (disposed is None or upgraded <= disposed):
        return "upgrade_application"
    return "settlement_application"
ACTIVE_CLAIM_STATES_EXCLUDED = ("withdrawn", "upgraded")


@deadlines.provider
def claim_steps(today: date, horizon: date):
    """RP-16: each open claim's next step, for the organisation that owes it."""
    rows = (
        Claim.objects.filter(state__in=list(STATE_OWNERS), next_due_on__lte=horizon)
        .values("pk", "state", "next_due_on", "next_due_provisional", "next_due_latest", "project__loan_no",
                "project__bank__name", "reclassified_on", "disposal_completed_on", *OWNER_FIELD.values())
    )
    for row in rows.iterator(chunk_size=2000):
        owner = row[OWNER_FIELD[STATE_OWNERS[row["state"]]]]
        if owner is None:
            continue
        if row["state"] in LIBRARY:
            step = _application_step(row)
            message = APPLICATION_MESSAGES[step]
        else:
            step, message = row["state"], STEP_MESSAGES[row["state"]]
        yield deadlines.Obligation(
            organisation_id=owner, rule="RP-16", key=f"riskpool.claim:{row['pk']}:{step}",
            due_on=row["next_due_on"], message=message,
            params={"loan": row["project__loan_no"], "bank": row["project__bank__name"]},
            url=reverse("riskpool:claim-detail", args=[row["pk"]]), provisional=row["next_due_provisional"],
            latest_on=row["next_due_latest"],
        )


@deadlines.provider
def claim_windows(today: date, horizon: date):
    """RP-14: a loan that became non-performing must be claimed within 3 months; the bank is told
    while the window is still open (a window that has closed cannot be acted on any more)."""
    months = scheme_s_params(today).claim_window_months
    # Classification dates whose deadline can fall in [today, horizon]; a few days' slack for
    # month-end clamping, then the exact rule decides.
    earliest = add_months(today, -months) - timedelta(days=3)
    latest = add_months(horizon, -months) + timedelta(days=3)
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
def repaid_closures(today: date, horizon: date):
    """RP-18: a performing loan of the loan library is closed by its bank within 3 months of its
    maturity; overdue until the system closes it (JB-5, from 6 months after maturity). One item
    per bank and maturity date (a city pool matures thousands of loans a month), one GROUP BY."""
    params = scheme_s_params(today)
    latest = add_months(horizon, -params.normal_closure_months) + timedelta(days=3)  # month-end slack
    auto_from = auto_close_cutoff(today, params)  # the system owes these, not the bank
    live = Claim.objects.filter(project_id=OuterRef("pk")).exclude(state__in=ACTIVE_CLAIM_STATES_EXCLUDED)
    rows = (
        LoanProject.objects.filter(pool__scheme="S", library=LoanProject.Library.LOAN,
                                   maturity_on__gt=auto_from, maturity_on__lte=latest)
        .exclude(classification__in=LoanProject.NPL_CLASSES)
        .exclude(Exists(live))
        .values("bank_id", "maturity_on")
        .annotate(n=Count("pk"))
        .order_by()
    )
    url = reverse("riskpool:projects-to-close")
    for row in rows:
        due = rules.normal_closure_due(row["maturity_on"], params)
        if due > horizon:
            continue
        yield deadlines.Obligation(
            organisation_id=row["bank_id"], rule="RP-18",
            key=f"riskpool.repaid:{row['bank_id']}:{row['maturity_on'].isoformat()}", due_on=due,
            message=gettext_noop("Close the %(count)s repaid loans that matured on %(maturity)s"),
            params={"count": row["n"], "maturity": row["maturity_on"].isoformat()}, url=url,
        )

"""Reads of the evaluation app, always scoped to the requesting user (core.scoping); set-based.

Who sees what: a firm its own submissions, results and cases; a supervisor or the authority the
firms of its jurisdiction (a county supervisor only its county); a distribution-list recipient
the published results (EV-10). A row someone may not see answers 404, like a missing one.
"""
from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from core.calendar import SHANGHAI
from core.errors import RuleViolation
from core.models import Organisation
from core.rulesets import rule_params
from core.scoping import has_jurisdiction, org_filter, sees_everything
from evaluation import rules
from evaluation.models import (
    STEP_TAKEN_FIELDS,
    EvaluationYear,
    ExemptionCase,
    Interview,
    RegionResult,
    Reminder,
    Result,
    Submission,
)
from evaluation.permissions import is_province_user, is_recipient
from guarantees import rules as gu
from guarantees.models import Guarantee
from guarantees.rules import GuaranteeParams
from guarantees.selectors_indicators import WEIGHTED, firm_indicator_rows

# --- figures computed from the recorded guarantees (EV-3) ----------------------------------------


def computed_figures(*, firms: QuerySet[Organisation], year: int) -> dict[int, dict]:
    """EV-3's inputs per firm for ``year``, from the guarantees recorded in the system: balance,
    net assets and leverage (GU-8), written amount and support share (GU-7) through
    guarantees.selectors_indicators; the small-micro and 三农 client count and their
    amount-weighted fee rate (GU-6 restricted to that business) in one more grouped query.
    Values are strings (JSON-ready); a figure that cannot be computed is None."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    try:
        params = GuaranteeParams.from_mapping(rule_params("guarantees", end))
    except RuleViolation:
        params = GuaranteeParams()
    rows = firm_indicator_rows(firms=firms, period_start=start, period_end=end, params=params)
    sme = {
        row["firm_id"]: row
        for row in Guarantee.objects.filter(firm__in=firms.values("pk"), start__gte=start, start__lte=end,
                                            small_micro_or_agri=True)
        .order_by().values("firm_id")
        .annotate(clients=Count("borrower_id", distinct=True), sme_amount=Sum("amount"),
                  weighted=Sum(F("amount") * F("fee_rate"), output_field=WEIGHTED))
    }
    out = {}
    for row in rows:
        s = sme.get(row.firm_id, {})
        amount = s.get("sme_amount") or Decimal("0.00")
        fee = gu.average_fee_rate(s.get("weighted") or 0, amount)
        out[row.firm_id] = {
            "guarantee_balance": str(row.balance),
            "net_assets": None if row.net_assets is None else str(row.net_assets),
            "sme_clients": s.get("clients", 0),
            "sme_amount": str(amount),
            "total_amount": str(row.written_amount),
            "avg_fee_rate": None if fee is None else str(fee),
            "leverage": None if row.leverage is None else str(row.leverage),
            "support_share": None if row.support_share is None else str(row.support_share),
        }
    return out


def figures_of(data: dict) -> rules.FirmFigures | None:
    """The computed figures as rules.FirmFigures, or None when they cannot be scored (no net
    assets); a firm without small-micro business has no fee rate, which scores 0 (EV-3)."""
    try:
        figures = rules.FirmFigures.from_mapping({**data, "avg_fee_rate": data.get("avg_fee_rate") or "0"})
    except RuleViolation:
        return None
    if data.get("avg_fee_rate") is None:
        figures = dataclasses.replace(figures, avg_fee_rate=None)
    return figures


def params_for(year: int) -> rules.EvaluationParams:
    """The evaluation rule set in force on the last day of ``year``; the shipped defaults
    (rules.EvaluationParams) when the authority has not added one (core.RuleSet scheme "evaluation",
    in the admin, with the keys of EvaluationParams)."""
    try:
        return rules.EvaluationParams.from_mapping(rule_params("evaluation", date(year, 12, 31)))
    except RuleViolation as exc:
        if exc.rule != "RULESET":
            raise
        return rules.EvaluationParams()


def year_dates(year: EvaluationYear) -> rules.ChainDates:
    """EV-5: the year's chain deadlines, by its rule set; read once per EvaluationYear instance
    (a list sharing one instance per year asks the rule set once per year, not per row)."""
    dates = year.__dict__.get("_chain_dates")
    if dates is None:
        dates = year.__dict__["_chain_dates"] = params_for(year.year).dates(year.year)
    return dates


# --- years, submissions ---------------------------------------------------------------------------


def years() -> QuerySet[EvaluationYear]:
    return EvaluationYear.objects.order_by("-year")


def year_get(year: int) -> EvaluationYear:
    found = EvaluationYear.objects.filter(year=year).first()
    if found is None:
        raise Http404
    return found


def submissions_for_user(*, user, year: int | None = None) -> QuerySet[Submission]:
    """Submissions of the firms ``user`` may see: its own firm, or its jurisdiction's firms."""
    qs = Submission.objects.filter(org_filter(user, "firm")).select_related(
        "year", "firm", "firm__region", "county_org", "city_org")
    if year is not None:
        qs = qs.filter(year__year=year)
    return qs.order_by("-year__year", "firm__name")


def submission_get_for_user(*, user, submission_id: int) -> Submission:
    found = submissions_for_user(user=user).filter(pk=submission_id).first()
    if found is None:
        raise Http404
    return found


def acting_step(user) -> Q:
    """The submissions waiting on ``user``'s organisation (EV-5): the firm's drafts, the county's
    and city's queues, the province's review."""
    if not user.is_authenticated or (user.organisation_id is None and not user.is_superuser):
        return Q(pk__in=[])
    if is_province_user(user):
        return Q(state=rules.State.PROVINCE)
    org_id = user.organisation_id
    return (Q(state=rules.State.DRAFT, firm_id=org_id) | Q(state=rules.State.COUNTY, county_org_id=org_id)
            | Q(state=rules.State.CITY, city_org_id=org_id))


def waiting_on(*, user) -> QuerySet[Submission]:
    return submissions_for_user(user=user).filter(acting_step(user)).filter(year__stage=EvaluationYear.Stage.OPEN)


def year_overview(*, user, year: EvaluationYear) -> dict:
    """The province's view of a year: submissions per state, late items (EV-5)."""
    subs = submissions_for_user(user=user, year=year.year)
    counts = dict(subs.order_by().values_list("state").annotate(n=Count("pk")))
    return {"counts": counts, "total": sum(counts.values())}


def _taken_on(moment) -> date | None:
    return timezone.localtime(moment, SHANGHAI).date() if moment is not None else None


def submission_lateness(submission: Submission, *, today: date,
                        dates: rules.ChainDates | None = None) -> list[rules.StepLateness]:
    """EV-5: each step of the submission's chain with the day it was taken (in Shanghai) and
    whether it is late (``rules.chain_lateness``); ``dates`` saves a look-up per row."""
    return rules.chain_lateness(
        steps=submission.steps(), dates=dates or year_dates(submission.year), state=submission.state, today=today,
        taken={state: _taken_on(getattr(submission, name)) for state, name in STEP_TAKEN_FIELDS.items()},
    )


def late_counts(*, user, year: EvaluationYear, today: date) -> dict[str, int]:
    """EV-5: per step (the state of whoever owes it), how many of the year's submissions the user
    sees were or are late at that step, judged by when each step was taken (one query)."""
    dates = year_dates(year)
    counts: dict[str, int] = {}
    fields = ("state", "county_org_id", "city_org_id", *STEP_TAKEN_FIELDS.values())
    for row in submissions_for_user(user=user, year=year.year).order_by().values(*fields):
        steps = rules.chain_steps(has_county=row["county_org_id"] is not None, has_city=row["city_org_id"] is not None)
        taken = {state: _taken_on(row[name]) for state, name in STEP_TAKEN_FIELDS.items()}
        for step in rules.chain_lateness(steps=steps, dates=dates, taken=taken, state=row["state"], today=today):
            if step.late:
                counts[step.state] = counts.get(step.state, 0) + 1
    return counts


# --- results --------------------------------------------------------------------------------------


def results_for_user(*, user, year: EvaluationYear) -> QuerySet[Result]:
    """Published results: the whole list for the province and the distribution list (EV-10), the
    jurisdiction's for supervisors, its own for a firm."""
    qs = Result.objects.filter(year=year).select_related("firm", "region")
    if year.stage != EvaluationYear.Stage.PUBLISHED:
        return qs.none()
    if is_province_user(user) or is_recipient(user) or sees_everything(user):
        return qs
    return qs.filter(org_filter(user, "firm"))


def region_results_for_user(*, user, year: EvaluationYear) -> QuerySet[RegionResult]:
    if year.stage != EvaluationYear.Stage.PUBLISHED or not (
        is_province_user(user) or is_recipient(user) or has_jurisdiction(user)
    ):
        return RegionResult.objects.none()
    return RegionResult.objects.filter(year=year).select_related("region")


def firm_history(*, user, firm_id: int) -> list[Result]:
    """The year-on-year view of one firm (the province's and the firm's own)."""
    qs = Result.objects.filter(firm_id=firm_id, year__stage=EvaluationYear.Stage.PUBLISHED).select_related("year")
    if not (is_province_user(user) or is_recipient(user)):
        qs = qs.filter(org_filter(user, "firm"))
    return list(qs.order_by("year__year"))


def interviews_for_user(*, user) -> QuerySet[Interview]:
    return Interview.objects.filter(org_filter(user, "firm")).select_related("firm", "year")


# --- exemption cases ------------------------------------------------------------------------------


def cases_for_user(*, user) -> QuerySet[ExemptionCase]:
    return ExemptionCase.objects.filter(org_filter(user, "firm")).select_related("firm", "guarantee")


def case_get_for_user(*, user, case_id: int) -> ExemptionCase:
    found = cases_for_user(user=user).filter(pk=case_id).first()
    if found is None:
        raise Http404
    return found


def compensated_guarantees(*, user) -> QuerySet[Guarantee]:
    """The firm's compensated guarantees, on which an exemption case can be opened (EV-14)."""
    S = Guarantee.Status
    return Guarantee.objects.filter(org_filter(user, "firm"), status__in=[
        S.COMPENSATED, S.RECOVERING, S.RECOVERED, S.WRITTEN_OFF]).select_related("borrower").order_by("-start")


def _reminder_year(reminder: Reminder) -> int | None:
    # Keys are "EV-5:<year>:<firm>:<stage>" and "EV-9:<year>:<org>" (services._remind).
    part = reminder.key.split(":")[1:2]
    return int(part[0]) if part and part[0].isdigit() else None


def reminders_outstanding(*, user, limit: int = 10) -> list[Reminder]:
    """JB-8 / JB-10 reminders of the user's organisation whose obligation is still open: an EV-5
    reminder goes once the firm's submission of that year has left it (filed, accepted) or the
    province has closed the year; an EV-9 one once the year's targets are set. Three queries."""
    if not user.is_authenticated or not user.organisation_id:
        return []
    reminders = list(Reminder.objects.filter(organisation_id=user.organisation_id)[:50])
    years = {_reminder_year(r) for r in reminders} - {None}
    year_rows = list(EvaluationYear.objects.filter(year__in=years))
    open_years = {row.year for row in year_rows if row.stage == EvaluationYear.Stage.OPEN}
    with_targets = {row.year for row in year_rows if row.has_targets}
    held = set(Submission.objects.filter(firm_id=user.organisation_id, year__year__in=years,
                                         state=rules.State.DRAFT).values_list("year__year", flat=True))
    outstanding = []
    for reminder in reminders:
        year = _reminder_year(reminder)
        if reminder.rule == "EV-5" and (year not in open_years or year not in held):
            continue
        if reminder.rule == "EV-9" and year in with_targets:
            continue
        outstanding.append(reminder)
    return outstanding[:limit]

"""The evaluation submission's workflow (EV-3 … EV-5) as one definition: the firm files with
the county, the county forwards to the city, the city to the province, the province accepts; a
level the firm has no supervisor at is skipped, and each reviewer may return it one step back.
The services check every step here, the pages and the JB-3 list read it (core.workflow)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.workflow import Guard, Step, Workflow
from evaluation import permissions as can
from evaluation import rules
from evaluation.models import CaseDecision, EvaluationYear, ExemptionCase, Submission

S = Submission.State
URL = "evaluation:submission-step"


def _url_args(sub, name: str):
    return (sub.pk, name)


def _dates(sub) -> rules.ChainDates:
    from evaluation.selectors import year_dates

    return year_dates(sub.year)


def _next(sub) -> str:
    return rules.next_step(sub.state, sub.steps())


def _previous(sub) -> str:
    return rules.previous_step(sub.state, sub.steps())


# EV-5: the party holding the submission at each state owes its step by that state's date.
DUE = {S.DRAFT: lambda d: d.firm, S.COUNTY: lambda d: d.county, S.CITY: lambda d: d.city,
       S.PROVINCE: lambda d: d.province}


def _due(sub):
    pick = DUE.get(sub.state)
    return pick(_dates(sub)) if pick else None


YEAR_OPEN = Guard(lambda sub: sub.year.stage == EvaluationYear.Stage.OPEN, "EV-5",
                  _("The province has closed its review of this year."))
HOLDERS = {state: can.HOLDERS[state] for state in (S.COUNTY, S.CITY, S.PROVINCE)}

SUBMISSION = Workflow(
    name="evaluation.submission", rule="EV-5", states=S, noun=_("the submission"),
    steps=[
        Step("refresh", _("Recompute from our guarantees"), "EV-3", [(S.DRAFT, S.DRAFT)], can.firm_holder,
             guards=[YEAR_OPEN], url=URL, url_args=_url_args),
        Step("declare", _("Save declared figures"), "EV-3", [(S.DRAFT, S.DRAFT)], can.firm_holder,
             guards=[YEAR_OPEN], url=URL, url_args=_url_args),
        Step("upload", _("Upload"), "EV-4", [(S.DRAFT, S.DRAFT), (S.COUNTY, S.COUNTY), (S.CITY, S.CITY)],
             {S.DRAFT: can.firm_holder, S.COUNTY: can.county_holder, S.CITY: can.city_holder},
             guards=[YEAR_OPEN], url=URL, url_args=_url_args),
        Step("sign", _("Sign off the scoring form"), "EV-4", [(S.DRAFT, S.DRAFT)], can.firm_holder,
             guards=[YEAR_OPEN], url=URL, url_args=_url_args),
        Step("submit", _("Submit to the supervisor"), "EV-5",
             [(S.DRAFT, S.COUNTY), (S.DRAFT, S.CITY), (S.DRAFT, S.PROVINCE)], can.firm_holder,
             target=_next, guards=[YEAR_OPEN], deadline=_due, url=URL, url_args=_url_args,
             done=pgettext_lazy("evaluation step", "Submitted")),
        Step("forward", _("Forward"), "EV-5", [(S.COUNTY, S.CITY), (S.COUNTY, S.PROVINCE), (S.CITY, S.PROVINCE)],
             {S.COUNTY: can.county_holder, S.CITY: can.city_holder},
             target=_next, guards=[YEAR_OPEN], deadline=_due, url=URL, url_args=_url_args,
             done=pgettext_lazy("evaluation step", "Forwarded")),
        Step("accept", _("Accept"), "EV-5", [(S.PROVINCE, S.ACCEPTED)], {S.PROVINCE: can.province_holder},
             guards=[YEAR_OPEN], deadline=_due, url=URL, url_args=_url_args,
             done=pgettext_lazy("evaluation step", "Accepted")),
        Step("return", _("Return one step back"), "EV-5",
             [(S.COUNTY, S.DRAFT), (S.CITY, S.COUNTY), (S.CITY, S.DRAFT),
              (S.PROVINCE, S.CITY), (S.PROVINCE, S.COUNTY), (S.PROVINCE, S.DRAFT)],
             HOLDERS, target=_previous, guards=[YEAR_OPEN], url=URL, url_args=_url_args,
             done=pgettext_lazy("evaluation step", "Returned")),
        Step("sample", _("Send to a third party"), "EV-5", [(S.PROVINCE, S.PROVINCE), (S.ACCEPTED, S.ACCEPTED)],
             can.province, url=URL, url_args=_url_args,
             done=pgettext_lazy("evaluation step", "Picked for the spot check")),
    ],
)

# The steps that move the submission along the chain (the holder's "next step").
CHAIN_STEPS = ("submit", "forward", "accept", "return")


def _year_args(year, name: str):
    return (year.year,)


# EV-5, EV-9, JB-9: the year is open for submissions until the province closes its review (with
# the year's targets set); then JB-9 scores, ranks and publishes it, and may publish it again.
YEAR = Workflow(
    name="evaluation.year", rule="EV-5", states=EvaluationYear.Stage, state_field="stage", noun=_("the year"),
    steps=[
        Step("close", _("Close the province review"), "EV-5", [(EvaluationYear.Stage.OPEN,
                                                               EvaluationYear.Stage.REVIEW_CLOSED)],
             can.province, guards=[Guard(lambda year: year.has_targets, "EV-9", _("Set the year's targets first."))],
             refused=_("The review of this year is already closed."), url="evaluation:year-close",
             url_args=_year_args),
        Step("publish", _("Score, rank and publish (JB-9)"), "EV-5",
             [(EvaluationYear.Stage.REVIEW_CLOSED, EvaluationYear.Stage.PUBLISHED),
              (EvaluationYear.Stage.PUBLISHED, EvaluationYear.Stage.PUBLISHED)],
             can.province, refused=_("Close the review first."), url="evaluation:year-publish", url_args=_year_args),
    ],
)


# --- EV-14 exemption cases ----------------------------------------------------------------------

C = ExemptionCase.State


def decision_stage(case) -> str:
    """Which decision the case awaits: the appeal's once appealed, else the first."""
    return CaseDecision.Stage.APPEAL if case.state == C.APPEALED else CaseDecision.Stage.FIRST


def pending_decision(case) -> CaseDecision | None:
    """The findings recorded at the case's stage and not yet confirmed (None: nothing to confirm)."""
    if case.state not in (C.OPEN, C.APPEALED):
        return None
    return case.decisions.filter(stage=decision_stage(case), confirmed_at__isnull=True).first()


def _case_url(case, name: str):
    return (case.pk, name)


# EV-14 (seed 000 (十五)): the reviewing body records its findings, from which the outcome is
# derived, and confirms them; the firm may appeal a decision once, and a different reviewer decides.
CASE = Workflow(
    name="evaluation.case", rule="EV-14", states=C, noun=_("the case"),
    steps=[
        Step("findings", _("Record and derive the outcome"), "EV-14", [(C.OPEN, C.OPEN), (C.APPEALED, C.APPEALED)],
             {C.OPEN: can.case_reviewer, C.APPEALED: can.case_reviewer}, refused=_("This case is decided."),
             url="evaluation:case-step", url_args=_case_url),
        Step("confirm", _("Confirm the decision"), "EV-14", [(C.OPEN, C.DECIDED), (C.APPEALED, C.CLOSED)],
             {C.OPEN: can.case_confirmer, C.APPEALED: can.case_confirmer},
             guards=[Guard(lambda case: pending_decision(case) is not None, "EV-14", _("Record the findings first."))],
             refused=_("Record the findings first."), url="evaluation:case-step", url_args=_case_url),
        Step("appeal", _("Appeal"), "EV-14", [(C.DECIDED, C.APPEALED)], can.case_firm,
             refused=_("Only a decided case can be appealed, once."), url="evaluation:case-step", url_args=_case_url),
    ],
)

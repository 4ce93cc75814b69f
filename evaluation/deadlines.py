"""EV-5 and EV-9 obligations for the JB-3 deadline scan (core.deadlines), set-based."""
from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_noop

from core import deadlines
from core.models import Organisation, Region
from evaluation import rules
from evaluation.models import EvaluationYear, Submission
from evaluation.workflows import SUBMISSION as FLOW

S = rules.State


@deadlines.provider
def evaluation_obligations(today: date, horizon: date):
    """EV-5: every open submission, owed by whoever holds it (the firm, the county, the city, the
    province's authorities) by that step's date as the workflow sets it; EV-9: the current year's targets, owed by the
    province's authorities by 31 May while missing. Three queries whatever the number of rows."""
    province_orgs = list(Organisation.objects.filter(kind=Organisation.Kind.AUTHORITY, is_active=True,
                                                     region__level=Region.Level.PROVINCE)
                         .values_list("pk", "region__path"))
    subs = (Submission.objects.filter(year__stage=EvaluationYear.Stage.OPEN)
            .exclude(state__in=FLOW.terminal_states())
            .select_related("year", "firm__region").only("pk", "state", "year", "firm_id", "county_org_id",
                                                          "city_org_id", "firm__name", "firm__region__path"))
    years: dict[int, EvaluationYear] = {}
    for sub in subs:
        sub.year = years.setdefault(sub.year_id, sub.year)  # one instance per year: its dates are read once
        due = FLOW.deadline(sub)
        if due is None or due > horizon:
            continue
        state = sub.state
        holders = {S.DRAFT: [sub.firm_id], S.COUNTY: [sub.county_org_id], S.CITY: [sub.city_org_id],
                   S.PROVINCE: [org for org, prefix in province_orgs if sub.firm.region.path.startswith(prefix)]}[state]
        for org in holders:
            yield deadlines.Obligation(
                organisation_id=org, rule="EV-5", key=f"evaluation.submission:{sub.pk}:{state}", due_on=due,
                message=gettext_noop("%(year)s evaluation of %(firm)s: next step due"),
                params={"year": sub.year.year, "firm": sub.firm.name},
                url=reverse("evaluation:submission", args=[sub.pk]))
    year = today.year
    due = rules.targets_deadline(year)
    if due <= horizon and not EvaluationYear.objects.filter(
        Q(year=year), ~Q(target_leverage=None), ~Q(target_clients=None), ~Q(target_amount=None)
    ).exists():
        for org, _path in province_orgs:
            yield deadlines.Obligation(organisation_id=org, rule="EV-9", key=f"evaluation.targets:{year}", due_on=due,
                                       message=gettext_noop("Set the %(year)s evaluation targets"),
                                       params={"year": year}, url=reverse("evaluation:year-setup", args=[year]))

"""Issue 15: the Scheme S replay for the policy simulator (registered with core.simulation).

Every claim, bank NPL gate and bank grade of the history is decided twice with the same rule
functions the services use (``rules.quote`` for a claim's eligibility, ratio and amount,
``rules.npl_gate_open`` for RP-15, ``rules.evaluate_banks`` and ``rules.revoked`` for RP-20 and
RP-22): once with the rule set in force on the object's own rule date (RP-19), once with the
draft in its place. Only outcomes that differ are listed, each with the first rule whose result
differs. Nothing is written.

Inputs the rules do not take from a rule set (LPR, calendar, special list, qualifications) are
read once per chunk or per date and shared by both decisions, so they cannot make a difference.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from core import calendar as core_calendar
from core import projection
from core.errors import RuleViolation
from core.models import LprRate, Organisation, RuleSet
from core.simulation import Replay, ReplayContext, RuleSetsByDate, register_replay
from guarantees.models import BorrowerQualification
from riskpool import rules
from riskpool.models import BankEvaluation, Claim, Classification, LoanProject, Member, Pool, SpecialListEntry

CHUNK = 2000
# Claims whose compensation counts in the payout totals: all but those withdrawn or refused.
NOT_PAYING = ("withdrawn", "rejected", "upgraded")
# RP-15: claims the gate decides on (accepted, not yet approved).
GATED_STATES = ("submitted", "held_npl_gate")
TWO = Decimal("0.01")


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{(value * 100).quantize(TWO)}%"


def _yuan(value: Decimal) -> str:
    return f"{value.quantize(TWO):,}"


def _quarter(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


class _SpecialList:
    """RP-12 entries of the Scheme S pools, read once. ``ratio`` picks as
    riskpool.services.special_ratio does: a credit-code entry before an industry one, then the
    latest valid_from, then the latest row."""

    def __init__(self):
        self.entries = list(SpecialListEntry.objects.order_by("industry", "-valid_from", "-id").values(
            "pool_id", "credit_code", "industry", "valid_from", "valid_to", "ratio"))

    def ratio(self, *, pool_id: int, credit_code: str, industry: str, on: date) -> Decimal | None:
        for e in self.entries:
            if e["pool_id"] != pool_id or e["valid_from"] > on or (e["valid_to"] and e["valid_to"] < on):
                continue
            if (industry and e["industry"] == industry) or (credit_code and e["credit_code"] == credit_code):
                return e["ratio"]
        return None


class _MemoCalendar:
    """core.calendar (the rules' WorkingDayCalendar), each answer kept for the replay: the same
    dates are asked thousands of times, and every ask would be a cache round trip."""

    def __init__(self):
        self.is_working_day = lru_cache(maxsize=None)(core_calendar.is_working_day)
        self.working_day_deadline = lru_cache(maxsize=None)(core_calendar.working_day_deadline)
        self.nth_working_day_of_quarter = lru_cache(maxsize=None)(core_calendar.nth_working_day_of_quarter)


class _Lpr:
    """RP-7 LPR rates in force on a day, as core.rates.lpr_on answers (the rate with the latest
    effective date on or before it), from the table read once instead of a query per loan."""

    def __init__(self):
        self.by_term: dict[str, tuple[list[date], list[Decimal]]] = {}
        for term in (rules.LPR_ONE_YEAR, rules.LPR_FIVE_YEARS):
            rows = list(LprRate.objects.filter(term=term).order_by("effective_on")
                        .values_list("effective_on", "rate_percent"))
            self.by_term[term] = ([d for d, _r in rows], [r for _d, r in rows])
        self.cache: dict[date, dict] = {}

    def on(self, day: date) -> dict:
        if day not in self.cache:
            rates = {}
            for term, (days, values) in self.by_term.items():
                index = bisect_right(days, day)
                if index:
                    rates[term] = values[index - 1]
            self.cache[day] = rates
        return self.cache[day]


def _first_difference(a: rules.Quote, b: rules.Quote) -> str:
    """The rule id of the first reason whose outcome or words differ (the rule that moved it).
    RP-13 (the amount, or the rules failed) follows from the others, so it is named only when no
    other reason differs: a claim the RP-14 window now refuses is moved by RP-14."""
    for x, y in zip(a.reasons, b.reasons, strict=False):
        if x.rule != "RP-13" and (x.rule != y.rule or x.outcome != y.outcome or str(x.message) != str(y.message)):
            return x.rule
    return "RP-13"


def scheme_s_claims(scenario) -> QuerySet:
    """The claims a Scheme S replay decides: not withdrawn, NPL date within the scenario's dates."""
    claims = Claim.objects.filter(pool__scheme=Pool.Scheme.S).exclude(state="withdrawn")
    if scenario.get("date_from"):
        claims = claims.filter(npl_on__gte=scenario["date_from"])
    if scenario.get("date_to"):
        claims = claims.filter(npl_on__lte=scenario["date_to"])
    return claims


class ClaimInputs:
    """What the quotes need besides the claim and its parameters, read once per replay and shared
    by the two decisions: the RP-12 special list, the RP-7 LPR table and the working days."""

    def __init__(self):
        self.special = _SpecialList()
        self.lpr = _Lpr()
        self.calendar = _MemoCalendar()


def replay_claims_per_row(ctx: ReplayContext, draft: rules.SchemeSParams, rule_sets: RuleSetsByDate, out: dict,
                          claims: QuerySet, inputs: ClaimInputs) -> None:
    """Every claim of ``claims`` quoted twice in Python with ``rules.quote`` (the reference: the
    set-based replay in riskpool.simulation_claims keeps to it, and uses it for what SQL cannot
    decide exactly and for the rule ids of the changes it lists)."""
    total = claims.count()
    out["total_work"] += total
    rows = claims.select_related("project", "project__borrower").order_by("pk")
    chunk: list[Claim] = []

    def flush():
        borrower_ids = {c.project.borrower_id for c in chunk}
        qualifications = defaultdict(list)
        for q in BorrowerQualification.objects.filter(borrower_id__in=borrower_ids):
            qualifications[q.borrower_id].append(rules.Qualification(q.code, q.valid_from, q.valid_to))
        for claim in chunk:
            _replay_claim(claim, qualifications[claim.project.borrower_id], draft, rule_sets, inputs.special,
                          inputs.lpr, inputs.calendar, out)
        out["done"] += len(chunk)
        ctx.progress(out["done"], out["total_work"])
        chunk.clear()

    for claim in rows.iterator(chunk_size=CHUNK):
        chunk.append(claim)
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    out["replayed"]["claims"] += total


def _replay_claim(claim, qualifications, draft, rule_sets, special, lpr_cache, calendar, out) -> None:
    project, borrower = claim.project, claim.project.borrower
    in_force = rule_sets.on(rules.ratio_rule_date(claim.npl_on))
    if in_force is None:
        out["replayed"]["claims_without_rule_set"] += 1
        return
    data = rules.QuoteInput(
        loan_kind=project.loan_kind, principal=project.principal, disbursed_on=project.disbursed_on,
        maturity_on=project.maturity_on, annual_rate=project.annual_rate, other_balance=project.other_balance,
        npl_on=claim.npl_on, outstanding_principal=claim.outstanding_principal, currency=project.currency,
        qualifications=tuple(qualifications), features=tuple(project.features), purpose=project.purpose,
        covered_by_other_scheme=project.covered_by_other_scheme, entered_on=project.entered_on,
        submitted_on=claim.submitted_on, credit_report_on=claim.credit_report_on,
    )
    credit_code = borrower.id_number.upper() if borrower.id_kind == borrower.IdKind.CREDIT_CODE else ""
    kwargs = {
        "lpr_percent": lpr_cache.on(project.disbursed_on), "calendar": calendar,
        "rate_to_yuan": None if project.currency == "CNY" else project.principal_yuan / project.principal,
        "special_ratio": special.ratio(pool_id=claim.pool_id, credit_code=credit_code, industry=borrower.industry,
                                      on=claim.npl_on),
    }
    try:
        before = rules.quote(data, params=in_force, **kwargs)
        after = rules.quote(data, params=draft, **kwargs)
    except RuleViolation:
        out["replayed"]["claims_not_quotable"] += 1
        return
    group = out["group_ratios"][(project.bank_id, project.loan_kind)]
    if before.eligible:
        group[0] += before.ratio
        group[2] += 1
    if after.eligible:
        group[1] += after.ratio
        group[3] += 1
    paying = claim.state not in NOT_PAYING
    if paying:
        quarter = _quarter(claim.paid_on or claim.submitted_on)
        out["quarters"][quarter][0] += before.amount
        out["quarters"][quarter][1] += after.amount
        out["totals"]["payouts"][0] += before.amount
        out["totals"]["payouts"][1] += after.amount
        out["totals"]["eligible_claims"][0] += before.eligible
        out["totals"]["eligible_claims"][1] += after.eligible
    if before.eligible == after.eligible and before.ratio == after.ratio and before.amount == after.amount:
        return
    rule = _first_difference(before, after)
    ref = {"kind": "claim", "id": claim.pk, "ref": project.loan_no, "rule": rule}
    if before.eligible != after.eligible:
        out["changes"].append({**ref, "field": "eligible", "before": "yes" if before.eligible else "no",
                               "after": "yes" if after.eligible else "no"})
    if before.ratio != after.ratio:
        out["changes"].append({**ref, "field": "ratio", "before": _pct(before.ratio), "after": _pct(after.ratio)})
    if before.amount != after.amount:
        out["changes"].append({**ref, "field": "amount", "before": _yuan(before.amount),
                               "after": _yuan(after.amount)})
    out["changed_objects"] += 1


def _replay_banks(ctx: ReplayContext, draft: rules.SchemeSParams, rule_sets: RuleSetsByDate, today: date,
                  out: dict) -> None:
    """RP-15: each member bank's gate today under the rule set in force and under the draft, with
    the claims it would hold; RP-20 / RP-22: each evaluated year's grades and the revocations."""
    in_force = rule_sets.on(today)
    members = list(Member.objects.filter(pool__scheme=Pool.Scheme.S, revoked_on__isnull=True)
                   .select_related("organisation").order_by("pk"))
    waiting = defaultdict(int, Claim.objects.filter(pool__scheme=Pool.Scheme.S, state__in=GATED_STATES)
                          .values_list("project__bank_id").annotate(n=Count("pk")).order_by())
    out["replayed"]["banks"] = len(members)
    for member in members:
        before = in_force is not None and rules.npl_gate_open(member.npl_ratio, in_force)
        after = rules.npl_gate_open(member.npl_ratio, draft)
        out["totals"]["banks_gated"][0] += not before
        out["totals"]["banks_gated"][1] += not after
        held = waiting[member.organisation_id]
        out["totals"]["claims_held"][0] += held if not before else 0
        out["totals"]["claims_held"][1] += held if not after else 0
        if before != after:
            out["changes"].append({
                "kind": "bank", "id": member.pk, "ref": str(member.organisation), "rule": "RP-15", "field": "npl_gate",
                "before": "open" if before else "held", "after": "open" if after else "held",
            })
            out["changed_objects"] += 1
    _replay_grades(draft, rule_sets, out)


def _replay_grades(draft: rules.SchemeSParams, rule_sets: RuleSetsByDate, out: dict) -> None:
    evaluations = list(BankEvaluation.objects.select_related("member__organisation").order_by("pool", "year", "pk"))
    by_pool_year = defaultdict(list)
    for row in evaluations:
        by_pool_year[(row.pool_id, row.year)].append(row)
    grades: dict[str, dict] = {"before": defaultdict(dict), "after": defaultdict(dict)}
    for (_pool, year), rows in sorted(by_pool_year.items(), key=lambda item: item[0][1]):
        in_force = rule_sets.on(date(year, 12, 31))
        bank_years = [rules.BankYear(str(r.member_id), r.amount, r.borrowers, r.prev_amount, r.prev_borrowers,
                                     r.violation) for r in rows]
        before = {g.id: g.grade for g in rules.evaluate_banks(bank_years, in_force)} if in_force else {}
        after = {g.id: g.grade for g in rules.evaluate_banks(bank_years, draft)}
        for r in rows:
            key = str(r.member_id)
            grades["before"][key][year] = before.get(key, r.grade)
            grades["after"][key][year] = after[key]
            if before.get(key, r.grade) != after[key]:
                out["changes"].append({
                    "kind": "bank", "id": r.member_id, "ref": f"{r.member.organisation} {year}", "rule": "RP-20",
                    "field": "grade", "before": before.get(key, r.grade), "after": after[key],
                })
                out["changed_objects"] += 1
    out["replayed"]["bank_years"] = len(evaluations)
    names = {str(r.member_id): str(r.member.organisation) for r in evaluations}
    for key, years in grades["after"].items():
        ordered = sorted(years)
        in_force = rule_sets.on(date(ordered[-1], 12, 31)) or draft
        was = rules.revoked([grades["before"][key][y] for y in ordered], in_force)
        would = rules.revoked([years[y] for y in ordered], draft)
        out["totals"]["banks_revoked"][0] += was
        out["totals"]["banks_revoked"][1] += would
        if was != would:
            out["changes"].append({"kind": "bank", "id": int(key), "ref": names[key], "rule": "RP-22", "field": "revoked",
                                   "before": "yes" if was else "no", "after": "yes" if would else "no"})
            out["changed_objects"] += 1


def new_out() -> dict:
    """The replay's running figures (before, after)."""
    out = {
        "changes": [], "changed_objects": 0, "done": 0, "total_work": 0,
        "replayed": defaultdict(int), "quarters": defaultdict(lambda: [Decimal("0.00"), Decimal("0.00")]),
        "totals": {key: [0, 0] for key in ("eligible_claims", "banks_gated", "claims_held", "banks_revoked")},
        "group_ratios": defaultdict(lambda: [Decimal("0"), Decimal("0"), 0, 0]),
        "extra_change_count": 0,
    }
    out["totals"]["payouts"] = [Decimal("0.00"), Decimal("0.00")]
    return out


def replay_scheme_s(ctx: ReplayContext, *, set_based: bool = True) -> dict:
    """The Scheme S replay. ``set_based`` (the default) decides the claims in the database where
    the rules allow (riskpool.simulation_claims, PostgreSQL; on SQLite, the development default,
    per row); False quotes every claim in Python, the reference the tests hold the set-based
    replay to."""
    draft = rules.SchemeSParams.from_mapping(ctx.draft_params)
    rule_sets = RuleSetsByDate(RuleSet.Scheme.RISKPOOL_S, rules.SchemeSParams.from_mapping)
    out = new_out()
    with core_calendar.pinned():
        inputs = ClaimInputs()
        if set_based and connection.vendor == "postgresql":
            from riskpool.simulation_claims import replay_claims_set_based

            replay_claims_set_based(ctx, draft, rule_sets, out, scheme_s_claims(ctx.scenario), inputs)
        else:
            replay_claims_per_row(ctx, draft, rule_sets, out, scheme_s_claims(ctx.scenario), inputs)
    # The stages after the claims, one unit each on the progress bar.
    out["total_work"] += 2
    ctx.progress(out["done"], out["total_work"])
    _replay_banks(ctx, draft, rule_sets, core_calendar.shanghai_today(), out)
    out["done"] += 1
    ctx.progress(out["done"], out["total_work"])

    def total(code, pair, money=False):
        fmt = _yuan if money else str
        return {"code": code, "before": fmt(pair[0]), "after": fmt(pair[1]), "delta": fmt(pair[1] - pair[0])}

    t = out["totals"]
    today = core_calendar.shanghai_today()
    projected = _projection(ctx, draft, rule_sets.on(today), out["group_ratios"], today)
    ctx.progress(out["total_work"], out["total_work"])
    return {
        "projection": projected,
        "changes": out["changes"],
        "change_count": len(out["changes"]) + out["extra_change_count"],
        "changed_objects": out["changed_objects"],
        "replayed": dict(out["replayed"]),
        "totals": [total("payouts", t["payouts"], money=True)] + [
            total(code, [int(t[code][0]), int(t[code][1])])
            for code in ("eligible_claims", "banks_gated", "claims_held", "banks_revoked")
        ],
        "by_quarter": [
            {"quarter": q, "before": _yuan(b), "after": _yuan(a), "delta": _yuan(a - b)}
            for q, (b, a) in sorted(out["quarters"].items())
        ],
    }


# --- projection (issue 15): the pool's balance for the next 12 quarters ------------------------

OBSERVED_QUARTERS = 4
NPL_CLASSES = tuple(LoanProject.NPL_CLASSES)


def _next_quarters(today: date, count: int) -> list[str]:
    year, quarter = today.year, (today.month - 1) // 3 + 1
    labels = []
    for _step in range(count):
        quarter += 1
        if quarter > 4:
            year, quarter = year + 1, 1
        labels.append(f"{year}Q{quarter}")
    return labels


def _observed_groups(today: date) -> dict[tuple[int, str], dict]:
    """Per bank and loan kind: the performing principal now and the principal classified
    non-performing over the last four quarters (set-based: two grouped sums in the database)."""
    projects = LoanProject.objects.filter(pool__scheme=Pool.Scheme.S)
    performing = (projects.filter(library=LoanProject.Library.LOAN).exclude(classification__in=NPL_CLASSES)
                  .values("bank_id", "loan_kind").annotate(total=Sum("principal_yuan")).order_by())
    since = today - timedelta(days=91 * OBSERVED_QUARTERS)
    fell = (Classification.objects.filter(project__pool__scheme=Pool.Scheme.S, new__in=NPL_CLASSES, on__gt=since,
                                          on__lte=today).exclude(old__in=NPL_CLASSES)
            .values("project__bank_id", "project__loan_kind").annotate(total=Sum("project__principal_yuan")).order_by())
    groups: dict[tuple[int, str], dict] = defaultdict(lambda: {"performing": Decimal("0"), "fell": Decimal("0")})
    for row in performing:
        groups[(row["bank_id"], row["loan_kind"])]["performing"] = row["total"] or Decimal("0")
    for row in fell:
        groups[(row["project__bank_id"], row["project__loan_kind"])]["fell"] = row["total"] or Decimal("0")
    return groups


def _groups_for(observed: dict, ratios: dict, which: int, fallback: Decimal) -> list[projection.Group]:
    counted = sum(r[which + 2] for r in ratios.values())
    overall = (sum(r[which] for r in ratios.values()) / counted) if counted else fallback
    groups = []
    for key, figures in observed.items():
        if figures["performing"] <= 0:
            continue
        r = ratios.get(key)
        ratio = (r[which] / r[which + 2]) if r and r[which + 2] else overall
        rate = figures["fell"] / OBSERVED_QUARTERS / figures["performing"]
        groups.append(projection.Group(f"{key[0]}:{key[1]}", figures["performing"], rate, ratio))
    return groups


def _projection(ctx: ReplayContext, draft: rules.SchemeSParams, in_force: rules.SchemeSParams | None,
                ratios: dict, today: date) -> dict:
    scenario = ctx.scenario
    k = Decimal(str(scenario.get("npl_factor") or "1"))
    m = Decimal(str(scenario.get("recovery_factor") or "1"))
    floor = Decimal(str(scenario.get("floor") or "0"))
    balance = Pool.objects.filter(scheme=Pool.Scheme.S).aggregate(b=Sum("balance"))["b"] or Decimal("0.00")
    paid = Claim.objects.filter(pool__scheme=Pool.Scheme.S).aggregate(p=Sum("paid_amount"), r=Sum("returned_amount"))
    recovery_share = (paid["r"] / paid["p"]) if paid["p"] else Decimal("0")
    observed = _observed_groups(today)
    labels = _next_quarters(today, 12)
    paths = {}
    for name, params, which in (("before", in_force or draft, 0), ("after", draft, 1)):
        groups = _groups_for(observed, ratios, which, params.tiers[0][1])
        rows = projection.project_balance(balance=balance, groups=groups, recovery_share=recovery_share, k=k, m=m)
        run_out = projection.run_out_index(rows)
        paths[name] = {"rows": rows, "run_out": labels[run_out - 1] if run_out else None,
                       "budget": projection.budget_to_keep_above(rows, floor)}
    return {
        "k": str(k), "m": str(m), "floor": _yuan(floor), "start_balance": _yuan(balance),
        "recovery_share": _pct(recovery_share.quantize(Decimal("0.000001"))), "groups": len(observed),
        "observed_quarters": OBSERVED_QUARTERS,
        "quarters": [
            {"quarter": labels[i], "before": str(paths["before"]["rows"][i]["balance"]),
             "after": str(paths["after"]["rows"][i]["balance"]),
             "payouts_before": str(paths["before"]["rows"][i]["payouts"]),
             "payouts_after": str(paths["after"]["rows"][i]["payouts"]),
             "recoveries_after": str(paths["after"]["rows"][i]["recoveries"])}
            for i in range(len(labels))
        ],
        "run_out": {"before": paths["before"]["run_out"], "after": paths["after"]["run_out"]},
        "budget": {"before": _yuan(paths["before"]["budget"]), "after": _yuan(paths["after"]["budget"])},
    }


register_replay(Replay(
    scheme=RuleSet.Scheme.RISKPOOL_S,
    run=replay_scheme_s,
    labels={
        "claim": _("Claim"), "bank": _("Bank"),
        "eligible": _("eligible"), "ratio": _("compensation ratio"), "amount": _("compensation amount (yuan)"),
        "npl_gate": _("NPL gate"), "grade": _("grade"), "revoked": _("membership revoked"),
        "open": _("open"), "held": _("held"), "yes": _("yes"), "no": _("no"),
        "excellent": _("Excellent"), "good": _("Good"), "qualified": _("Qualified"), "unqualified": _("Unqualified"),
        "payouts": _("Compensation on claims not withdrawn or refused (yuan)"),
        "eligible_claims": _("Eligible claims"), "banks_gated": _("Banks over the NPL gate"),
        "claims_held": _("Claims held by the NPL gate"), "banks_revoked": _("Banks revoked"),
        "claims": _("Claims"), "banks": _("Member banks"), "bank_years": _("Bank evaluations (bank × year)"),
        "claims_without_rule_set": _("Claims with no rule set in force on their date"),
        "claims_not_quotable": _("Claims the rules cannot decide (data incomplete)"),
    },
))


# --- Scheme M (马政办〔2024〕6号): reimbursements and suspensions --------------------------------


def _fund_size(product, params: rules.SchemeMParams) -> Decimal:
    """RP-M2: the product's sub-fund size under ``params`` (the product's stored size for a product
    the parameters do not name)."""
    try:
        return rules.m_sub_fund(product.code, params).size
    except RuleViolation:
        return product.size


def replay_scheme_m(ctx: ReplayContext) -> dict:
    """RP-M1 every Scheme M claim's ratio and reimbursement (rule set of the payout date), RP-M3
    every product's and every party's suspension today, under the rule set in force and the draft."""
    from guarantees.models import FirmYearProfile
    from riskpool import services_m
    from riskpool.models import MClaim, Product

    draft = rules.SchemeMParams.from_mapping(ctx.draft_params)
    rule_sets = RuleSetsByDate(RuleSet.Scheme.RISKPOOL_M, rules.SchemeMParams.from_mapping)
    today = core_calendar.shanghai_today()
    in_force = rule_sets.on(today)
    changes, totals, changed_objects = [], {"reimbursements": [Decimal("0.00")] * 2,
                                            "products_suspended": [0, 0], "parties_suspended": [0, 0]}, 0
    claims = list(MClaim.objects.exclude(state="withdrawn").select_related("compensation").order_by("pk"))
    products = list(Product.objects.filter(pool__scheme=Pool.Scheme.M).order_by("pk"))
    ctx.progress(0, len(claims) + len(products))
    in_system = {(f, y) for f, y in FirmYearProfile.objects.filter(in_new_gov_bank_system=True)
                 .values_list("firm_id", "year")}
    for claim in claims:
        paid_on = claim.compensation.paid_on or claim.submitted_on
        before_params = rule_sets.on(paid_on)
        if before_params is None:
            continue
        member = (claim.firm_id, paid_on.year) in in_system
        before = (rules.m_ratio(member, before_params), rules.m_reimbursement(claim.payout, member, before_params))
        after = (rules.m_ratio(member, draft), rules.m_reimbursement(claim.payout, member, draft))
        if claim.state != "rejected":
            totals["reimbursements"][0] += before[1]
            totals["reimbursements"][1] += after[1]
        ref = {"kind": "m_claim", "id": claim.pk, "ref": str(claim.compensation_id), "rule": "RP-M1"}
        if before[0] != after[0]:
            changes.append({**ref, "field": "ratio", "before": _pct(before[0]), "after": _pct(after[0])})
        if before[1] != after[1]:
            changes.append({**ref, "field": "amount", "before": _yuan(before[1]), "after": _yuan(after[1])})
        changed_objects += before != after
    parties = services_m.party_risk_figures(products, on=today) if products else []
    figures = services_m.product_risk_figures(products, on=today, parties=parties) if products else {}
    for product in products:
        fig = figures[product.pk]
        decided = [rules.product_suspended(None, None, fig.cumulative_reimbursed, _fund_size(product, params), params)
                   .suspended if params else product.suspended for params in (in_force, draft)]
        totals["products_suspended"][0] += decided[0]
        totals["products_suspended"][1] += decided[1]
        if decided[0] != decided[1]:
            changes.append({"kind": "product", "id": product.pk, "ref": product.name, "rule": "RP-M3",
                            "field": "suspended", "before": "yes" if decided[0] else "no",
                            "after": "yes" if decided[1] else "no"})
            changed_objects += 1
    names = dict(Organisation.objects.filter(pk__in={f.organisation_id for f in parties}).values_list("pk", "name"))
    for f in parties:
        decided = [rules.party_suspended(f.rate, f.role, params).suspended if params else False
                   for params in (in_force, draft)]
        totals["parties_suspended"][0] += decided[0]
        totals["parties_suspended"][1] += decided[1]
        if decided[0] != decided[1]:
            changes.append({"kind": f"party_{f.role}", "id": f.organisation_id, "ref": names.get(f.organisation_id, ""),
                            "rule": "RP-M3", "field": "suspended", "before": "yes" if decided[0] else "no",
                            "after": "yes" if decided[1] else "no", "product": f.product_id})
            changed_objects += 1
    ctx.progress(len(claims) + len(products), len(claims) + len(products))

    def total(code, pair, money=False):
        fmt = _yuan if money else str
        return {"code": code, "before": fmt(pair[0]), "after": fmt(pair[1]), "delta": fmt(pair[1] - pair[0])}

    return {
        "changes": changes, "change_count": len(changes), "changed_objects": changed_objects,
        "replayed": {"m_claims": len(claims), "products": len(products), "parties": len(parties)},
        "totals": [total("reimbursements", totals["reimbursements"], money=True),
                   total("products_suspended", totals["products_suspended"]),
                   total("parties_suspended", totals["parties_suspended"])],
        "by_quarter": [],
    }


register_replay(Replay(
    scheme=RuleSet.Scheme.RISKPOOL_M,
    run=replay_scheme_m,
    labels={
        "m_claim": _("Scheme M claim"), "product": _("Product"), "party_bank": _("Bank in a product"),
        "party_firm": _("Guarantee firm in a product"), "ratio": _("compensation ratio"),
        "amount": _("reimbursement (yuan)"), "suspended": _("new business suspended"), "yes": _("yes"), "no": _("no"),
        "reimbursements": _("Reimbursements on claims not refused (yuan)"),
        "products_suspended": _("Products suspended (sub-fund usage)"),
        "parties_suspended": _("Banks and firms suspended in a product"),
        "m_claims": _("Scheme M claims"), "products": _("Products"), "parties": _("Banks and firms in products"),
    },
))

"""Issue 15 "Scale": the Scheme S claims of a replay decided set-based in the database.

``rules.quote`` decides a claim from its loan's figures and a parameter set. Most of it is a
comparison of a column with a value that depends on the parameters, or on the parameters and one
date of the claim (a working-day deadline, an LPR): those values are computed here by the same
rule functions, once per distinct date and parameter set (a few thousand calls at most, whatever
the number of claims), and handed to one SQL statement per rule set in force that decides every
claim under both parameter sets at once and aggregates the totals (GROUP BY):

- RP-3 size: B = other balance + principal ≤ the cap of the loan kind;
- RP-4 credit report: report ≤ submission ≤ the report date's ``working_day_deadline(…).latest``;
- RP-6 entry: disbursement ≤ entry ≤ ``rules.entry_deadline(disbursement).latest``, NPL ≥ entry;
- RP-7 exclusions: not covered, own operations, rate ≤ ``rules.rate_limit`` of the term's LPR
  (the term's boundary is ``add_months`` of the disbursement, as ``rules.lpr_term`` says);
- RP-8 … RP-12 ratio: a CASE over B built from the parameter set's tiers, the two bonuses
  (a qualification valid on the disbursement date; any loan feature), LEAST with the cap, the
  special list's ratio first (RP-12, picked as riskpool.simulation._SpecialList does);
- RP-13 amount: ROUND(ratio × outstanding principal, 2) (half up: amounts are never negative);
- RP-14 window: NPL date ≤ submission ≤ ``rules.claim_deadline(NPL date)``;
- a claim ``rules.quote`` refuses to decide (an unknown code, contradictory dates, no LPR of its
  term) is counted as not quotable, as the per-row replay counts it.

What SQL cannot decide exactly stays with the per-row replay (riskpool.simulation): claims in a
foreign currency (RP-5 converts with a Decimal rate of 28 digits). The rule id of each listed
change comes from the words of the two quotes, so the changed claims that are listed (the first
``MAX_LISTED_CHANGES`` changes by claim id) are quoted again with ``rules.quote``; the rest are
counted.
"""
from __future__ import annotations

import dataclasses
from collections import defaultdict

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Count, Q, QuerySet

from core.periods import add_months
from core.simulation import MAX_LISTED_CHANGES, ReplayContext, RuleSetsByDate
from riskpool import rules

NOT_PAYING = ("withdrawn", "rejected", "upgraded")


def _tiers_case(side: str, tiers, params: dict) -> str:
    """RP-8 as SQL: the first tier whose ceiling B does not pass (NULL above the last)."""
    whens = []
    for i, (ceiling, share) in enumerate(tiers):
        params[f"{side}_c{i}"], params[f"{side}_r{i}"] = ceiling, share
        whens.append(f"WHEN balance <= %({side}_c{i})s::numeric THEN %({side}_r{i})s::numeric")
    return f"(CASE {' '.join(whens)} END)" if whens else "NULL::numeric"


def _side_sql(side: str, p: rules.SchemeSParams, params: dict) -> str:
    """The columns deciding every claim under one parameter set (``b``: in force, ``a``: draft)."""
    params.update({
        f"{side}_cap_ent": p.enterprise_balance_cap, f"{side}_cap_house": p.household_credit_cap,
        f"{side}_purposes": [rules.OWN_OPERATIONS, *p.excluded_purposes],
        f"{side}_qual_codes": list(p.qualification_codes), f"{side}_feat_codes": list(p.feature_codes),
        f"{side}_qb": p.qualification_bonus, f"{side}_fb": p.feature_bonus, f"{side}_cap": p.ratio_cap,
        f"{side}_own": rules.OWN_OPERATIONS,
    })
    base = _tiers_case(side, p.tiers, params)
    limit = f"(CASE WHEN maturity_on <= term_{side} THEN l1_{side} ELSE l5_{side} END)"
    return f"""
        (loan_kind = ANY(%(kinds)s) AND purpose = ANY(%({side}_purposes)s)
         AND NOT EXISTS (SELECT 1 FROM guarantees_borrowerqualification q WHERE q.borrower_id = x.borrower_id
                         AND (NOT q.code = ANY(%({side}_qual_codes)s) OR q.valid_to < q.valid_from))
         AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(features) f(code)
                         WHERE NOT f.code = ANY(%({side}_feat_codes)s))
         AND {limit} IS NOT NULL) AS quotable_{side},
        (balance <= CASE WHEN loan_kind = 'enterprise' THEN %({side}_cap_ent)s::numeric
                         ELSE %({side}_cap_house)s::numeric END
         AND credit_report_on <= submitted_on AND submitted_on <= report_due_{side}
         AND entered_on >= disbursed_on AND entered_on <= entry_{side} AND npl_on >= entered_on
         AND NOT covered_by_other_scheme AND purpose = %({side}_own)s AND annual_rate <= {limit}
         AND submitted_on >= npl_on AND submitted_on <= npl_due_{side}) AS gate_{side},
        CASE WHEN special IS NOT NULL THEN special
             WHEN {base} IS NULL THEN NULL
             ELSE LEAST({base} + CASE WHEN has_qualification THEN %({side}_qb)s::numeric ELSE 0 END
                        + CASE WHEN has_feature THEN %({side}_fb)s::numeric ELSE 0 END, %({side}_cap)s::numeric)
        END AS share_{side}"""


def _statement(before: rules.SchemeSParams, draft: rules.SchemeSParams, params: dict) -> str:
    params["kinds"] = list(rules.LOAN_KINDS)
    params["not_paying"] = list(NOT_PAYING)
    decided = "\n".join(
        f"""gate_{s} AND share_{s} IS NOT NULL AS elig_{s},
            CASE WHEN gate_{s} AND share_{s} IS NOT NULL THEN share_{s} ELSE 0 END AS ratio_{s},
            CASE WHEN gate_{s} AND share_{s} IS NOT NULL THEN ROUND(share_{s} * outstanding, 2) ELSE 0 END
                AS amount_{s},""" for s in ("b", "a"))
    return f"""
    WITH disb(day, entry_b, entry_a, term_b, term_a, l1_b, l5_b, l1_a, l5_a) AS (
        SELECT * FROM unnest(%(d_day)s::date[], %(d_entry_b)s::date[], %(d_entry_a)s::date[], %(d_term_b)s::date[],
                             %(d_term_a)s::date[], %(d_l1_b)s::numeric[], %(d_l5_b)s::numeric[],
                             %(d_l1_a)s::numeric[], %(d_l5_a)s::numeric[])),
    report(day, due_b, due_a) AS (
        SELECT * FROM unnest(%(r_day)s::date[], %(r_due_b)s::date[], %(r_due_a)s::date[])),
    npl(day, due_b, due_a) AS (
        SELECT * FROM unnest(%(n_day)s::date[], %(n_due_b)s::date[], %(n_due_a)s::date[])),
    x AS MATERIALIZED (
        SELECT c.id, c.state, COALESCE(c.paid_on, c.submitted_on) AS booked, c.submitted_on, c.npl_on,
               c.credit_report_on, c.outstanding_principal AS outstanding, p.principal, p.bank_id, p.loan_kind,
               p.borrower_id, p.features, p.purpose, p.covered_by_other_scheme, p.annual_rate, p.disbursed_on,
               p.maturity_on, p.entered_on, p.other_balance, p.other_balance + p.principal AS balance,
               disb.entry_b, disb.entry_a, disb.term_b, disb.term_a, disb.l1_b, disb.l5_b, disb.l1_a, disb.l5_a,
               report.due_b AS report_due_b, report.due_a AS report_due_a, npl.due_b AS npl_due_b,
               npl.due_a AS npl_due_a,
               EXISTS (SELECT 1 FROM guarantees_borrowerqualification q WHERE q.borrower_id = p.borrower_id
                       AND q.valid_from <= p.disbursed_on AND (q.valid_to IS NULL OR p.disbursed_on <= q.valid_to))
                   AS has_qualification,
               jsonb_array_length(p.features) > 0 AS has_feature,
               (SELECT s.ratio FROM riskpool_speciallistentry s
                WHERE s.pool_id = c.pool_id AND s.valid_from <= c.npl_on
                  AND (s.valid_to IS NULL OR s.valid_to >= c.npl_on)
                  AND ((b.industry <> '' AND s.industry = b.industry)
                       OR (b.id_kind = 'credit_code' AND b.id_number <> '' AND s.credit_code = UPPER(b.id_number)))
                ORDER BY s.industry, s.valid_from DESC, s.id DESC LIMIT 1) AS special
        FROM riskpool_claim c
        JOIN riskpool_pool pool ON pool.id = c.pool_id AND pool.scheme = 'S'
        JOIN riskpool_loanproject p ON p.id = c.project_id
        JOIN guarantees_borrower b ON b.id = p.borrower_id
        JOIN npl ON npl.day = c.npl_on
        JOIN disb ON disb.day = p.disbursed_on
        JOIN report ON report.day = c.credit_report_on
        WHERE c.state <> 'withdrawn' AND p.currency = 'CNY'),
    y AS MATERIALIZED (
        SELECT id, state, booked, bank_id, loan_kind, outstanding, principal, other_balance, maturity_on,
               disbursed_on, npl_on, {_side_sql("b", before, params)}, {_side_sql("a", draft, params)}
        FROM x),
    q AS MATERIALIZED (
        SELECT id, state, booked, bank_id, loan_kind,
               quotable_b AND quotable_a AND maturity_on > disbursed_on AND npl_on >= disbursed_on
                   AND outstanding <= principal AND outstanding >= 0 AND other_balance >= 0 AS quotable,
               {decided}
               0 AS _
        FROM y)
    SELECT 'quarter', to_char(booked, 'YYYY') || 'Q' || EXTRACT(QUARTER FROM booked)::int, NULL::bigint, NULL,
           SUM(amount_b), SUM(amount_a), COUNT(*) FILTER (WHERE elig_b), COUNT(*) FILTER (WHERE elig_a),
           NULL::bigint[], NULL::int[]
    FROM q WHERE quotable AND NOT state = ANY(%(not_paying)s) GROUP BY 2
    UNION ALL
    SELECT 'group', NULL, bank_id, loan_kind, COALESCE(SUM(ratio_b) FILTER (WHERE elig_b), 0),
           COALESCE(SUM(ratio_a) FILTER (WHERE elig_a), 0), COUNT(*) FILTER (WHERE elig_b),
           COUNT(*) FILTER (WHERE elig_a), NULL, NULL
    FROM q WHERE quotable GROUP BY bank_id, loan_kind
    UNION ALL
    SELECT 'changes', NULL, NULL, NULL, NULL, NULL, COUNT(*), COUNT(*) FILTER (WHERE NOT quotable),
           array_agg(id ORDER BY id) FILTER (WHERE changes > 0),
           array_agg(changes ORDER BY id) FILTER (WHERE changes > 0)
    FROM (SELECT id, quotable, CASE WHEN quotable THEN (elig_b <> elig_a)::int + (ratio_b <> ratio_a)::int
                                                     + (amount_b <> amount_a)::int ELSE 0 END AS changes
          FROM q) counted
    """


def _day_tables(days: dict, before: rules.SchemeSParams, draft: rules.SchemeSParams, inputs) -> dict:
    """The per-date values of both parameter sets, each from the rule function that decides it."""
    calendar, lpr = inputs.calendar, inputs.lpr
    params: dict = {"d_day": days["disbursed"], "r_day": days["report"], "n_day": days["npl"]}
    for side, p in (("b", before), ("a", draft)):
        entry, term, l1, l5 = [], [], [], []
        for day in days["disbursed"]:
            entry.append(rules.entry_deadline(day, calendar=calendar, params=p).latest)
            term.append(add_months(day, 12 * p.lpr_short_term_years))  # rules.lpr_term's boundary
            rates = lpr.on(day)
            l1.append(rules.rate_limit(rates[rules.LPR_ONE_YEAR], p) if rules.LPR_ONE_YEAR in rates else None)
            l5.append(rules.rate_limit(rates[rules.LPR_FIVE_YEARS], p) if rules.LPR_FIVE_YEARS in rates else None)
        params.update({f"d_entry_{side}": entry, f"d_term_{side}": term, f"d_l1_{side}": l1, f"d_l5_{side}": l5})
        # RP-4, as rules.credit_report_current decides it: submitted by the latest possible end of
        # the report date's working days.
        params[f"r_due_{side}"] = [calendar.working_day_deadline(day, p.credit_report_working_days).latest
                                   for day in days["report"]]
        params[f"n_due_{side}"] = [rules.claim_deadline(day, p) for day in days["npl"]]
    return params


def replay_claims_set_based(ctx: ReplayContext, draft: rules.SchemeSParams, rule_sets: RuleSetsByDate, out: dict,
                            claims: QuerySet, inputs) -> None:
    """The claims of ``claims`` decided in the database under the rule set in force on each one's
    NPL date and under the draft, into ``out`` exactly as riskpool.simulation.replay_claims_per_row
    would put them there."""
    from riskpool.simulation import new_out, replay_claims_per_row

    cny = Q(project__currency="CNY")
    stats = claims.order_by().aggregate(
        local=Count("pk", filter=cny), foreign=Count("pk", filter=~cny),
        npl=ArrayAgg("npl_on", distinct=True, filter=cny, default=[]),
        disbursed=ArrayAgg("project__disbursed_on", distinct=True, filter=cny, default=[]),
        report=ArrayAgg("credit_report_on", distinct=True, filter=cny, default=[]))
    local = claims.filter(cny)
    out["total_work"] += stats["local"]
    ctx.progress(out["done"], out["total_work"])
    by_rule_set: dict[int | None, list] = defaultdict(list)  # keyed by the parsed rule set's identity
    for day in stats["npl"]:
        params = rule_sets.on(rules.ratio_rule_date(day))
        by_rule_set[None if params is None else id(params)].append((day, params))
    out["replayed"]["claims"] += stats["local"]
    if by_rule_set.get(None):
        out["replayed"]["claims_without_rule_set"] += local.filter(
            npl_on__in=[d for d, _p in by_rule_set.pop(None)]).count()
    changed: list[tuple[int, int]] = []
    for entries in by_rule_set.values():
        before = entries[0][1]
        days = {"npl": [d for d, _p in entries], "disbursed": stats["disbursed"], "report": stats["report"]}
        params = _day_tables(days, before, draft, inputs)
        sql = _statement(before, draft, params)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for kind, quarter, bank_id, loan_kind, s_b, s_a, n_b, n_a, ids, counts in rows:
            if kind == "quarter":
                out["quarters"][quarter][0] += s_b
                out["quarters"][quarter][1] += s_a
                out["totals"]["payouts"][0] += s_b
                out["totals"]["payouts"][1] += s_a
                out["totals"]["eligible_claims"][0] += n_b
                out["totals"]["eligible_claims"][1] += n_a
            elif kind == "group":
                group = out["group_ratios"][(bank_id, loan_kind)]
                group[0] += s_b
                group[1] += s_a
                group[2] += n_b
                group[3] += n_a
            else:
                if n_a:
                    out["replayed"]["claims_not_quotable"] += n_a
                out["done"] += n_b
                changed.extend(zip(ids or [], counts or [], strict=True))
        ctx.progress(out["done"], out["total_work"])

    # Foreign-currency claims: per row, their changes listed with the others by claim id.
    quiet = dataclasses.replace(ctx, progress=lambda done, total: None)
    scratch = new_out()
    if stats["foreign"]:
        replay_claims_per_row(quiet, draft, rule_sets, scratch, claims.exclude(cny), inputs)
    _merge(out, scratch)
    listed_foreign = defaultdict(list)
    for change in scratch["changes"]:
        listed_foreign[change["id"]].append(change)
    ordered = sorted([(pk, n, False) for pk, n in changed] + [(pk, len(c), True) for pk, c in listed_foreign.items()])
    listed, count, to_quote = [], 0, []
    for pk, n, is_foreign in ordered:
        if count >= MAX_LISTED_CHANGES:
            out["extra_change_count"] += n
            continue
        count += n
        listed.append(pk)
        if not is_foreign:
            to_quote.append(pk)
    out["changed_objects"] += len(changed)
    # The listed claims' entries with their rule ids, from the two quotes of rules.quote.
    requoted = new_out()
    if to_quote:
        replay_claims_per_row(quiet, draft, rule_sets, requoted, claims.filter(pk__in=to_quote), inputs)
    entries = defaultdict(list)
    for change in requoted["changes"]:
        entries[change["id"]].append(change)
    for pk in listed:
        out["changes"].extend(listed_foreign.get(pk) or entries[pk])
    out["done"] = out["total_work"]
    ctx.progress(out["done"], out["total_work"])


def _merge(out: dict, part: dict) -> None:
    """Add a per-row replay's figures (of claims the statement did not decide) to ``out``."""
    out["total_work"] += part["total_work"]
    out["done"] += part["done"]
    out["changed_objects"] += part["changed_objects"]
    for key, value in part["replayed"].items():
        out["replayed"][key] += value
    for quarter, (b, a) in part["quarters"].items():
        out["quarters"][quarter][0] += b
        out["quarters"][quarter][1] += a
    for key in ("payouts", "eligible_claims"):
        out["totals"][key][0] += part["totals"][key][0]
        out["totals"][key][1] += part["totals"][key][1]
    for key, values in part["group_ratios"].items():
        group = out["group_ratios"][key]
        for i in range(4):
            group[i] += values[i]


"""Scheme M (马鞍山, 马政办〔2024〕6号, RP-M1 … RP-M6): reimbursement ratio and sub-fund,
suspensions, covered business, exclusions, returns and report dates. Pure: nothing here queries
or saves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from core.errors import RuleViolation
from core.i18n_text import gettext_lazy as _
from core.money import amount as _amount
from core.money import percent as _pct
from core.money import round_money, yuan
from core.periods import add_months

from .claims import _remaining
from .params import _NO_MONEY, FAIL, INFO, M_DEFAULTS, PASS, Reason, SchemeMParams, SubFund, _fraction

# --- Scheme M ------------------------------------------------------------------------------


def m_ratio(in_new_gov_bank_system: bool, params: SchemeMParams = M_DEFAULTS) -> Decimal:
    """RP-M1 (第八条): 40% of the firm's actual payout (实际代偿金额) when the firm is in the
    provincial new government-bank-guarantee system (省级新型政银担体系), otherwise 20%."""
    return params.ratio_in_system if in_new_gov_bank_system else params.ratio_outside_system


def m_reimbursement(payout: Any, in_new_gov_bank_system: bool, params: SchemeMParams = M_DEFAULTS) -> Decimal:
    """RP-M1: the reimbursement of one payout, in cents."""
    return round_money(_amount(payout, "RP-M1", "payout") * m_ratio(in_new_gov_bank_system, params))


def m_sub_fund(product: str, params: SchemeMParams = M_DEFAULTS) -> SubFund:
    """RP-M2 (第三条): the sub-fund a product's reimbursements come out of (税源贷 and
    固定资产投资贷 share one)."""
    for fund in params.sub_funds:
        if product in fund.products:
            return fund
    products = [p for fund in params.sub_funds for p in fund.products]
    raise RuleViolation(
        "RP-M2",
        _("Unknown product %(product)s; the products are %(products)s.")
        % {"product": product, "products": ", ".join(products)},
        "product",
    )


@dataclass(frozen=True)
class Suspension:
    """RP-M3: whether new business in the product is suspended, and why (one fail reason per
    test that tripped; pass reasons otherwise)."""

    suspended: bool
    reasons: tuple[Reason, ...]


def product_suspended(
    npl_rate: Decimal | None,
    firm_compensation_rate: Decimal | None,
    cumulative_reimbursed: Any,
    product_size: Any,
    params: SchemeMParams = M_DEFAULTS,
) -> Suspension:
    """RP-M3 (第十条): new business in a product is suspended when the product's NPL rate or the
    firm's compensation rate exceeds (超过, strict) 4%, or when the product's cumulative
    reimbursements reach (达到, inclusive) 70% of its size. A rate of None (nothing lent or
    guaranteed yet) trips nothing.

    Interpretation: for the two products that share a sub-fund (税源贷, 固定资产投资贷) the 70%
    test is on the sub-fund: pass their combined reimbursements and the shared size.
    """
    reimbursed = _amount(cumulative_reimbursed, "RP-M3", "cumulative_reimbursed")
    size = _amount(product_size, "RP-M3", "product_size")
    limit = params.suspension_rate
    reasons = []
    for rate, label in (
        (npl_rate, _("The product's NPL rate")),
        (firm_compensation_rate, _("The firm's compensation rate")),
    ):
        if rate is None:
            continue
        values = {"what": label, "rate": _pct(rate), "limit": _pct(limit)}
        if rate > limit:
            reasons.append(Reason("RP-M3", FAIL, _("%(what)s of %(rate)s exceeds %(limit)s.") % values))
        else:
            reasons.append(Reason("RP-M3", PASS, _("%(what)s of %(rate)s is within %(limit)s.") % values))
    threshold = size * params.suspension_usage
    values = {"reimbursed": yuan(reimbursed), "share": _pct(params.suspension_usage), "size": yuan(size)}
    if reimbursed >= threshold:
        reasons.append(
            Reason(
                "RP-M3",
                FAIL,
                _("Reimbursements of %(reimbursed)s yuan have reached %(share)s of the product's %(size)s yuan.")
                % values,
            )
        )
    else:
        reasons.append(
            Reason(
                "RP-M3",
                PASS,
                _("Reimbursements of %(reimbursed)s yuan are below %(share)s of the product's %(size)s yuan.") % values,
            )
        )
    return Suspension(any(r.outcome == FAIL for r in reasons), tuple(reasons))


# RP-M1 (马政办〔2024〕6号 第二十三条, 第二十四条): the measure, and so Scheme M reimbursement, covers
# business from 2024-05-15 on; the older products' earlier business keeps its old terms (第八条(三)).
M_SCHEME_START = date(2024, 5, 15)
M_OLDER_PRODUCTS = ("export", "tax_source", "fixed_asset_investment")  # 出口贷, 税源贷, 固定资产投资贷


def m_business_covered(business_on: date, product_code: str, product_name: str,
                       scheme_start: date = M_SCHEME_START) -> Reason:
    """RP-M1 (第八条(三), 第二十三条, 第二十四条): whether business (a guarantee or loan) started on
    ``business_on`` is reimbursed under Scheme M. From ``scheme_start`` (2024-05-15, the day
    the measure took effect; inclusive) it is; before that, the existing business of 出口贷,
    税源贷 and 固定资产投资贷 follows those products' own earlier measures, and 科信贷 did not
    exist yet."""
    values = {"on": business_on.isoformat(), "start": scheme_start.isoformat(), "product": product_name}
    if business_on >= scheme_start:
        return Reason("RP-M1", PASS, _(
            "The business started on %(on)s, on or after %(start)s when 马政办〔2024〕6号 took effect.") % values)
    if product_code in M_OLDER_PRODUCTS:
        return Reason("RP-M1", FAIL, _(
            "The business started on %(on)s, before %(start)s when 马政办〔2024〕6号 took effect: existing "
            "business of %(product)s follows that product's earlier measures (第八条(三)), not this fund.") % values)
    return Reason("RP-M1", FAIL, _(
        "The business started on %(on)s, before %(start)s when 马政办〔2024〕6号 took effect and created "
        "%(product)s; only business from that day on is reimbursed (第二十三条, 第二十四条).") % values)


def party_suspended(rate: Decimal | None, role: str, params: SchemeMParams = M_DEFAULTS) -> Suspension:
    """RP-M3 (第十条(一)) for one party in one product: a bank's NPL rate on the product's loans
    (专项产品贷款不良率, ``role`` "bank") or a guarantee firm's compensation rate on the
    product's guarantees (担保代偿率, ``role`` "firm") above (超过, strict) 4% suspends that
    party's new business in the product. No rate (nothing lent, released or compensated in the
    product yet) trips nothing, and says so."""
    limit = params.suspension_rate
    label = _("The bank's NPL rate on the product's loans") if role == "bank" else _(
        "The firm's compensation rate on the product's guarantees")
    if rate is None:
        return Suspension(False, (Reason("RP-M3", INFO, _(
            "The bank has no loan of the product yet, so it has no NPL rate on it.") if role == "bank" else _(
            "None of the firm's guarantees of the product has ended yet (released or compensated), so it has no "
            "compensation rate on it.")),))
    values = {"what": label, "rate": _pct(rate), "limit": _pct(limit)}
    if rate > limit:
        return Suspension(True, (Reason("RP-M3", FAIL, _("%(what)s of %(rate)s exceeds %(limit)s.") % values),))
    return Suspension(False, (Reason("RP-M3", PASS, _("%(what)s of %(rate)s is within %(limit)s.") % values),))


M_EXCLUSIONS = {
    "overdue_elsewhere": _(
        "At approval the borrower, its legal representative, controlling shareholder or actual controller had "
        "an unpaid overdue loan at another lender (第十二条(一))."
    ),
    "judgment_debtor": _(
        "At approval the borrower, its legal representative, controlling shareholder or actual controller was "
        "listed by a court as a judgment debtor with unpaid debt (第十二条(一))."
    ),
    "bank_skipped_checks": _("The bank did not carry out its pre-loan checks (第十二条(二))."),
    "firm_skipped_review": _("The guarantee firm did not carry out its guarantee review (第十二条(二))."),
    "fraud": _("There was fraud, misappropriation or collusion to obtain the compensation (第十二条(二))."),
    "late_collection": _("The guarantee firm did not collect in time after the default (第十二条(三))."),
    "other_breach": _(
        "The loan or guarantee was not made as the fund's rules and the cooperation agreement require (第十二条(四))."
    ),
}


def m_exclusions(flags: Mapping[str, bool]) -> list[Reason]:
    """RP-M4 (第十二条): one fail reason per exclusion that applies (keys of ``M_EXCLUSIONS``);
    an empty list means the payout may be reimbursed."""
    unknown = [key for key in flags if key not in M_EXCLUSIONS]
    if unknown:
        raise RuleViolation(
            "RP-M4",
            _("Unknown exclusion %(keys)s; the exclusions are %(known)s.")
            % {"keys": ", ".join(unknown), "known": ", ".join(M_EXCLUSIONS)},
            "flags",
        )
    if not all(isinstance(value, bool) for value in flags.values()):
        raise RuleViolation("RP-M4", _("Each exclusion is true or false."), "flags")
    return [Reason("RP-M4", FAIL, M_EXCLUSIONS[key]) for key in M_EXCLUSIONS if flags.get(key)]


def m_return(recovery: Any, costs: Any, share: Any, reimbursed: Any, returned_so_far: Any) -> Decimal:
    """RP-M5 (第十三条, 第十四条): a recovery, also after write-off, returns (recovery − litigation,
    arbitration and enforcement costs) × the reimbursement ratio, in cents, never more in total
    than was reimbursed; costs above the recovery give 0."""
    net = max(_amount(recovery, "RP-M5", "recovery") - _amount(costs, "RP-M5", "costs"), _NO_MONEY)
    due = round_money(net * _fraction(share, "RP-M5", "ratio"))
    return min(due, _remaining(reimbursed, returned_so_far, "RP-M5"))


def m_return_due(received_on: date, params: SchemeMParams = M_DEFAULTS) -> date:
    """RP-M5 (第十三条): the firm returns within 30 days of receiving the recovered money."""
    return received_on + timedelta(days=params.return_days)


def m_report_due(year: int, params: SchemeMParams = M_DEFAULTS) -> date:
    """RP-M6 (第二十一条): the report on ``year``'s fund use is due by the end of March of the
    following year (m_report_due(2024) is 2025-03-31)."""
    return add_months(date(year + 1, params.report_month, 1), 1) - timedelta(days=1)

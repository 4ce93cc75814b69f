"""After the guarantee: CG-13 limitation of the right of recourse (with its interruptions)
and CG-14 the credit-business share per year. Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.errors import RuleViolation
from core.i18n_text import gettext_lazy as _
from core.money import round_ratio
from core.periods import add_months

from .params import _ONE, ENFORCEMENT_ACTIONS, GENERAL, GUARANTEE, JOINT, KEEPS_GUARANTEE, Params

# --- CG-13 after the guarantee -------------------------------------------------------------


@dataclass(frozen=True)
class Limitation:
    """CG-13 for one measure: the date by which the firm must act, the last action that counted
    (None: none yet), and whether the right is already lost (an action came too late)."""

    due_on: date
    last_interruption: date | None
    lapsed: bool = False


def limitation(*, kind: str, recourse_from: date, actions: Iterable[tuple[date, str]], params: Params,
               liability: str = JOINT) -> Limitation:
    """CG-13 (seed 002 第十七条(五)): the date by which the firm must act on a measure to keep its rights,
    from the actions recorded (``(date, kind)`` of ENFORCEMENT_ACTIONS).

    Interpretation (民法典): the recourse claim arises when the firm pays the bank (代偿).
    - A guarantor (保证) stays liable only if, within the guarantee period (``guarantee_period_months``
      from then, 第六百九十二条, no period agreed), the firm sues or arbitrates — for a general
      guarantee (一般保证) against the debtor, the only way — or, for joint liability (连带责任保证),
      also demands in writing or the guarantor acknowledges (第六百九十三条, ``KEEPS_GUARANTEE``).
      From that action the guarantee debt's limitation runs, ``limitation_years`` (第六百九十四条);
      nothing done after the guarantee period has ended revives it.
    - A mortgage or pledge must be enforced within the limitation of the recourse claim,
      ``limitation_years`` (第一百八十八条, 第四百一十九条).
    Within a running limitation any recorded action interrupts it: ``limitation_years`` again from
    that day (第一百九十五条)."""
    years = 12 * params.limitation_years
    dated = sorted((on, what) for on, what in actions if on >= recourse_from)
    if kind == GUARANTEE:
        keeps = KEEPS_GUARANTEE.get(liability, KEEPS_GUARANTEE[GENERAL])  # unagreed: general, 第六百八十六条
        due, last, running = add_months(recourse_from, params.guarantee_period_months), None, False
    else:
        keeps, running = frozenset(ENFORCEMENT_ACTIONS), True
        due, last = add_months(recourse_from, years), None
    for on, what in dated:
        if on > due:
            return Limitation(due, last, lapsed=True)
        if running or what in keeps:
            running, due, last = True, add_months(on, years), on
    return Limitation(due, last)


def limitation_due_on(*, kind: str, recourse_from: date, last_interruption: date | None, params: Params,
                      liability: str = JOINT) -> date:
    """CG-13: ``limitation`` when the only action known is the last one (a suit, which keeps
    every kind of measure alive)."""
    actions = [(last_interruption, "lawsuit")] if last_interruption is not None else []
    return limitation(kind=kind, recourse_from=recourse_from, actions=actions, params=params,
                      liability=liability).due_on


# --- CG-14 credit-business share -----------------------------------------------------------


@dataclass(frozen=True)
class ShareYear:
    """CG-14 for one firm and year: guarantees with a decided plan, those with a mortgage or pledge,
    the two shares, and how they moved since the year before."""

    year: int
    guarantees: int
    with_collateral: int
    credit_share: Decimal | None
    collateral_share: Decimal | None
    credit_change: Decimal | None = None
    collateral_change: Decimal | None = None
    on_aim: bool | None = None  # credit share rising and collateral share falling year on year


def credit_shares(rows: Iterable[tuple[int, int, int]]) -> list[ShareYear]:
    """CG-14 (第三条): from (year, guarantees, guarantees with a mortgage or pledge), the credit-
    business share (信用担保业务占比, no mortgage or pledge) and the collateral share, with the year-
    on-year change. The policy aim is the first rising and the second falling; a year with no
    year before it (or no business) has no change and no verdict."""
    out: list[ShareYear] = []
    previous: ShareYear | None = None
    for year, total, collateral in sorted(rows):
        if total < 0 or collateral < 0 or collateral > total:
            raise RuleViolation("CG-14", _("The counts do not add up."), "rows")
        if total:
            collateral_share = round_ratio(Decimal(collateral) / Decimal(total))
            credit_share = _ONE - collateral_share
        else:
            credit_share = collateral_share = None
        row = ShareYear(year, total, collateral, credit_share, collateral_share)
        if previous is not None and previous.year == year - 1 and None not in (previous.credit_share, credit_share):
            credit_change = credit_share - previous.credit_share
            collateral_change = collateral_share - previous.collateral_share
            row = dataclasses.replace(row, credit_change=credit_change, collateral_change=collateral_change,
                                      on_aim=credit_change > 0 and collateral_change < 0)
        out.append(row)
        previous = row
    return out

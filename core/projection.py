"""Issue 15 projection: a compensation pool's balance, quarter by quarter, from the rates observed
in its portfolio. Pure arithmetic over Decimal; the riskpool replay gathers the inputs.

Method (shown on the page as it is written here):

- Each group (a bank and a loan kind) keeps its current performing principal P: loans that mature
  are taken to be replaced by new ones of the same kind, so P stays level.
- Every quarter a share r of P becomes non-performing: r is the group's observed quarterly NPL
  rate (principal classified non-performing in the observation window ÷ quarters observed ÷ P),
  times the stress factor k.
- The pool pays that principal times the group's average compensation ratio under the rule set
  (the draft's or the one in force).
- A share s of each quarter's payouts comes back the following quarter (recoveries and
  returns, RP-16 8a/8b): s is the pool's observed recovery share (returned ÷ paid), times the
  stress factor m.
- The balance starts at today's ledger balance. The pool runs out in the first quarter the balance
  would fall below zero. The budget that keeps it at or above the floor is the smallest equal
  top-up at the start of every quarter that does so.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")


@dataclass(frozen=True)
class Group:
    """One bank and loan kind: performing principal, quarterly NPL rate, average ratio."""

    key: str
    performing: Decimal
    npl_rate: Decimal
    ratio: Decimal


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def project_balance(*, balance: Decimal, groups: Sequence[Group], recovery_share: Decimal, quarters: int = 12,
                    k: Decimal = Decimal("1"), m: Decimal = Decimal("1"), budget: Decimal = ZERO) -> list[dict]:
    """The balance at the end of each of ``quarters`` quarters: payouts, recoveries and the budget
    top-up of each quarter, and the closing balance (negative once the pool has run out)."""
    payout_per_quarter = _money(sum((g.performing * g.npl_rate * k * g.ratio for g in groups), ZERO))
    share = min(recovery_share * m, Decimal("1"))
    rows, previous_payout = [], ZERO
    for index in range(1, quarters + 1):
        recovered = _money(previous_payout * share)
        balance = balance + budget - payout_per_quarter + recovered
        rows.append({"index": index, "payouts": payout_per_quarter, "recoveries": recovered, "budget": budget,
                     "balance": balance})
        previous_payout = payout_per_quarter
    return rows


def run_out_index(rows: Sequence[dict]) -> int | None:
    """The first quarter (1-based) whose closing balance is below zero, or None."""
    return next((row["index"] for row in rows if row["balance"] < 0), None)


def budget_to_keep_above(rows: Sequence[dict], floor: Decimal) -> Decimal:
    """The smallest equal top-up per quarter that keeps every closing balance at or above
    ``floor``: with a top-up b the balance after q quarters is the same plus q × b, so b is the
    largest shortfall divided by its quarter, rounded up to the cent; 0 when there is none."""
    needed = ZERO
    for row in rows:
        shortfall = floor - row["balance"]
        if shortfall > 0:
            needed = max(needed, (shortfall / row["index"]).quantize(CENT, rounding=ROUND_CEILING))
    return needed

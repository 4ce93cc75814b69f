"""What guarantees tells, and asks of, the apps built on it without importing them (the import
contracts of docs/architecture.md): each app connects its receivers in its AppConfig.ready().

Receivers run inside the sender's transaction, and an error in one undoes the sender's write.
"""
from __future__ import annotations

from django.dispatch import Signal

from guarantees.models import Guarantee

# CG-13: a compensation was paid, so the recourse claim arose on ``paid_on``.
# Keyword arguments: user, guarantee, paid_on.
compensation_paid = Signal()

# RP-M3: may new business of ``parties`` in the policy loan ``product`` start ``on`` that day?
# Keyword arguments: product, parties, on. Each receiver returns a list of core.errors.Problem.
product_business_checked = Signal()

# The policy loan products a guarantee may name (RP-M3), for forms and imports. No keyword
# arguments; each receiver returns a queryset of products.
products_offered = Signal()

# CG-14: the credit-business share of ``planned`` guarantees with a decided counter-guarantee
# plan of which ``collateral`` take a mortgage or pledge, for the indicator trends. The rule is
# counterguarantee's; the counts are in guarantees' JB-5 snapshots. Keyword arguments: planned,
# collateral. A receiver returns a Decimal, or None when the share is undefined.
credit_share_asked = Signal()


def problems_of_product_business(*, product, parties, on) -> list:
    return [problem for _receiver, found in product_business_checked.send(
        sender=None, product=product, parties=parties, on=on) for problem in found]


def offered_products():
    """The products the apps offer, or none while no app offers any."""
    offered = [found for _receiver, found in products_offered.send(sender=None)]
    if not offered:
        return Guarantee._meta.get_field("product").related_model.objects.none()
    return offered[0] if len(offered) == 1 else offered[0].union(*offered[1:])


def credit_share(*, planned: int, collateral: int):
    """The CG-14 share as the app that owns the rule computes it; None while no app answers
    (the trends then show the column empty rather than a figure guarantees made up)."""
    for _receiver, share in credit_share_asked.send(sender=None, planned=planned, collateral=collateral):
        if share is not None:
            return share
    return None

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


def problems_of_product_business(*, product, parties, on) -> list:
    return [problem for _receiver, found in product_business_checked.send(
        sender=None, product=product, parties=parties, on=on) for problem in found]


def offered_products():
    """The products the apps offer, or none while no app offers any."""
    offered = [found for _receiver, found in products_offered.send(sender=None)]
    if not offered:
        return Guarantee._meta.get_field("product").related_model.objects.none()
    return offered[0] if len(offered) == 1 else offered[0].union(*offered[1:])

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskpoolConfig(AppConfig):
    name = "riskpool"
    verbose_name = _("Risk compensation pool")

    def ready(self):
        from core.audit_display import register_labels
        from core.calendar import calendar_confirmed
        from guarantees import signals
        from riskpool.services import claims_recompute_deadlines
        from riskpool.services_m import PRODUCT_NAMES

        # JB-1: deadlines stored while their year was provisional are counted again when it is confirmed.
        calendar_confirmed.connect(claims_recompute_deadlines, dispatch_uid="riskpool-claims-recompute")
        # RP-M3: guarantees names the pool's policy loan products and refuses new business in a
        # suspended one through its signals (riskpool builds on guarantees, not the reverse).
        signals.products_offered.connect(_offered, dispatch_uid="riskpool-products-offered")
        signals.product_business_checked.connect(_business_checked, dispatch_uid="riskpool-product-business")
        register_labels(PRODUCT_NAMES)


def _offered(sender, **kwargs):
    from riskpool.selectors_m import open_products

    return open_products()


def _business_checked(sender, *, product, parties, on, **kwargs):
    from riskpool.services_m import suspension_problems

    return suspension_problems(product=product, parties=parties, on=on)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskpoolConfig(AppConfig):
    name = "riskpool"
    verbose_name = _("Risk compensation pool")

    def ready(self):
        from core.calendar import calendar_confirmed
        from riskpool.services import claims_recompute_deadlines

        # JB-1: deadlines stored while their year was provisional are counted again when it is confirmed.
        calendar_confirmed.connect(claims_recompute_deadlines, dispatch_uid="riskpool-claims-recompute")

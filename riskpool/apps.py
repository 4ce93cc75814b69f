from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskpoolConfig(AppConfig):
    name = "riskpool"
    verbose_name = _("Risk compensation pool")

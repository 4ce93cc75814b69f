from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CounterguaranteeConfig(AppConfig):
    name = "counterguarantee"
    verbose_name = _("Counter-guarantees")

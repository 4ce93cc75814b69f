from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    """The oversight's firm-indicator dashboard and trends: guarantee-firm figures (GU-2 … GU-9)
    beside the counter-guarantee credit share (CG-14), so it builds on both apps. No models: its
    figures are the apps' (guarantees.FirmIndicatorSnapshot and the live selectors)."""

    name = "indicators"
    verbose_name = _("Firm indicators")

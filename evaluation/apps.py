from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("Annual evaluation")

    def ready(self):
        from core.audit_display import register_labels
        from evaluation.exports import FIGURE_LABELS
        from evaluation.models import CaseDecision

        register_labels(FIGURE_LABELS)
        register_labels(CaseDecision.OUTCOME_LABELS)  # EV-14 outcomes, a field without choices

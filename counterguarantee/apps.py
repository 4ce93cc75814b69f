from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CounterguaranteeConfig(AppConfig):
    name = "counterguarantee"
    verbose_name = _("Counter-guarantees")

    def ready(self):
        from guarantees.signals import compensation_paid

        # CG-13: a paid compensation gives every counter-guarantee measure its date to act
        # (counterguarantee builds on guarantees, not the reverse).
        compensation_paid.connect(_compensation_paid, dispatch_uid="counterguarantee-compensation-paid")


def _compensation_paid(sender, *, user, guarantee, paid_on, **kwargs):
    from counterguarantee.services import measures_on_compensation

    measures_on_compensation(user=user, guarantee=guarantee, paid_on=paid_on)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CounterguaranteeConfig(AppConfig):
    name = "counterguarantee"
    verbose_name = _("Counter-guarantees")

    def ready(self):
        from guarantees.signals import compensation_paid, credit_share_asked

        # CG-13: a paid compensation gives every counter-guarantee measure its date to act
        # (counterguarantee builds on guarantees, not the reverse).
        compensation_paid.connect(_compensation_paid, dispatch_uid="counterguarantee-compensation-paid")
        # CG-14: the indicator trends in guarantees show the credit-business share by this app's rule.
        credit_share_asked.connect(_credit_share, dispatch_uid="counterguarantee-credit-share")


def _compensation_paid(sender, *, user, guarantee, paid_on, **kwargs):
    from counterguarantee.services import measures_on_compensation

    measures_on_compensation(user=user, guarantee=guarantee, paid_on=paid_on)


def _credit_share(sender, *, planned, collateral, **kwargs):
    from counterguarantee.rules import credit_shares

    return credit_shares([(0, planned, collateral)])[0].credit_share

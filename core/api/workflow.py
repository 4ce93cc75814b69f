"""How an API answers what a user may do next with an object: the ``actions_for`` of its workflow
definition (core.workflow), the same list the pages show."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class ActionSerializer(serializers.Serializer):
    """One step the requesting user may take now."""

    name = serializers.CharField(help_text=_("The step, as the workflow names it."))
    label = serializers.CharField(help_text=_("The step in the request's language."))
    target = serializers.CharField(allow_null=True, help_text=_("The state it leads to (null: decided by the input)."))
    target_label = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True, help_text=_("The page where the step is taken."))
    due = serializers.DateField(allow_null=True, help_text=_("The day the step is due, if it has a deadline."))
    rule = serializers.CharField(help_text=_("The rule the step answers to."))


def actions_of(workflow, serializer: serializers.Serializer, obj) -> list[dict]:
    """``workflow.actions_for`` the user of ``serializer``'s request (none without one)."""
    request = serializer.context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return ActionSerializer(workflow.actions_for(request.user, obj), many=True).data

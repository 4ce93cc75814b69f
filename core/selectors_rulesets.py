"""Reads for the rule-set pages and the simulator. Rule sets are the authority's: people of other
organisations get a 404 for any rule set, draft or simulation, as for a row that does not exist."""
from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from core.models import Organisation, RuleSet, RuleSetDraft, Simulation


def is_rule_user(user) -> bool:
    """The authority's people (and superusers) see rule sets, drafts and simulations."""
    org = getattr(user, "organisation", None)
    return bool(user.is_authenticated and (user.is_superuser or (org and org.kind == Organisation.Kind.AUTHORITY)))


def _scoped(user, queryset, pk):
    if not is_rule_user(user):
        raise Http404
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def rule_set_get(*, user, pk) -> RuleSet:
    return _scoped(user, RuleSet.objects.all(), pk)


def draft_get(*, user, pk) -> RuleSetDraft:
    return _scoped(user, RuleSetDraft.objects.select_related("base", "adopted_as", "adopted_with"), pk)


def simulation_get(*, user, pk) -> Simulation:
    return _scoped(user, Simulation.objects.select_related("draft", "draft__base"), pk)


def simulations_get_many(*, user, pks) -> list[Simulation]:
    """The simulations ``pks`` in that order, in one query; a 404 when any is not there."""
    if not is_rule_user(user):
        raise Http404
    try:
        wanted = [int(pk) for pk in pks]
    except (ValueError, TypeError):
        raise Http404 from None
    found = Simulation.objects.select_related("draft").in_bulk(wanted)
    if len(found) != len(set(wanted)):
        raise Http404
    return [found[pk] for pk in wanted]


def simulations_for_user(*, user):
    if not is_rule_user(user):
        return Simulation.objects.none()
    return Simulation.objects.select_related("draft")


def version_get(*, user, key: str) -> RuleSet | RuleSetDraft:
    """``rs-12`` is rule set 12, ``draft-3`` draft 3 (the compare page's choices)."""
    kind, _, pk = key.partition("-")
    if kind == "rs":
        return rule_set_get(user=user, pk=pk)
    if kind == "draft":
        return draft_get(user=user, pk=pk)
    raise Http404


def in_force_for(draft: RuleSetDraft) -> RuleSet | None:
    """The version a draft would replace: the scheme's rule set in force on the draft's date, else
    the one it was copied from."""
    return rule_set_in_force(draft.scheme, draft.effective_from) or draft.base


def rule_set_in_force(scheme: str, on) -> RuleSet | None:
    """The scheme's rule set in force on ``on``, or None in a gap."""
    return (
        RuleSet.objects.filter(scheme=scheme, effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .first()
    )


def rule_sets_by_scheme(*, user) -> list[dict]:
    if not is_rule_user(user):
        return []
    rule_sets = list(RuleSet.objects.order_by("scheme", "-effective_from"))
    drafts = list(RuleSetDraft.objects.select_related("adopted_as").order_by("-created_at"))
    out = []
    for value, label in RuleSet.Scheme.choices:
        out.append({
            "scheme": value, "label": label,
            "rule_sets": [r for r in rule_sets if r.scheme == value],
            "drafts": [d for d in drafts if d.scheme == value],
        })
    return out


def compare_choices(*, user) -> list[tuple[str, str]]:
    if not is_rule_user(user):
        return []
    choices = [(f"rs-{r.pk}", str(r)) for r in RuleSet.objects.order_by("scheme", "-effective_from")]
    choices += [(f"draft-{d.pk}", f"{d} ({d.effective_from:%Y-%m-%d})")
                for d in RuleSetDraft.objects.order_by("scheme", "-created_at")]
    return choices

"""The append-only audit trail (core.audit, AuditEvent, the trigger of migration core/0002)."""
import pytest
from django.db import DatabaseError, connection, transaction

from core.audit import audit, snapshot
from core.models import AuditEvent, RuleSet
from tests.factories import RuleSetFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_audit_writes_a_row_with_actor_organisation_and_after():
    user = UserFactory()
    rule_set = RuleSetFactory()
    event = audit(actor=user, action=AuditEvent.Action.CREATE, instance=rule_set, organisation=user.organisation,
                  summary="created")
    event.refresh_from_db()
    assert (event.actor, event.actor_label, event.organisation) == (user, user.username, user.organisation)
    assert (event.object_type, event.object_id) == ("core.ruleset", str(rule_set.pk))
    assert event.before is None
    assert event.after["params"] == {"example_ratio": "0.400000"}
    assert event.after["effective_from"] == "2024-01-01"


def test_audit_keeps_before_and_after_of_a_change():
    rule_set = RuleSetFactory()
    before = snapshot(rule_set)
    rule_set.name = "renamed"
    rule_set.save()
    event = audit(actor=None, action=AuditEvent.Action.UPDATE, instance=rule_set, before=before)
    assert event.actor_label == "system"
    assert (event.before["name"], event.after["name"]) == (before["name"], "renamed")


def test_audit_of_a_delete_has_no_after():
    rule_set = RuleSetFactory()
    event = audit(actor="job JB-3", action=AuditEvent.Action.DELETE, instance=rule_set, before=snapshot(rule_set))
    assert event.after is None and event.actor_label == "job JB-3"
    assert AuditEvent.objects.filter(object_type="core.ruleset", object_id=str(rule_set.pk)).count() == 1


def _event() -> AuditEvent:
    return audit(actor=None, action=AuditEvent.Action.CREATE, instance=RuleSetFactory())


def test_audit_event_cannot_be_saved_again():
    event = _event()
    event.summary = "rewritten"
    with pytest.raises(PermissionError):
        event.save()


def test_audit_event_cannot_be_deleted():
    event = _event()
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.postgres
def test_audit_trigger_refuses_raw_update():
    event = _event()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE core_auditevent SET summary = 'rewritten' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.summary != "rewritten"


@pytest.mark.postgres
def test_audit_trigger_refuses_raw_delete():
    event = _event()
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.postgres
def test_audit_trigger_refuses_queryset_update():
    event = _event()
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    assert RuleSet.objects.exists()  # the test transaction is still usable

"""RP-18 (第十九条(八)): the bank closes a performing loan of its loan library within 3 months of
its maturity (service, pages, JB-3 item); refused for a non-performing loan, a loan with a claim
under way, the wrong role and another bank."""
from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from core import deadlines
from core.errors import Conflict, RuleViolation
from core.models import AuditEvent
from riskpool import services
from riskpool.models import LoanProject
from tests.audit_text import english
from tests.factories import bank_user
from tests.riskpool.test_services import reload

pytestmark = pytest.mark.django_db
MATURITY = date(2025, 5, 9)  # the worked example's maturity


def _items(world, today, horizon):
    return {o.key: o for o in deadlines.obligations(today=today, horizon=horizon, organisation_ids={world.bank.pk})}


def _key(world):
    return f"riskpool.repaid:{world.bank.pk}:{MATURITY.isoformat()}"


def test_rp18_closure_on_the_last_day_of_the_3_months_is_on_time(world):
    project = world.register()
    project = services.project_close_repaid(user=world.bank_user, project=project, on=date(2025, 8, 9))
    project = reload(project)
    assert (project.library, project.closed_reason, project.closed_on) == (
        LoanProject.Library.CLOSED, LoanProject.ClosedReason.REPAID, date(2025, 8, 9))
    event = AuditEvent.objects.filter(object_type__icontains="loanproject", object_id=str(project.pk)).order_by("id").last()
    assert "RP-18" in english(event.summary) and "late" not in english(event.summary)


def test_rp18_closure_the_day_after_is_recorded_late(world):
    project = world.register()
    services.project_close_repaid(user=world.bank_user, project=project, on=date(2025, 8, 10))
    event = AuditEvent.objects.filter(object_type__icontains="loanproject", object_id=str(project.pk)).order_by("id").last()
    assert "late: due by 2025-08-09" in english(event.summary)


def test_rp18_item_on_jb3_for_the_bank_until_closed(world):
    project = world.register()
    item = _items(world, date(2025, 8, 4), date(2025, 8, 11))[_key(world)]
    assert item.rule == "RP-18" and item.due_on == date(2025, 8, 9) and item.params["count"] == 1
    assert item.url == reverse("riskpool:projects-to-close")
    assert _key(world) not in _items(world, date(2025, 8, 1), date(2025, 8, 8))  # not yet due soon
    assert _items(world, date(2025, 11, 9), date(2025, 11, 14))[_key(world)].due_on < date(2025, 11, 9)  # overdue
    # From the day the system closes it (maturity + 6 months + 1 day), the bank owes nothing.
    assert _key(world) not in _items(world, date(2025, 11, 10), date(2025, 11, 17))
    services.project_close_repaid(user=world.bank_user, project=project, on=date(2025, 8, 5))
    assert _key(world) not in _items(world, date(2025, 8, 4), date(2025, 8, 11))


def test_rp18_non_performing_or_claimed_loans_are_not_owed_nor_closable(world):
    project = world.register()
    world.npl(project)
    assert _key(world) not in _items(world, date(2025, 8, 4), date(2025, 8, 11))
    with pytest.raises(RuleViolation) as npl:
        services.project_close_repaid(user=world.bank_user, project=project, on=date(2025, 8, 5))
    assert npl.value.problems[0].rule == "RP-18"
    world.submit(project)
    world.npl(project, on=date(2025, 5, 1), new="normal")  # a live claim on a loan back to normal
    with pytest.raises(Conflict):
        services.project_close_repaid(user=world.bank_user, project=project, on=date(2025, 8, 5))


def test_rp18_wrong_role_and_other_bank_are_refused_and_a_closed_loan_stays_closed(world):
    project = world.register()
    for user in (world.reviewer, world.treasurer, world.authority, bank_user()):
        with pytest.raises(PermissionDenied):
            services.project_close_repaid(user=user, project=project, on=date(2025, 8, 5))
    services.project_close_repaid(user=world.bank_user, project=project, on=date(2025, 8, 5))
    with pytest.raises(Conflict):
        services.project_close_repaid(user=world.bank_user, project=project, on=date(2025, 8, 6))


def test_rp18_pages_list_confirm_and_close(client, world):
    project = world.register()
    client.force_login(world.bank_user)
    page = client.get(reverse("riskpool:projects-to-close")).content.decode()
    assert project.loan_no in page and "2025-08-09" in page
    url = reverse("riskpool:project-close", args=[project.pk])
    confirm = client.post(url, {"next": "list"})
    assert confirm.status_code == 200 and 'name="confirmed"' in confirm.content.decode()
    assert reload(project).library == LoanProject.Library.LOAN
    response = client.post(url, {"next": "list", "confirmed": "1"})
    assert response.status_code == 302 and response.url == reverse("riskpool:projects-to-close")
    assert reload(project).closed_reason == LoanProject.ClosedReason.REPAID
    detail = reverse("riskpool:project-detail", args=[project.pk])
    assert detail not in client.get(reverse("riskpool:projects-to-close")).content.decode()
    client.force_login(bank_user())
    assert client.post(url, {"confirmed": "1"}).status_code == 404
    client.force_login(world.reviewer)
    assert client.get(reverse("riskpool:projects-to-close")).status_code == 403

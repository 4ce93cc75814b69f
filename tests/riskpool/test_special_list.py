"""RP-12 special list: a borrower (by credit code) or industry on an entry valid on the NPL date
takes the entry's ratio at claim submission; the authority maintains the list in the audited admin."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.urls import reverse

from core.models import AuditEvent, User
from riskpool.models import SpecialListEntry
from tests.factories import PoolFactory

pytestmark = pytest.mark.django_db


def claim_with(world, loan_no="JJ-2024-0001", **entry):
    project = world.register(loan_no=loan_no)
    values = dict(pool=world.pool, credit_code=project.borrower.id_number, ratio=D("0.700000"),
                  valid_from=date(2025, 1, 1), valid_to=date(2025, 12, 31))
    values.update(entry)
    if values.get("industry"):
        values["credit_code"] = ""
    SpecialListEntry.objects.create(**values)
    world.npl(project)  # non-performing on 2025-03-03
    return world.submit(project)


def test_rp12_a_borrower_on_the_special_list_takes_its_ratio(world):
    claim = claim_with(world)
    assert (claim.ratio, claim.amount) == (D("0.700000"), D("1680000.00"))  # not the 50% cap of RP-11


def test_rp12_an_entry_not_valid_on_the_npl_date_or_of_another_pool_does_not_count(world):
    assert claim_with(world, "JJ-1", valid_to=date(2025, 3, 2)).ratio == D("0.500000")
    assert claim_with(world, "JJ-2", valid_from=date(2025, 3, 4), valid_to=None).ratio == D("0.500000")
    assert claim_with(world, "JJ-3", pool=PoolFactory()).ratio == D("0.500000")
    assert claim_with(world, "JJ-4", valid_from=date(2025, 3, 3), valid_to=date(2025, 3, 3)).ratio == D("0.700000")


def test_rp12_an_industry_entry_counts_and_a_credit_code_entry_beats_it(world):
    project = world.register()
    project.borrower.industry = "C39"
    project.borrower.save(update_fields=["industry"])
    SpecialListEntry.objects.create(pool=world.pool, industry="C39", ratio=D("0.600000"), valid_from=date(2025, 1, 1))
    world.npl(project)
    assert world.submit(project).ratio == D("0.600000")

    other = world.register(loan_no="JJ-2024-0002")
    other.borrower.industry = "C39"
    other.borrower.save(update_fields=["industry"])
    SpecialListEntry.objects.create(pool=world.pool, credit_code=other.borrower.id_number, ratio=D("0.300000"),
                                    valid_from=date(2024, 1, 1))
    world.npl(other)
    assert world.submit(other).ratio == D("0.300000")


def test_rp12_the_special_list_admin_is_audited(client, world):
    client.force_login(User.objects.create_superuser("root", "root@example.invalid", "pass-Word-123"))
    assert client.get(reverse("admin:riskpool_speciallistentry_changelist")).status_code == 200
    response = client.post(reverse("admin:riskpool_speciallistentry_add"), {
        "pool": world.pool.pk, "credit_code": "91440300MA5XXXXXX1", "industry": "", "ratio": "0.65",
        "valid_from": "2025-01-01", "valid_to": "", "note": "市政府批准",
    })
    assert response.status_code == 302, response.content[:2000]
    entry = SpecialListEntry.objects.get()
    event = AuditEvent.objects.get(object_type="riskpool.speciallistentry", object_id=str(entry.pk))
    assert event.organisation_id == world.pool.authority_id and event.after["ratio"] in ("0.65", "0.650000")


def test_rp12_the_special_list_form_lists_every_problem_in_one_pass(client, world):
    """Issue 13.3: a mistyped ratio (field), a credit code and an industry together and an end
    before the start (RP-12 cross-field) are all shown on the first submission."""
    client.force_login(world.authority)
    response = client.post(reverse("riskpool:admin-special-add", args=[world.pool.pk]), {
        "credit_code": "91440300MA5XXXXXX1", "industry": "C39", "ratio": "abc", "valid_from": "2025-04-01",
        "valid_to": "2025-03-01", "note": ""})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"ratio", "credit_code", "valid_to"} <= set(errors)
    assert "RP-12" in str(errors["credit_code"]) and "RP-12" in str(errors["valid_to"])
    assert not SpecialListEntry.objects.exists()

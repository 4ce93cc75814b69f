"""The bank's claims list (issue 13 point 9): its own claims only (RP-25), by state in the order
of the RP-16 workflow, each with its next deadline; paginated; in the nav of a bank."""
from datetime import date

import pytest
from django.urls import reverse

from riskpool.models import Claim
from tests.factories import bank_user

pytestmark = pytest.mark.django_db


def test_rp25_bank_sees_its_claims_in_workflow_order_with_next_deadline(client, world):
    on_notice = world.to_notice(world.claim("JJ-2024-0001"))
    submitted = world.claim("JJ-2024-0002")
    client.force_login(world.bank_user)
    response = client.get(reverse("riskpool:claim-list"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    # Submitted (step 1) comes before on notice (step 3) whatever the submission order.
    assert html.index("JJ-2024-0002") < html.index("JJ-2024-0001")
    assert "Next deadline" in html and "Submitted, awaiting review" in html and "On public notice" in html
    assert submitted.next_due_on.strftime("%Y-%m-%d") in html
    assert reverse("riskpool:claim-detail", args=[on_notice.pk]) in html
    assert f'href="{reverse("riskpool:claim-list")}"' in html  # the bank's nav entry


def test_rp25_claim_list_in_chinese(client, world):
    world.claim()
    client.force_login(world.bank_user)
    html = client.get(reverse("riskpool:claim-list"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "下一步截止日期" in html and "已提交，待审核" in html and "风险补偿申请" in html
    assert "Next deadline" not in html


def test_rp25_another_bank_sees_none_of_our_claims(client, world):
    world.claim("JJ-2024-0001")
    other = bank_user()
    client.force_login(other)
    response = client.get(reverse("riskpool:claim-list"))
    assert response.status_code == 200
    assert "JJ-2024-0001" not in response.content.decode()


def test_claim_list_is_paginated(client, world):
    claim = world.claim()
    fields = {f.attname: getattr(claim, f.attname) for f in Claim._meta.concrete_fields if f.attname != "id"}
    # More than one page: withdrawn copies of the claim (a withdrawn claim does not block another).
    Claim.objects.bulk_create([Claim(**fields | {"state": "withdrawn", "submitted_on": date(2025, 1, 1)})
                               for _ in range(60)])
    client.force_login(world.bank_user)
    html = client.get(reverse("riskpool:claim-list")).content.decode()
    assert "?page=2" in html

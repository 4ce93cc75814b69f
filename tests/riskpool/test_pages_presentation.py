"""What the risk-pool pages show, found by the roles walk (issue 13):

- RP-18 on the loan page: "close when repaid by" is a forecast, so a loan maturing after the last
  Scheme S rule set still shows its page (it answered 500 for the demo's 2029 maturities), with
  the date counted by the rule set in force today. Another bank's loan stays 404.
- The pool page counts its claims by state in workflow order (13.4), not alphabetically."""
from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from riskpool import rules, selectors
from tests.factories import ClaimFactory, LoanProjectFactory, bank_user

pytestmark = pytest.mark.django_db


def test_rp18_loan_maturing_past_every_rule_set_shows_its_closure_forecast(client, world, server_day):
    server_day(date(2025, 6, 1))
    project = LoanProjectFactory(pool=world.pool, bank=world.bank, maturity_on=date(2099, 3, 31))
    client.force_login(world.bank_user)
    response = client.get(reverse("riskpool:project-detail", args=[project.pk]))
    assert response.status_code == 200
    assert "2099-06-30" in response.content.decode()  # 3 months after maturity (RP-18)
    client.force_login(bank_user())
    assert client.get(reverse("riskpool:project-detail", args=[project.pk])).status_code == 404


def test_pool_page_counts_claims_by_state_in_workflow_order(world):
    for state in ("paid", "approved", "submitted", "in_compensation_library", "approved"):
        ClaimFactory(pool=world.pool, project__pool=world.pool, project__bank=world.bank, state=state)
    by_state = selectors.pool_summary(user=world.authority, pool=world.pool)["claims_by_state"]
    assert list(by_state) == ["submitted", "approved", "paid", "in_compensation_library"]
    assert by_state["approved"] == 2
    assert list(by_state) == sorted(by_state, key=rules.CLAIM_STATES.index)

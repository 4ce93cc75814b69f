"""RP-16 step 3, the public notice (公示), run by the authority (seed 004 第二十条(二): "由主管部门
定期进行集中网上公示，公示期不少于7个工作日"): the authority starts and closes it on its notice desk,
the reviewer only decides objections; the close-notice item on the JB-3 deadline lists is due
from the day after the notice's last day, not overdue on it; the public page shows each claim's
notice period.

The worked dates: a notice started on Monday 2025-04-14 ends on Wednesday 2025-04-23 (7 working
days, the day of publication not counted); it may be closed, and is owed, from 2025-04-24."""
from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from core import deadlines
from riskpool import selectors, services
from tests.factories import PoolFactory, UserFactory

pytestmark = pytest.mark.django_db
START, END, CLOSE_DUE = date(2025, 4, 14), date(2025, 4, 23), date(2025, 4, 24)


@pytest.fixture
def approved(world):
    claim = world.claim()
    return services.claim_review(user=world.reviewer, claim=claim, approve=True, note="符合条件", on=date(2025, 4, 10))


def reload(obj):
    obj.refresh_from_db()
    return obj


# --- who runs the notice --------------------------------------------------------------------


def test_rp16_the_reviewer_can_no_longer_start_the_notice(world, approved):
    with pytest.raises(PermissionDenied):
        services.claim_notice_start(user=world.reviewer, claims=[approved], on=START)
    assert reload(approved).state == "approved"


def test_rp16_another_pools_authority_cannot_start_the_notice(world, approved):
    stranger = UserFactory(organisation=PoolFactory().authority, roles=["authority_admin"])
    with pytest.raises(PermissionDenied):
        services.claim_notice_start(user=stranger, claims=[approved], on=START)


def test_rp16_the_authority_starts_and_closes_the_notice(world, approved):
    [claim] = services.claim_notice_start(user=world.authority, claims=[approved], on=START)
    assert (claim.state, claim.notice_start, claim.notice_end) == ("on_notice", START, END)
    with pytest.raises(PermissionDenied):
        services.claim_notice_close(user=world.reviewer, claim=claim, on=CLOSE_DUE)
    claim = services.claim_notice_close(user=world.authority, claim=claim, on=CLOSE_DUE)
    assert claim.state == "notice_passed"
    assert list(claim.steps.filter(new__in=["on_notice", "notice_passed"]).values_list("by", flat=True)) == [
        world.authority.pk, world.authority.pk]


# --- the close-notice item: due from the day after the notice ends ----------------------------


def _close_items(today):
    return [o for o in deadlines.obligations(today=today, horizon=date(2025, 5, 31))
            if o.key.endswith(":on_notice")]


def test_rp16_close_notice_item_is_due_the_day_after_the_notice_ends_and_owed_by_the_authority(world, approved):
    [claim] = services.claim_notice_start(user=world.authority, claims=[approved], on=START)
    assert claim.next_due_on == CLOSE_DUE
    [item] = _close_items(END)
    assert item.due_on == CLOSE_DUE and item.organisation_id == world.pool.authority_id


def test_rp16_close_notice_is_not_overdue_on_the_last_day_nor_on_the_day_after(world, approved):
    [claim] = services.claim_notice_start(user=world.authority, claims=[approved], on=START)
    for today in (END, CLOSE_DUE):
        assert claim not in selectors.overdue_claims(user=world.authority, today=today)
    assert claim in selectors.overdue_claims(user=world.authority, today=date(2025, 4, 25))
    # Not the reviewer's: its overdue list never shows the notice.
    assert claim not in selectors.overdue_claims(user=world.reviewer, today=date(2025, 4, 25))


def period(start: str, end: str) -> str:
    """A notice period as the pages print it: each date kept whole on a narrow screen."""
    return f'<span class="date">{start}</span> – <span class="date">{end}</span>'


# --- the authority's notice desk ----------------------------------------------------------------


def test_rp16_notice_desk_lists_the_period_and_offers_the_close_only_after_the_end(client, world, approved,
                                                                                  server_day):
    [claim] = services.claim_notice_start(user=world.authority, claims=[approved], on=START)
    client.force_login(world.authority)
    server_day(END)
    page = client.get(reverse("riskpool:notice-desk")).content.decode()
    assert f'id="notice-{claim.pk}"' in page and period("2025-04-14", "2025-04-23") in page
    close_url = reverse("riskpool:claim-action", args=[claim.pk, "notice-close"])
    assert close_url not in page and "2025-04-24" in page  # closable from the day after
    server_day(CLOSE_DUE)
    page = client.get(reverse("riskpool:notice-desk")).content.decode()
    assert close_url in page
    confirm = client.post(close_url, {"notice-close-on": "2025-04-24"})
    assert confirm.status_code == 200 and 'id="confirm-form"' in confirm.content.decode()
    done = client.post(close_url, {"notice-close-on": "2025-04-24", "confirmed": "1"})
    assert done.status_code == 302 and reload(claim).state == "notice_passed"


def test_rp16_notice_desk_holds_the_close_while_an_objection_is_pending(client, world, approved, server_day):
    [claim] = services.claim_notice_start(user=world.authority, claims=[approved], on=START)
    services.objection_file(claim=claim, name="张三", contact="13800000000", text="该企业已停业", on=date(2025, 4, 16))
    client.force_login(world.authority)
    server_day(CLOSE_DUE)
    page = client.get(reverse("riskpool:notice-desk")).content.decode()
    assert reverse("riskpool:claim-action", args=[claim.pk, "notice-close"]) not in page


def test_rp16_notice_desk_of_another_pools_authority_shows_none_of_ours(client, world, approved):
    services.claim_notice_start(user=world.authority, claims=[approved], on=START)
    other = UserFactory(organisation=PoolFactory().authority, roles=["authority_admin"])
    client.force_login(other)
    page = client.get(reverse("riskpool:notice-desk")).content.decode()
    assert approved.project.loan_no not in page and approved.project.borrower.name not in page
    assert client.post(reverse("riskpool:claim-action", args=[approved.pk, "notice-close"]),
                       {"notice-close-on": "2025-04-24"}).status_code == 404


def test_rp16_claim_page_offers_the_close_to_the_authority_not_the_reviewer(client, world, approved, server_day):
    [claim] = services.claim_notice_start(user=world.authority, claims=[approved], on=START)
    server_day(CLOSE_DUE)
    url = reverse("riskpool:claim-detail", args=[claim.pk])
    client.force_login(world.reviewer)
    assert 'id="notice-close-form"' not in client.get(url).content.decode()
    assert client.post(reverse("riskpool:claim-action", args=[claim.pk, "notice-close"]),
                       {"notice-close-on": "2025-04-24", "confirmed": "1"}).status_code == 403
    client.force_login(world.authority)
    assert 'id="notice-close-form"' in client.get(url).content.decode()


# --- the public page ---------------------------------------------------------------------------


def test_rp16_public_notice_shows_each_claims_notice_period(client, world, approved):
    services.claim_notice_start(user=world.authority, claims=[approved], on=START)
    later = world.claim(loan_no="JJ-2024-0002")
    later = services.claim_review(user=world.reviewer, claim=later, approve=True, note="ok", on=date(2025, 4, 10))
    # Sunday 2025-04-27 is a 调休 working day, so this one ends on Tuesday 2025-04-29.
    services.claim_notice_start(user=world.authority, claims=[later], on=date(2025, 4, 21))
    page = client.get(reverse("notice:notice-list")).content.decode()
    assert period("2025-04-14", "2025-04-23") in page and period("2025-04-21", "2025-04-29") in page
    [row, second] = selectors.public_notice_rows()
    assert (row["notice_start"], row["notice_end"]) == (START, END)
    assert (second["notice_start"], second["notice_end"]) == (date(2025, 4, 21), date(2025, 4, 29))

"""JB-4: the daily recompute of every member bank's NPL figures and gate (RP-15) and every Scheme M
product's suspension (RP-M3); set-based (JB-15), idempotent per day (JB-12), recorded (JB-13)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.jobs import get_job, job_run
from core.models import JobRun
from riskpool.models import Claim, MClaim, Member
from tests.factories import (
    ClaimFactory,
    LoanProjectFactory,
    MemberFactory,
    OrganisationFactory,
    PoolFactory,
    ProductFactory,
    paid_compensation,
)

pytestmark = pytest.mark.django_db
DAY = "2025-04-20"


def run_jb4(period=DAY) -> JobRun:
    return job_run(job_id="JB-4", period=period, trigger=JobRun.Trigger.COMMAND)


def bank(pool, *, normal, npl, stale_ratio=None) -> Member:
    """A member bank with ``normal`` principal performing and ``npl`` non-performing; its stored
    figures are stale (``stale_ratio``) until JB-4 runs."""
    member = MemberFactory(pool=pool, npl_ratio=stale_ratio)
    LoanProjectFactory(pool=pool, bank=member.organisation, principal=normal)
    if npl:
        LoanProjectFactory(pool=pool, bank=member.organisation, principal=npl, classification="substandard")
    return member


def held_claim(member) -> Claim:
    project = LoanProjectFactory(pool=member.pool, bank=member.organisation, principal=D("100000.00"),
                                 classification="substandard")
    return ClaimFactory(project=project, state="held_npl_gate", held_reason="RP-15: above 3%")


def reload(obj):
    obj.refresh_from_db()
    return obj


def test_jb4_is_registered_daily_at_0130_for_a_day():
    spec = get_job("JB-4")
    schedule = spec.crontab()
    assert schedule.hour == {1} and schedule.minute == {30}
    assert spec.period_for(date(2025, 4, 20)) == "2025-04-20"


def test_jb4_rp15_gates_over_several_banks_shut_stays_held_reopened_is_released():
    pool = PoolFactory()
    shut = bank(pool, normal=D("96000000.00"), npl=D("3900000.00"), stale_ratio=D("0.010000"))  # ~3.9% > 3%
    reopened = bank(pool, normal=D("97900000.00"), npl=D("2000000.00"), stale_ratio=D("0.050000"))  # ~2%
    exactly = bank(pool, normal=D("96900000.00"), npl=D("3000000.00"), stale_ratio=D("0.040000"))  # just above
    # the held claims' own projects (100,000 each, substandard) count in the figures too
    shut_claim, reopened_claim, exactly_claim = held_claim(shut), held_claim(reopened), held_claim(exactly)

    run = run_jb4()

    shut, reopened, exactly = reload(shut), reload(reopened), reload(exactly)
    assert shut.npl_ratio == D("0.040000") and shut.npl_principal == D("4000000.00")
    assert shut.entered_principal == D("100000000.00")
    assert reopened.npl_ratio == D("0.021000") and exactly.npl_ratio == D("0.031000")
    assert reload(shut_claim).state == "held_npl_gate"
    assert reload(exactly_claim).state == "held_npl_gate"  # 3.1% is above 3%
    released = reload(reopened_claim)
    assert released.state == "submitted" and released.held_reason == ""
    assert list(released.steps.values_list("new", flat=True)) == ["submitted"]
    assert run.state == JobRun.State.SUCCEEDED
    assert run.counts == {"members": 3, "gates_shut": 2, "claims_released": 1, "products": 0,
                          "products_suspended": 0}


def test_jb4_rp15_ratio_exactly_3_percent_reopens_the_gate():
    pool = PoolFactory()
    member = bank(pool, normal=D("97000000.00"), npl=D("2900000.00"), stale_ratio=D("0.050000"))
    claim = held_claim(member)  # 2,900,000 + 100,000 of 100,000,000: exactly 3%
    run_jb4()
    assert reload(member).npl_ratio == D("0.030000")
    assert reload(claim).state == "submitted"


def test_jb4_members_without_projects_get_no_ratio_and_scheme_m_members_are_left_alone():
    pool = PoolFactory()
    empty = MemberFactory(pool=pool, npl_ratio=D("0.500000"))
    m_member = MemberFactory(pool=ProductFactory().pool, organisation=OrganisationFactory(), npl_ratio=D("0.9"))
    run_jb4()
    empty = reload(empty)
    assert (empty.npl_ratio, empty.npl_principal, empty.entered_principal) == (None, D("0"), D("0"))
    assert empty.npl_checked_at is not None
    assert reload(m_member).npl_ratio == D("0.900000")


def test_jb4_rpm3_every_products_suspension_is_recomputed():
    product = ProductFactory(size=D("10000000.00"))
    spare = ProductFactory(pool=product.pool, size=D("10000000.00"))
    lifted = ProductFactory(pool=product.pool, size=D("10000000.00"), suspended=True)
    firm = OrganisationFactory()
    compensation = paid_compensation(firm, paid_amount=D("17500000.00"))
    MClaim.objects.create(product=product, firm=firm, compensation=compensation, state="paid",
                          submitted_on=date(2025, 3, 1), payout=D("17500000.00"), ratio=D("0.4"),
                          amount=D("7000000.00"), paid_on=date(2025, 3, 10))
    run = run_jb4()
    assert reload(product).suspended and not reload(spare).suspended and not reload(lifted).suspended
    assert run.counts["products"] == 3 and run.counts["products_suspended"] == 1


def test_jb4_jb12_twice_the_same_day_gives_the_same_result_and_one_run():
    pool = PoolFactory()
    shut = bank(pool, normal=D("96000000.00"), npl=D("3900000.00"))
    reopened = bank(pool, normal=D("97000000.00"), npl=D("2000000.00"), stale_ratio=D("0.050000"))
    shut_claim, reopened_claim = held_claim(shut), held_claim(reopened)
    product = ProductFactory()

    def state():
        members = sorted(Member.objects.values_list("pk", "npl_ratio", "npl_principal", "entered_principal"))
        claims = sorted(Claim.objects.values_list("pk", "state", "held_reason"))
        return members, claims, reload(product).suspended, list(reload(reopened_claim).steps.values_list("new"))

    first = run_jb4()
    after_first = state()
    second = run_jb4()
    assert state() == after_first
    assert JobRun.objects.filter(job="JB-4", period=DAY).count() == 1
    assert first.pk == second.pk and second.state == JobRun.State.SUCCEEDED
    assert second.counts["claims_released"] == 0 and first.counts["claims_released"] == 1
    assert reload(shut_claim).state == "held_npl_gate"
    assert (second.progress_done, second.progress_total) == (1, 1)  # the last phase: the one product


def _world_of(members: int) -> None:
    pool = PoolFactory()
    for i in range(members):
        bank(pool, normal=D("100000000.00"), npl=D("1000000.00") if i % 2 else None)
    ProductFactory()
    ProductFactory()


@pytest.mark.parametrize("members", [3, 30])
def test_jb4_jb15_a_constant_number_of_queries_whatever_the_number_of_members(members,
                                                                               django_assert_max_num_queries):
    _world_of(members)
    # 32 measured, for 3 or 30 members alike (one of them reads the range of the rule set in force, RP-15)
    with django_assert_max_num_queries(36):
        run_jb4()
    assert Member.objects.filter(npl_checked_at__isnull=False).count() == members


def test_jb4_jb15_3_and_30_members_take_the_same_number_of_queries():
    counts = []
    for n, period in ((3, "2025-04-20"), (30, "2025-04-21")):
        _world_of(n)
        with CaptureQueriesContext(connection) as ctx:
            run_jb4(period)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts

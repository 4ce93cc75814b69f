"""The services behind the authority's pool administration: the special list (RP-12:
special_list_add / special_list_check / special_list_end, each refusal naming its rule and
field), re-admission after a revocation (RP-22: member_readmit), the dishonesty list's reason
(RP-24) and the violation preview (RP-21: violation_preview is violation_record's arithmetic)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied

from core.errors import Conflict, RuleViolation
from core.models import AuditEvent
from riskpool import rules, services
from riskpool.models import SpecialListEntry
from tests.audit_text import english
from tests.factories import ClaimFactory, LoanProjectFactory, MemberFactory, PoolFactory, UserFactory, make_credit_code

pytestmark = pytest.mark.django_db


def add(world, **kwargs):
    values = dict(user=world.authority, pool=world.pool, industry="C39", ratio=D("0.6"), valid_from=date(2025, 1, 1))
    values.update(kwargs)
    return services.special_list_add(**values)


def problems_of(error) -> set[tuple[str, str]]:
    return {(p.rule, p.field) for p in error.value.problems}


# --- RP-12 the special list ---------------------------------------------------------------------


def test_rp12_add_an_industry_and_an_enterprise_entry_audited(world):
    code = make_credit_code()
    industry = add(world, note=" 市政府批准 ")
    enterprise = add(world, industry="", credit_code=code.lower(), ratio="0.7")
    assert (industry.industry, industry.credit_code, industry.note) == ("C39", "", "市政府批准")
    assert (enterprise.credit_code, enterprise.ratio) == (code, D("0.700000"))
    for entry in (industry, enterprise):
        event = AuditEvent.objects.get(object_type="riskpool.speciallistentry", object_id=str(entry.pk))
        assert event.organisation_id == world.pool.authority_id and english(event.summary).startswith("RP-12")


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"credit_code": "91440300MA5F12345X"}, {("RP-12", "credit_code")}),  # both
    ({"industry": ""}, {("RP-12", "credit_code")}),  # neither
    ({"industry": "", "credit_code": "91440300MA5F1234"}, {("RP-12", "credit_code")}),  # 16 characters
    ({"industry": "", "credit_code": "91440300MA5F12345Z"}, {("RP-12", "credit_code")}),  # Z is not in GB 32100
    ({"industry": "C" * 41}, {("RP-12", "industry")}),
    ({"ratio": D("0")}, {("RP-12", "ratio")}),
    ({"ratio": D("1.000001")}, {("RP-12", "ratio")}),
    ({"ratio": D("0.1234567")}, {("RP-12", "ratio")}),
    ({"ratio": "abc"}, {("RP-12", "ratio")}),
    ({"valid_to": date(2024, 12, 31)}, {("RP-12", "valid_to")}),
    ({"note": "x" * 256}, {("RP-12", "note")}),
    ({"credit_code": "X", "ratio": D("2"), "valid_to": date(2024, 1, 1)},
     {("RP-12", "credit_code"), ("RP-12", "ratio"), ("RP-12", "valid_to")}),  # every problem at once
])
def test_rp12_each_refusal_names_the_rule_and_the_field(world, kwargs, expected):
    with pytest.raises(RuleViolation) as error:
        add(world, **kwargs)
    assert problems_of(error) == expected
    assert not SpecialListEntry.objects.exists()


def test_rp12_a_ratio_of_exactly_100_percent_is_accepted(world):
    assert add(world, ratio=D("1")).ratio == D("1.000000")


def test_rp12_an_overlapping_entry_for_the_same_industry_is_a_conflict(world):
    add(world, valid_to=date(2025, 6, 30))
    with pytest.raises(Conflict) as error:
        add(world, valid_from=date(2025, 6, 30))
    assert problems_of(error) == {("RP-12", "valid_from")} and "2025-06-30" in error.value.message
    assert add(world, valid_from=date(2025, 7, 1)).valid_from == date(2025, 7, 1)  # the day after: fine
    with pytest.raises(Conflict):
        add(world, valid_from=date(2024, 1, 1), valid_to=date(2025, 1, 1))  # ends inside the first one
    assert add(world, industry="C40").industry == "C40"  # another industry
    assert add(world, pool=PoolFactory(authority=world.pool.authority)).industry == "C39"  # another pool


def test_rp12_check_refuses_like_add_and_writes_nothing(world):
    clean = services.special_list_check(user=world.authority, pool=world.pool, industry=" C39 ", ratio="0.6",
                                        valid_from=date(2025, 1, 1))
    assert clean["industry"] == "C39" and clean["ratio"] == D("0.6") and not SpecialListEntry.objects.exists()
    with pytest.raises(RuleViolation):
        services.special_list_check(user=world.authority, pool=world.pool, ratio="0", valid_from=date(2025, 1, 1))


def test_rp12_only_the_pools_authority_administrator_maintains_the_list(world):
    colleague = UserFactory(organisation=world.pool.authority, roles=["authority_reviewer"])
    stranger = UserFactory(organisation=PoolFactory().authority, roles=["authority_admin"])
    for user in (colleague, stranger, world.reviewer, world.bank_user):
        with pytest.raises(PermissionDenied):
            add(world, user=user)
    entry = add(world)
    for user in (colleague, stranger, world.bank_user):
        with pytest.raises(PermissionDenied):
            services.special_list_end(user=user, entry=entry, valid_to=date(2025, 6, 30))


def test_rp12_end_an_entry_then_only_earlier(world):
    entry = add(world)
    with pytest.raises(RuleViolation) as error:
        services.special_list_end(user=world.authority, entry=entry, valid_to=date(2024, 12, 31))
    assert problems_of(error) == {("RP-12", "valid_to")}
    ended = services.special_list_end(user=world.authority, entry=entry, valid_to=date(2025, 6, 30))
    assert ended.valid_to == date(2025, 6, 30)
    event = AuditEvent.objects.filter(object_type="riskpool.speciallistentry", object_id=str(entry.pk)).latest("pk")
    assert event.before["valid_to"] is None and event.after["valid_to"] == "2025-06-30"
    with pytest.raises(Conflict) as error:
        services.special_list_end(user=world.authority, entry=entry, valid_to=date(2025, 6, 30))
    assert problems_of(error) == {("RP-12", "valid_to")}
    assert services.special_list_end(user=world.authority, entry=entry, valid_to=date(2025, 1, 1)).valid_to == \
        date(2025, 1, 1)
    # the entry starts and ends the same day: valid on that day only


def test_rp12_an_entry_ended_before_the_npl_date_no_longer_gives_its_ratio(world):
    project = world.register()
    entry = add(world, industry="", credit_code=project.borrower.id_number, ratio="0.7")
    assert services.special_ratio(project, date(2025, 3, 3)) == D("0.700000")
    services.special_list_end(user=world.authority, entry=entry, valid_to=date(2025, 3, 2))
    assert services.special_ratio(project, date(2025, 3, 3)) is None
    world.npl(project)
    assert world.submit(project).ratio == D("0.500000")


# --- RP-22 re-admission -------------------------------------------------------------------------


def revoke(member, on=date(2023, 9, 1), may=date(2025, 9, 1)):
    member.revoked_on, member.may_reapply_on = on, may
    member.save()
    return member


def test_rp22_a_bank_not_revoked_cannot_be_admitted_again(world):
    with pytest.raises(Conflict) as error:
        services.member_readmit(user=world.authority, member=world.member, on=date(2025, 9, 1))
    assert error.value.rule == "RP-22"


def test_rp22_readmission_before_the_date_is_refused_naming_it(world):
    revoke(world.member)
    with pytest.raises(RuleViolation) as error:
        services.member_readmit(user=world.authority, member=world.member, on=date(2025, 8, 31))
    assert problems_of(error) == {("RP-22", "on")} and "2025-09-01" in error.value.message
    world.member.refresh_from_db()
    assert world.member.revoked_on == date(2023, 9, 1)


def test_rp22_readmission_on_the_date_starts_a_new_membership_audited(world):
    revoke(world.member)
    member = services.member_readmit(user=world.authority, member=world.member, on=date(2025, 9, 1))
    member.refresh_from_db()
    assert (member.revoked_on, member.may_reapply_on, member.joined_on) == (None, None, date(2025, 9, 1))
    event = AuditEvent.objects.filter(object_type="riskpool.member", summary__contains="RP-22 re-admitted").get()
    assert event.before["revoked_on"] == "2023-09-01" and event.before["joined_on"] == "2024-01-01"
    assert world.register(loan_no="JJ-AGAIN", entered_on=date(2024, 6, 1)).bank == world.bank  # entries allowed again


def test_rp22_without_a_recorded_date_the_two_years_count_from_the_revocation(world):
    revoke(world.member, on=date(2024, 2, 29), may=None)
    with pytest.raises(RuleViolation):
        services.member_readmit(user=world.authority, member=world.member, on=date(2026, 2, 27))
    assert rules.may_reapply_on(date(2024, 2, 29)) == date(2026, 2, 28)
    assert services.member_readmit(user=world.authority, member=world.member, on=date(2026, 2, 28)).revoked_on is None


def test_rp22_only_the_pools_authority_readmits(world):
    revoke(world.member)
    stranger = UserFactory(organisation=PoolFactory().authority, roles=["authority_admin"])
    for user in (stranger, world.reviewer, world.bank_user):
        with pytest.raises(PermissionDenied):
            services.member_readmit(user=user, member=world.member, on=date(2025, 9, 1))


# --- RP-24 the reason -----------------------------------------------------------------------------


def test_rp24_the_reason_is_kept_in_the_audit_row_and_a_call_without_one_is_unchanged(world):
    services.member_set_dishonest(user=world.authority, member=world.member, flag=True, reason=" 市信用办通报 ")
    event = AuditEvent.objects.filter(object_type="riskpool.member", summary__contains="RP-24").latest("pk")
    assert english(event.summary) == "RP-24 listed as dishonest: 市信用办通报" and event.after["reason"] == "市信用办通报"
    services.member_set_dishonest(user=world.authority, member=world.member, flag=False)
    event = AuditEvent.objects.filter(object_type="riskpool.member", summary__contains="RP-24").latest("pk")
    assert english(event.summary) == "RP-24 no longer listed as dishonest: —" and "reason" not in event.after


# --- RP-21 the preview ------------------------------------------------------------------------------


def test_rp21_preview_refuses_like_the_service(world):
    other = MemberFactory(pool=world.pool)
    stranger_claim = ClaimFactory(project=LoanProjectFactory(pool=world.pool, bank=other.organisation))
    with pytest.raises(RuleViolation) as error:
        services.violation_preview(user=world.authority, member=world.member, claims=[stranger_claim],
                                   returned_on=date(2025, 9, 1))
    assert problems_of(error) == {("RP-21", "claims")}
    colleague = UserFactory(organisation=world.pool.authority, roles=["authority_reviewer"])
    with pytest.raises(PermissionDenied):
        services.violation_preview(user=colleague, member=world.member, claims=[], returned_on=date(2025, 9, 1))


def test_rp21_preview_of_an_unpaid_claim_claws_back_nothing(world):
    claim = world.claim()
    preview = services.violation_preview(user=world.authority, member=world.member, claims=[claim],
                                         returned_on=date(2025, 9, 1), recorded_on=date(2025, 9, 1), revoke=True)
    assert [(line.principal, line.interest) for line in preview.lines] == [(D("0"), D("0"))]
    assert preview.total == 0 and preview.may_reapply_on == date(2027, 9, 1)

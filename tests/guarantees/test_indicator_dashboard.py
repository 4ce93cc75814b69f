"""The authority's firm-indicator dashboard (GU-2, GU-4, GU-6 … GU-10): figures, badges at the
policy lines, filters, sorting, the xlsx export, scoping and a constant number of queries."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from core.models import Organisation, Region, RuleSet
from guarantees.models import Compensation, FirmNetAssets, Guarantee
from tests.factories import (
    AgreementFactory,
    GuaranteeFactory,
    OrganisationFactory,
    RegionFactory,
    UserFactory,
    firm_user,
)

pytestmark = pytest.mark.django_db



K = Organisation.Kind
PERIOD = {"year": "2025", "quarter": "2"}  # 2025-04-01 … 2025-06-30
IN_PERIOD = date(2025, 4, 10)
BEFORE = date(2024, 6, 1)
S = Guarantee.Status


@pytest.fixture
def tree():
    province = RegionFactory(code="230000", name="黑龙江省", level=Region.Level.PROVINCE)
    city = RegionFactory(code="232700", name="大兴安岭地区", level=Region.Level.CITY, parent=province)
    county = RegionFactory(code="232721", name="呼玛县", level=Region.Level.COUNTY, parent=city)
    harbin = RegionFactory(code="230100", name="哈尔滨市", level=Region.Level.CITY, parent=province)
    beijing = RegionFactory(code="110000", name="北京市", level=Region.Level.PROVINCE)
    return {"province": province, "city": city, "county": county, "harbin": harbin, "beijing": beijing}


def _authority(region, **kwargs):
    return UserFactory(organisation__kind=K.AUTHORITY, organisation__region=region,
                       roles=["authority_reviewer"], **kwargs)


def _g(firm, bank, *, amount, fee_rate="0.008", small=True, start=IN_PERIOD, single=None, agreement=None, **kw):
    agreement = agreement or AgreementFactory(firm=firm, bank=bank)
    return GuaranteeFactory(
        agreement=agreement, amount=Decimal(amount), loan_principal=Decimal(amount), fee_rate=Decimal(fee_rate),
        small_micro_or_agri=small, single_borrower_amount=Decimal(single or amount), start=start, loan_start=start,
        end=start + timedelta(days=364), loan_maturity=start + timedelta(days=364), **kw,
    )


@pytest.fixture
def world(tree):
    """Firm A (呼玛县): fee rate exactly 1%, support 60%; firm B (哈尔滨市): support exactly 80%."""
    bank = OrganisationFactory(kind=K.BANK, region=tree["city"], name="龙江银行")
    firm_a = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=tree["county"], name="甲担保公司")
    firm_b = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=tree["harbin"], name="乙担保公司")
    outsider = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=tree["beijing"], name="京外担保公司")

    agreement_a = AgreementFactory(firm=firm_a, bank=bank, code="A-1")
    AgreementFactory(firm=firm_a, bank=bank, code="A-BAD", compliant=False, share_bank=Decimal("0.1"),
                     share_firm=Decimal("0.5"), problems=[{"rule": "GU-2", "field": "shares.bank", "message": "低于20%"}])
    # Firm A, written in the period: 600k small-micro + 400k other, both at exactly 1%.
    _g(firm_a, bank, amount="600000", fee_rate="0.010000", agreement=agreement_a, recommended_by_bank=True)
    _g(firm_a, bank, amount="400000", fee_rate="0.010000", small=False, single="6000000", agreement=agreement_a)
    # Firm A, older business that defaulted: its compensation was due 2025-03-01 and is unpaid.
    defaulted = _g(firm_a, bank, amount="1000000", start=BEFORE, status=S.DEFAULTED, agreement=agreement_a,
                   contract_no="A-OVERDUE")
    Compensation.objects.create(
        guarantee=defaulted, default_on=date(2025, 1, 30), due_on=date(2025, 3, 1), principal=Decimal("1000000"),
        base=Decimal("1000000"), shares={}, part_bank=Decimal("200000"), part_firm=Decimal("400000"),
        part_reguarantee=Decimal("200000"), part_national_fund=Decimal("200000"), part_government=Decimal("0"),
    )
    FirmNetAssets.objects.create(firm=firm_a, as_of=date(2025, 3, 31), net_assets=Decimal("500000"))
    FirmNetAssets.objects.create(firm=firm_a, as_of=date(2025, 9, 30), net_assets=Decimal("99000000"))  # after

    # Firm B, written in the period: 800k small-micro + 200k other at 0.8%: support exactly 80%.
    agreement_b = AgreementFactory(firm=firm_b, bank=bank, code="B-1")
    _g(firm_b, bank, amount="800000", agreement=agreement_b)
    _g(firm_b, bank, amount="200000", small=False, agreement=agreement_b)
    # Firm B: 500k released and 100k compensated in the period, compensation paid 50k: GU-9 = 1/12.
    _g(firm_b, bank, amount="500000", start=BEFORE, status=S.RELEASED, closed_on=date(2025, 5, 15),
       agreement=agreement_b)
    paid = _g(firm_b, bank, amount="100000", start=BEFORE, status=S.COMPENSATED, closed_on=date(2025, 6, 1),
              agreement=agreement_b)
    Compensation.objects.create(
        guarantee=paid, default_on=date(2025, 5, 1), due_on=date(2025, 5, 31), principal=Decimal("62500"),
        base=Decimal("62500"), shares={}, part_bank=Decimal("12500"), part_firm=Decimal("25000"),
        part_reguarantee=Decimal("12500"), part_national_fund=Decimal("12500"), part_government=Decimal("0"),
        paid_on=date(2025, 6, 1), paid_amount=Decimal("50000"),
    )
    FirmNetAssets.objects.create(firm=firm_b, as_of=date(2025, 6, 30), net_assets=Decimal("2000000"))

    _g(outsider, OrganisationFactory(kind=K.BANK, region=tree["beijing"]), amount="900000")
    return {
        **tree, "bank": bank, "a": firm_a, "b": firm_b, "outsider": outsider,
        "authority": _authority(tree["province"]),
    }


def _get(client, user, name="indicators:dashboard", **params):
    client.force_login(user)
    return client.get(reverse(name), {**PERIOD, **params}, HTTP_ACCEPT_LANGUAGE="en")


def _row_html(response, firm) -> str:
    content = response.content.decode()
    match = re.search(rf'<tr data-firm="{firm.pk}">(.*?)</tr>', content, re.S)
    assert match, f"no row for {firm}"
    return match.group(1)


def _by_firm(response) -> dict:
    return {row.ind.firm_id: row.ind for row in response.context["rows"]}


def test_figures_of_a_hand_made_data_set(client, world):
    response = _get(client, world["authority"])
    assert response.status_code == 200
    rows = _by_firm(response)
    assert set(rows) == {world["a"].pk, world["b"].pk}
    a, b = rows[world["a"].pk], rows[world["b"].pk]
    # GU-8: balance on 2025-06-30 (the defaulted guarantee is still a liability) ÷ net assets of 2025-03-31.
    assert a.balance == Decimal("2000000.00") and a.net_assets == Decimal("500000.00")
    assert a.leverage == Decimal("4.000000")
    assert a.written_amount == Decimal("1000000.00")
    assert a.avg_fee_rate == Decimal("0.010000")  # GU-6
    assert a.support_share == Decimal("0.600000")  # GU-7
    assert a.small_amount_share == Decimal("0.600000")  # the 400k borrower owes 6m in all
    assert a.noncompliant_agreements == 1 and a.overdue_compensations == 1
    assert b.leverage == Decimal("0.500000")  # 1,000,000 ÷ 2,000,000
    assert b.avg_fee_rate == Decimal("0.008000") and b.support_share == Decimal("0.800000")
    assert b.compensation_rate == Decimal("0.083333")  # GU-9: 50,000 ÷ (500,000 + 100,000)
    assert b.noncompliant_agreements == 0 and b.overdue_compensations == 0


def test_gu6_fee_rate_of_exactly_1_percent_gets_the_badge(client, world):
    response = _get(client, world["authority"])
    assert 'data-badge="fee"' in _row_html(response, world["a"])
    assert 'data-badge="fee"' not in _row_html(response, world["b"])


def test_gu7_support_share_of_exactly_80_percent_gets_no_badge(client, world):
    response = _get(client, world["authority"])
    assert 'data-badge="support"' not in _row_html(response, world["b"])
    assert 'data-badge="support"' in _row_html(response, world["a"])


def test_gu6_gu7_badges_state_the_targets_of_the_rule_set_in_force(client, world):
    row = _row_html(_get(client, world["authority"]), world["a"])
    assert "≥1.00%" in row and "&lt;80.00%" in row
    shipped = RuleSet.objects.filter(scheme="guarantees").order_by("-effective_from").first()
    RuleSet.objects.filter(pk=shipped.pk).update(
        params={**shipped.params, "avg_fee_rate_target": "0.009000", "support_share_target": "0.700000"})
    row = _row_html(_get(client, world["authority"]), world["a"])
    assert "≥0.90%" in row and "&lt;70.00%" in row and "80.00%" not in row


def test_gu6_gu7_home_panel_states_the_targets_of_the_rule_set_in_force(client, world):
    client.force_login(world["authority"])
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "an average fee rate not below 1.00% (GU-6)" in page and "share under 80.00% (GU-7)" in page
    shipped = RuleSet.objects.filter(scheme="guarantees").order_by("-effective_from").first()
    RuleSet.objects.filter(pk=shipped.pk).update(
        params={**shipped.params, "avg_fee_rate_target": "0.009000", "support_share_target": "0.700000"})
    page = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "an average fee rate not below 0.90% (GU-6)" in page and "share under 70.00% (GU-7)" in page


def test_region_filter_keeps_the_firms_of_that_region(client, world):
    response = _get(client, world["authority"], region="232700")  # the city, with its county
    assert list(_by_firm(response)) == [world["a"].pk]
    response = _get(client, world["authority"], region="230100")
    assert list(_by_firm(response)) == [world["b"].pk]


def test_region_outside_the_jurisdiction_is_not_a_choice(client, world):
    city_user = _authority(world["city"])
    response = _get(client, city_user, region="230100")  # 哈尔滨 is outside 大兴安岭
    assert list(_by_firm(response)) == [world["a"].pk]
    assert 'value="230100"' not in response.content.decode()


@pytest.mark.parametrize(("off", "expected"), [
    ("fee", ["a"]), ("support", ["a"]), ("agreements", ["a"]), ("overdue", ["a"]), ("any", ["a"]), ("", ["a", "b"]),
])
def test_only_off_the_policy_line(client, world, off, expected):
    response = _get(client, world["authority"], off=off)
    assert sorted(_by_firm(response)) == sorted(world[k].pk for k in expected)


def test_sort_by_a_column_both_ways(client, world):
    ascending = _get(client, world["authority"], sort="leverage")
    assert [r.ind.firm_id for r in ascending.context["rows"]] == [world["b"].pk, world["a"].pk]
    descending = _get(client, world["authority"], sort="-leverage")
    assert [r.ind.firm_id for r in descending.context["rows"]] == [world["a"].pk, world["b"].pk]
    assert 'aria-sort="descending"' in descending.content.decode()


def test_empty_figures_sort_last_both_ways(client, world):
    OrganisationFactory(kind=K.GUARANTEE_FIRM, region=world["county"], name="丙担保公司")  # no business, no net assets
    for sort in ("fee", "-fee", "leverage", "-leverage"):
        rows = _get(client, world["authority"], sort=sort).context["rows"]
        assert rows[-1].ind.firm_name == "丙担保公司", sort


def test_default_period_is_the_current_quarter_in_shanghai(client, world):
    from core.periods import Quarter

    client.force_login(world["authority"])
    response = client.get(reverse("indicators:dashboard"))
    assert response.context["quarter"] == Quarter.current()


def test_export_matches_the_table(client, world):
    params = {"sort": "-fee", "off": ""}
    table = _get(client, world["authority"], **params)
    response = _get(client, world["authority"], "indicators:dashboard-export", **params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    assert "2025Q2" in sheet["A1"].value and "2025-04-01" in sheet["A1"].value
    header = [c.value for c in sheet[4]]
    assert header[0] == "Guarantee firm" and len(header) == 12
    data = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    rows = table.context["rows"]
    assert [d[0] for d in data] == [r.ind.firm_name for r in rows]
    from guarantees.views_dashboard import COLUMNS

    for exported, row in zip(data, rows, strict=True):
        for value, column in zip(exported, COLUMNS, strict=True):
            shown = row.cell(column)
            if shown is None:
                assert value in (None, ""), column.key
            elif isinstance(shown, Decimal):
                assert Decimal(str(value)) == pytest.approx(shown), column.key
            else:
                assert value == shown, column.key


def test_export_keeps_the_filters(client, world):
    response = _get(client, world["authority"], "indicators:dashboard-export", region="230100")
    sheet = load_workbook(BytesIO(response.content)).active
    assert [row[0].value for row in sheet.iter_rows(min_row=5)] == ["乙担保公司"]


def test_another_provinces_authority_sees_none_of_these_firms(client, world):
    other = _authority(world["beijing"])
    response = _get(client, other)
    assert list(_by_firm(response)) == [world["outsider"].pk]
    content = response.content.decode()
    assert "甲担保公司" not in content and "乙担保公司" not in content
    export = _get(client, other, "indicators:dashboard-export")
    names = [row[0].value for row in load_workbook(BytesIO(export.content)).active.iter_rows(min_row=5)]
    assert names == ["京外担保公司"]


def test_county_supervisor_sees_only_the_county(client, world):
    supervisor = UserFactory(organisation__kind=K.SUPERVISOR, organisation__region=world["county"],
                             roles=["county_supervisor"])
    assert list(_by_firm(_get(client, supervisor))) == [world["a"].pk]


@pytest.mark.parametrize("name", ["indicators:dashboard", "indicators:dashboard-export"])
def test_firm_and_bank_users_get_403(client, world, name):
    for user in (firm_user(organisation=world["a"]),
                 UserFactory(organisation=world["bank"], roles=["bank_operator"])):
        assert _get(client, user, name).status_code == 403


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(reverse("indicators:dashboard"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_firm_drill_down(client, world):
    client.force_login(world["authority"])
    response = client.get(reverse("indicators:firm-detail", args=[world["a"].pk]), PERIOD)
    assert response.status_code == 200
    content = response.content.decode()
    assert response.context["ind"].leverage == Decimal("4.000000")
    assert "A-BAD" in content and "低于20%" in content  # GU-2 agreement with its reason
    assert "A-OVERDUE" in content  # GU-4
    banks = response.context["banks"]  # GU-10
    assert [b.bank_name for b in banks] == ["龙江银行"]
    assert banks[0].recommended_count == 1 and banks[0].recommended_amount == Decimal("600000.00")
    assert banks[0].overdue_compensations == 1


def test_firm_drill_down_outside_the_jurisdiction_is_404(client, world):
    city_user = _authority(world["city"])
    client.force_login(city_user)
    assert client.get(reverse("indicators:firm-detail", args=[world["b"].pk])).status_code == 404
    assert client.get(reverse("indicators:firm-detail", args=[world["a"].pk])).status_code == 200
    client.force_login(_authority(world["beijing"]))
    assert client.get(reverse("indicators:firm-detail", args=[world["a"].pk])).status_code == 404
    assert client.get(reverse("indicators:firm-detail", args=[world["bank"].pk])).status_code == 404  # not a firm


def test_firm_drill_down_is_403_for_a_firm_user(client, world):
    client.force_login(firm_user(organisation=world["a"]))
    assert client.get(reverse("indicators:firm-detail", args=[world["a"].pk])).status_code == 403


def test_empty_states(client, tree):
    authority = _authority(tree["province"])
    response = _get(client, authority)
    assert response.status_code == 200 and response.context["rows"] == []
    assert "no guarantee firms in your jurisdiction" in response.content.decode()
    OrganisationFactory(kind=K.GUARANTEE_FIRM, region=tree["county"], name="丁担保公司")
    response = _get(client, authority, off="fee")
    assert "No guarantee firm matches these filters" in response.content.decode()
    firm = Organisation.objects.get(name="丁担保公司")
    detail = client.get(reverse("indicators:firm-detail", args=[firm.pk]), PERIOD, HTTP_ACCEPT_LANGUAGE="en")
    assert detail.status_code == 200
    assert "This firm has no partner bank yet." in detail.content.decode()


def _firms_with_business(tree, n: int) -> None:
    bank = OrganisationFactory(kind=K.BANK, region=tree["city"])
    for i in range(n):
        firm = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=tree["county"] if i % 2 else tree["harbin"])
        agreement = AgreementFactory(firm=firm, bank=bank, compliant=i % 3 != 0)
        _g(firm, bank, amount="100000", agreement=agreement)
        FirmNetAssets.objects.create(firm=firm, as_of=date(2025, 3, 31), net_assets=Decimal("1000000"))


def _queries(client, user, name="indicators:dashboard", **params) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(name), {**PERIOD, **params})
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", ["indicators:dashboard", "indicators:dashboard-export"])
def test_constant_queries_for_3_and_30_firms(client, tree, name):
    authority = _authority(tree["province"])
    _firms_with_business(tree, 3)
    few = _queries(client, authority, name, sort="-fee")
    _firms_with_business(tree, 27)
    many = _queries(client, authority, name, sort="-fee")
    assert few == many


def test_export_writes_a_firm_name_typed_as_a_formula_as_text(client, world):
    """Issue 10 point 3."""
    from tests.spreadsheets import HOSTILE, assert_literal

    Organisation.objects.filter(pk=world["a"].pk).update(name=HOSTILE)
    assert_literal(_get(client, world["authority"], "indicators:dashboard-export", off="").content)

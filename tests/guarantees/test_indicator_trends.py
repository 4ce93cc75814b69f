"""Issue 6 trends: the guarantee-firm indicators by quarter from the JB-5 snapshots, a region's
figures rolled up in the database through the GU-6 … GU-9 rule functions, the drill-down region →
sub-region → firm, the xlsx export, and the jurisdiction (another region is 404)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.models import Organisation, Region
from guarantees.models import FirmIndicatorSnapshot
from guarantees.selectors_trends import drill_down, region_trend
from tests.factories import OrganisationFactory, RegionFactory, UserFactory, authority_user, firm_user

pytestmark = pytest.mark.django_db
URL = reverse("indicators:trends")


@pytest.fixture
def land():
    province = RegionFactory(code="810000", name="省", level=Region.Level.PROVINCE)
    city1 = RegionFactory(code="810100", name="甲市", level=Region.Level.CITY, parent=province)
    city2 = RegionFactory(code="810200", name="乙市", level=Region.Level.CITY, parent=province)
    county = RegionFactory(code="810101", name="丙县", level=Region.Level.COUNTY, parent=city1)
    firms = {
        "city1": OrganisationFactory(name="甲市担保", region=city1),
        "county": OrganisationFactory(name="丙县担保", region=county),
        "city2": OrganisationFactory(name="乙市担保", region=city2),
    }

    def snap(firm, period, balance, net, fee, written, paid="0", released="0"):
        FirmIndicatorSnapshot.objects.create(
            firm=firm, period=period, as_of=date(2025, 3, 31), balance=D(balance), net_assets=D(net) if net else None,
            leverage=None, written_amount=D(written), avg_fee_rate=D(fee), support_share=D("1.000000"),
            compensation_paid=D(paid), released_amount=D(released))

    snap(firms["city1"], "2025Q1", "3000000.00", "1000000.00", "0.010000", "1000000.00", "10000.00", "500000.00")
    snap(firms["county"], "2025Q1", "1000000.00", "1000000.00", "0.005000", "3000000.00", "0", "500000.00")
    snap(firms["city2"], "2025Q1", "500000.00", None, "0.020000", "1000000.00")
    snap(firms["city1"], "2025Q2", "4000000.00", "1000000.00", "0.010000", "1000000.00")
    return {"province": province, "city1": city1, "city2": city2, "county": county, "firms": firms}


def test_region_trend_rolls_up_through_the_rule_functions(land):
    user = authority_user(land["province"])
    q1, q2 = region_trend(user=user, region=None)
    assert (q1.period, q2.period) == ("2025Q1", "2025Q2")
    assert q1.firms == 3 and q1.balance == D("4500000.00")
    assert q1.leverage == D("2.000000")  # (3,000,000 + 1,000,000) / 2,000,000: the firm without net assets is left out
    assert q1.avg_fee_rate == D("0.009000")  # (0.01×1m + 0.005×3m + 0.02×1m) / 5m = 45,000 / 5m
    assert q1.compensation_rate == D("0.010000")  # 10,000 / 1,000,000
    assert q2.firms == 1 and q2.leverage == D("4.000000")


def test_drill_down_province_to_cities_and_city_to_county_and_its_own_firms(land):
    user = authority_user(land["province"])
    cities, direct = drill_down(user=user, region=None, period="2025Q1")
    assert [(r["region"].name, r["point"].firms, r["point"].balance) for r in cities] == [
        ("甲市", 2, D("4000000.00")), ("乙市", 1, D("500000.00"))]
    assert direct == []
    counties, direct = drill_down(user=user, region=land["city1"], period="2025Q1")
    assert [(r["region"].name, r["point"].balance) for r in counties] == [("丙县", D("1000000.00"))]
    assert [r["name"] for r in direct] == ["甲市担保"]


def test_trends_page_with_charts_table_and_drill_down(client, land):
    client.force_login(authority_user(land["province"]))
    page = client.get(URL).content.decode()
    assert page.count("<svg") == 5 and "CG-14" in page and 'id="trend-table"' in page and 'data-period="2025Q2"' in page
    assert 'data-region="810100"' in page  # drill down to the cities
    page = client.get(URL, {"region": "810100", "period": "2025Q1"}).content.decode()
    assert 'data-region="810101"' in page and "甲市担保" in page and "乙市担保" not in page


def test_trends_export_is_the_table(client, land):
    client.force_login(authority_user(land["province"]))
    response = client.get(URL, {"export": "xlsx"})
    rows = [[c.value for c in r] for r in load_workbook(BytesIO(response.content)).active.iter_rows(min_row=5)]
    assert [r[:3] for r in rows] == [["2025Q1", 3, 4500000], ["2025Q2", 1, 4000000]]


def test_trends_are_scoped_to_the_jurisdiction(client, land):
    county_supervisor = UserFactory(organisation__kind=Organisation.Kind.SUPERVISOR, organisation__region=land["county"])
    client.force_login(county_supervisor)
    assert client.get(URL).status_code == 200
    [q1] = region_trend(user=county_supervisor, region=None)
    assert q1.firms == 1 and q1.balance == D("1000000.00")
    assert client.get(URL, {"region": "810200"}).status_code == 404  # another city
    assert client.get(URL, {"region": "999999"}).status_code == 404
    assert client.get(URL, {"period": "2019Q1"}).status_code == 404
    client.force_login(firm_user())
    assert client.get(URL).status_code == 403


def test_trends_without_snapshots_say_how_they_come(client):
    client.force_login(authority_user(RegionFactory()))
    assert "JB-5" in client.get(URL).content.decode()


def test_the_cg14_credit_share_comes_from_counterguarantee_through_the_signal(land):
    """guarantees does not import counterguarantee: the trends ask guarantees.signals.credit_share_asked,
    which counterguarantee answers by its CG-14 rule (its AppConfig.ready())."""
    from counterguarantee.apps import _credit_share
    from guarantees.signals import credit_share_asked

    FirmIndicatorSnapshot.objects.filter(period="2025Q2").update(planned_guarantees=4, collateral_guarantees=1)
    user = authority_user(land["province"])
    q1, q2 = region_trend(user=user, region=None)
    assert q1.credit_share is None  # no guarantee with a decided plan: the share is undefined
    assert q2.credit_share == D("0.750000")  # 1 − 1 ÷ 4
    assert credit_share_asked.disconnect(_credit_share, dispatch_uid="counterguarantee-credit-share")
    try:
        assert region_trend(user=user, region=None)[1].credit_share is None  # nobody answers: no figure
    finally:
        credit_share_asked.connect(_credit_share, dispatch_uid="counterguarantee-credit-share")

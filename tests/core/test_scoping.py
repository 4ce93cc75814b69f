"""Scoping: people see their own organisation's rows; authority users their jurisdiction."""
import pytest
from django.contrib.auth.models import AnonymousUser

from core.models import Organisation, Region
from core.scoping import org_filter, visible_organisations
from tests.factories import OrganisationFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    province = RegionFactory(code="23", name="黑龙江省", level=Region.Level.PROVINCE)
    city = RegionFactory(code="2327", name="大兴安岭地区", level=Region.Level.CITY, parent=province)
    county = RegionFactory(code="232701", name="漠河市", level=Region.Level.COUNTY, parent=city)
    other_province = RegionFactory(code="11", name="北京市", level=Region.Level.PROVINCE)
    return {"province": province, "city": city, "county": county, "other": other_province}


def test_region_path_is_materialised(tree):
    assert tree["county"].path == "/23/2327/232701/"


def test_member_sees_only_its_own_organisation(tree):
    firm = OrganisationFactory(region=tree["county"])
    OrganisationFactory(region=tree["county"])
    user = UserFactory(organisation=firm)
    assert list(visible_organisations(user)) == [firm]


def test_authority_sees_its_jurisdiction_and_nothing_outside(tree):
    city_authority = OrganisationFactory(kind=Organisation.Kind.AUTHORITY, region=tree["city"])
    inside = OrganisationFactory(region=tree["county"])
    above = OrganisationFactory(region=tree["province"])
    outside = OrganisationFactory(region=tree["other"])
    user = UserFactory(organisation=city_authority)
    visible = set(visible_organisations(user))
    assert inside in visible and city_authority in visible
    assert above not in visible and outside not in visible


def test_superuser_sees_everything(tree):
    OrganisationFactory(region=tree["other"])
    admin = UserFactory(organisation=None, is_superuser=True)
    assert visible_organisations(admin).count() == Organisation.objects.count()


def test_anonymous_and_organisationless_users_see_nothing(tree):
    OrganisationFactory(region=tree["county"])
    assert not visible_organisations(AnonymousUser()).exists()
    assert not visible_organisations(UserFactory(organisation=None)).exists()


def test_org_filter_keeps_rows_of_any_named_party(tree):
    firm = OrganisationFactory(region=tree["county"])
    other = OrganisationFactory(region=tree["county"])
    user = UserFactory(organisation=firm)
    rows = Organisation.objects.filter(org_filter(user, "supervisor"))
    child = OrganisationFactory(region=tree["county"], supervisor=firm)
    OrganisationFactory(region=tree["county"], supervisor=other)
    assert list(rows) == [child]

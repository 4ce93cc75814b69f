"""Factories of the evaluation tests: a province with a city, two counties, their supervisors and
firms, and helpers to take a submission through the chain."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import Organisation, Region
from evaluation import services
from evaluation.models import Submission
from guarantees.models import Guarantee
from tests.factories import FirmNetAssetsFactory, GuaranteeFactory, OrganisationFactory, RegionFactory, UserFactory

K = Organisation.Kind
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
TARGETS = {"leverage": "3.00", "clients": 2, "amount": "2000000.00"}


def pdf(name="material.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@dataclass
class World:
    province: Region
    city: Region
    county: Region
    other_county: Region
    authority: object  # province authority admin user
    city_user: object
    county_user: object
    other_county_user: object
    firm_user: object
    other_firm_user: object
    city_firm_user: object

    @property
    def firm(self):
        return self.firm_user.organisation


def build_world(year: int = 2024, *, with_business: bool = True) -> World:
    province = RegionFactory(code="350000", name="福建省", level=Region.Level.PROVINCE)
    city = RegionFactory(code="350100", name="福州市", level=Region.Level.CITY, parent=province)
    county = RegionFactory(code="350121", name="闽侯县", level=Region.Level.COUNTY, parent=city)
    other_county = RegionFactory(code="350122", name="连江县", level=Region.Level.COUNTY, parent=city)
    authority_org = OrganisationFactory(kind=K.AUTHORITY, region=province, name="省地方金融管理局")
    province_sup = OrganisationFactory(kind=K.SUPERVISOR, region=province, name="省财政厅")
    city_sup = OrganisationFactory(kind=K.SUPERVISOR, region=city, supervisor=province_sup, name="市财政局")
    county_sup = OrganisationFactory(kind=K.SUPERVISOR, region=county, supervisor=city_sup, name="闽侯县财政局")
    other_sup = OrganisationFactory(kind=K.SUPERVISOR, region=other_county, supervisor=city_sup, name="连江县财政局")
    firm = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=county, supervisor=county_sup, name="闽侯担保")
    other = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=other_county, supervisor=other_sup, name="连江担保")
    city_firm = OrganisationFactory(kind=K.GUARANTEE_FIRM, region=city, supervisor=city_sup, name="福州担保")
    world = World(
        province=province, city=city, county=county, other_county=other_county,
        authority=UserFactory(organisation=authority_org, roles=["authority_admin"]),
        city_user=UserFactory(organisation=city_sup, roles=["city_supervisor"]),
        county_user=UserFactory(organisation=county_sup, roles=["county_supervisor"]),
        other_county_user=UserFactory(organisation=other_sup, roles=["county_supervisor"]),
        firm_user=UserFactory(organisation=firm, roles=["firm_operator"]),
        other_firm_user=UserFactory(organisation=other, roles=["firm_operator"]),
        city_firm_user=UserFactory(organisation=city_firm, roles=["firm_operator"]),
    )
    if with_business:
        for org in (firm, other, city_firm):
            business(org, year)
    return world


def business(firm, year: int, *, net_assets=Decimal("1000000.00"), amounts=(Decimal("1000000.00"),) * 3,
             fee=Decimal("0.008000")) -> None:
    """Small-micro guarantees written in ``year`` (active at its end) and the year-end net assets."""
    FirmNetAssetsFactory(firm=firm, as_of=date(year, 12, 31), net_assets=net_assets)
    for amount in amounts:
        GuaranteeFactory(agreement__firm=firm, amount=amount, fee_rate=fee, start=date(year, 3, 1),
                         loan_start=date(year, 3, 1), end=date(year + 1, 2, 28), loan_maturity=date(year + 1, 2, 28))


def upload_firm_materials(user, sub) -> None:
    for kind in ("scoring_form", "business_report", "statistics"):
        services.material_upload(user=user, submission=sub, kind=kind, upload=pdf())
    services.material_upload(user=user, submission=sub, kind="audit_report", upload=pdf(), auditor="致远会计师事务所",
                             auditor_clean=True)


def file_submission(world: World, sub, user=None):
    user = user or world.firm_user
    upload_firm_materials(user, sub)
    sub = services.scoring_form_sign(user=user, submission=sub)
    return services.submission_submit(user=user, submission=sub)


def accept(world: World, user):
    """File ``user``'s firm's submission and take it through every reviewer to accepted."""
    from evaluation.rules import State

    sub = Submission.objects.get(firm=user.organisation)
    sub = file_submission(world, sub, user)
    while sub.state != State.ACCEPTED:
        if sub.state == State.COUNTY:
            county = world.county_user if sub.county_org == world.county_user.organisation else world.other_county_user
            services.material_upload(user=county, submission=sub, kind="compliance_report", upload=pdf())
            sub = services.submission_forward(user=county, submission=sub, opinion="同意")
        elif sub.state == State.CITY:
            services.material_upload(user=world.city_user, submission=sub, kind="spot_check", upload=pdf())
            sub = services.submission_forward(user=world.city_user, submission=sub, opinion="同意")
        else:
            sub = services.submission_forward(user=world.authority, submission=sub, opinion="")
    return sub


def compensated_guarantee(firm) -> Guarantee:
    return GuaranteeFactory(agreement__firm=firm, status=Guarantee.Status.COMPENSATED)

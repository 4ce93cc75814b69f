"""Every evaluation page and endpoint, for the people who may use it and refused to the others:
another firm or another county's supervisor gets 404 on a row that is not theirs (a missing and
a forbidden row look the same); a role without the right gets 403."""
from __future__ import annotations

import pytest
from django.urls import reverse

from evaluation import api_urls, urls
from evaluation.models import Submission
from tests.evaluation.factories import compensated_guarantee, file_submission
from tests.evaluation.test_views import YEAR, world  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def rows(w):
    sub = Submission.objects.get(firm=w.firm)
    file_submission(w, sub)
    from evaluation import services

    case = services.case_open(user=w.firm_user, guarantee=compensated_guarantee(w.firm), staff="张三",
                              grounds=["EV-12.6"])
    return {"sub": sub, "material": sub.materials.first(), "case": case, "firm": w.firm}


# url name -> (args from the rows, method, {user: status})
PAGES = {
    "home": (lambda r: [], "get", {"firm_user": 200, "county_user": 200, "authority": 200}),
    "year-new": (lambda r: [], "get", {"authority": 302, "firm_user": 403, "county_user": 403}),  # 302: asks the year
    "year": (lambda r: [YEAR], "get", {"authority": 200, "county_user": 200, "firm_user": 403}),
    "year-setup": (lambda r: [YEAR], "get", {"authority": 200, "county_user": 403, "firm_user": 403}),
    # A refused step goes back to the page with the refusal as a message; nothing changes (checked below).
    "year-close": (lambda r: [YEAR], "post", {"firm_user": 302, "county_user": 302, "city_user": 302}),
    "year-publish": (lambda r: [YEAR], "post", {"firm_user": 302, "county_user": 302}),
    "results": (lambda r: [YEAR], "get", {"authority": 200}),
    "results-xlsx": (lambda r: [YEAR], "get", {"authority": 200}),
    "submission": (lambda r: [r["sub"].pk], "get", {
        "firm_user": 200, "county_user": 200, "city_user": 200, "authority": 200,
        "other_firm_user": 404, "other_county_user": 404}),
    "scoring-form": (lambda r: [r["sub"].pk], "get", {"firm_user": 200, "other_firm_user": 404,
                                                      "other_county_user": 404}),
    "scoring-form-xlsx": (lambda r: [r["sub"].pk], "get", {"firm_user": 200, "other_firm_user": 404,
                                                           "other_county_user": 404}),
    "submission-step": (lambda r: [r["sub"].pk, "forward"], "post", {"other_firm_user": 404,
                                                                      "other_county_user": 404}),
    "materials-upload": (lambda r: [r["sub"].pk], "post", {"other_firm_user": 404,
                                                            "other_county_user": 404}),
    "material": (lambda r: [r["material"].pk], "get", {"firm_user": 200, "county_user": 200,
                                                       "other_firm_user": 404, "other_county_user": 404}),
    "firm-history": (lambda r: [r["firm"].pk], "get", {"authority": 200, "county_user": 200,
                                                       "other_firm_user": 404, "other_county_user": 404}),
    "distribution": (lambda r: [], "get", {"authority": 200, "firm_user": 403}),
    "interviews": (lambda r: [], "get", {"authority": 200}),
    "cases": (lambda r: [], "get", {"firm_user": 200, "other_firm_user": 200, "county_user": 200}),
    "case-new": (lambda r: [], "get", {"firm_user": 200}),
    "case": (lambda r: [r["case"].pk], "get", {"firm_user": 200, "county_user": 200, "other_firm_user": 404,
                                               "other_county_user": 404}),
    "case-step": (lambda r: [r["case"].pk, "confirm"], "post", {"other_firm_user": 404, "other_county_user": 404}),
}


def test_every_page_is_in_the_access_table():
    assert {p.name for p in urls.pages} == set(PAGES)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_for_its_users_and_refused_to_others(client, world, name):  # noqa: F811
    args, method, expected = PAGES[name]
    url = reverse(f"evaluation:{name}", args=args(rows(world)))
    for who, status in expected.items():
        client.force_login(getattr(world, who))
        response = getattr(client, method)(url)
        assert response.status_code == status, (who, response.status_code)


def test_the_case_list_shows_a_firm_only_its_own_cases(client, world):  # noqa: F811
    r = rows(world)
    client.force_login(world.other_firm_user)
    assert reverse("evaluation:case", args=[r["case"].pk]) not in client.get(reverse("evaluation:cases")).content.decode()
    client.force_login(world.firm_user)
    assert reverse("evaluation:case", args=[r["case"].pk]) in client.get(reverse("evaluation:cases")).content.decode()


def test_the_preview_apis_need_a_sign_in_and_store_nothing(client, world):  # noqa: F811
    names = {p.name for p in api_urls.urlpatterns}
    assert names == {"preview", "exemption-decide"}
    for name in names:
        assert client.post(reverse(f"evaluation-api:{name}"), {}, content_type="application/json").status_code in (401, 403)


def test_a_refused_year_step_changes_nothing_and_says_why(client, world):  # noqa: F811
    from evaluation.models import EvaluationYear

    stage = EvaluationYear.objects.get(year=YEAR).stage
    client.force_login(world.firm_user)
    response = client.post(reverse("evaluation:year-close", args=[YEAR]), follow=True)
    assert EvaluationYear.objects.get(year=YEAR).stage == stage
    assert any(m.level_tag == "error" for m in response.context["messages"])

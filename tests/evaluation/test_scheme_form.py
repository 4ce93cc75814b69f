"""Issue 13 points 3 and 7: the year's scoring scheme (EV-2, EV-3) edited as typed fields with
units, no JSON; every problem of one submission shown at once beside its field with its rule id."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from evaluation import rules, services
from evaluation.forms_scheme import IndicatorForm
from evaluation.models import EvaluationYear
from tests.evaluation.factories import TARGETS, build_world

pytestmark = pytest.mark.django_db
YEAR = 2025


def scheme_post(rows=None, **changes) -> dict:
    """What the browser posts for ``rows`` (the default scheme) shown unchanged, with ``changes``
    applied (``"0-weight": "40"``)."""
    rows = rules.default_scheme_rows() if rows is None else rows
    data = {"i-TOTAL_FORMS": str(len(rows) + 1), "i-INITIAL_FORMS": str(len(rows)), "i-MIN_NUM_FORMS": "0",
            "i-MAX_NUM_FORMS": "1000", f"i-{len(rows)}-function": "capped_ratio", f"i-{len(rows)}-source": "computed"}
    for n, row in enumerate(rows):
        for key, value in IndicatorForm.initial_for(row).items():
            if value is not None:
                data[f"i-{n}-{key}"] = str(value)
    for key, value in changes.items():
        data[f"i-{key}"] = value
    return data


@pytest.fixture
def province(client):
    world = build_world(YEAR - 1)
    client.force_login(world.authority)
    return world


def test_ev3_the_scheme_editor_shows_typed_fields_with_units_and_no_json(client, province):
    page = client.get(reverse("evaluation:year-setup", args=[YEAR]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "JSON" not in html and "{&quot;" not in html and "&quot;parts&quot;" not in html
    form = page.context["formset"].forms[1]  # support: three parts, the share against a fixed 80%
    assert form["part2_input"].value() == "support_share" and form["part2_target"].value() == "value"
    assert form["part2_target_value"].value() == Decimal("80")
    fee = page.context["formset"].forms[2]
    assert (fee["full_at"].value(), fee["zero_at"].value()) == (Decimal("1"), Decimal("2"))  # 1% and 2%


def test_ev3_percentages_typed_are_stored_as_fractions(client, province):
    data = {"t-leverage": "4", "t-clients": "300", "t-amount": "500000000",
            **scheme_post(**{"2-full_at": "1.5", "2-zero_at": "2.5", "1-part2_target_value": "75"})}
    response = client.post(reverse("evaluation:year-setup", args=[YEAR]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    scheme = EvaluationYear.objects.get(year=YEAR).scheme
    assert scheme[2]["params"] == {"input": "avg_fee_rate", "full_at": "0.015", "zero_at": "0.025"}
    assert scheme[1]["params"]["parts"][2] == {"input": "support_share", "target_value": "0.75", "weight": "10"}


def test_ev2_ev3_one_submission_lists_every_problem_at_once(client, province):
    """A field error (the leverage target), a duplicate short name, a part without its points
    (which also leaves the parts short of the indicator), breakpoints in the wrong order and
    points not adding up to 100: all shown on the first submission, each with its rule id."""
    data = {"t-leverage": "abc", "t-clients": "300", "t-amount": "500000000",
            **scheme_post(**{"1-code": "leverage", "1-part0_weight": "", "2-full_at": "3", "2-zero_at": "2",
                             "0-weight": "45"})}
    response = client.post(reverse("evaluation:year-setup", args=[YEAR]), data)
    assert response.status_code == 400
    targets, formset = response.context["targets_form"], response.context["formset"]
    assert "leverage" in targets.errors
    support, fee = formset.forms[1].errors, formset.forms[2].errors
    assert "EV-3" in str(support["code"]) and "EV-3" in str(support["part0_weight"])
    assert "EV-3" in str(fee["zero_at"])
    assert any("EV-2" in e for e in formset.non_form_errors())
    assert not EvaluationYear.objects.filter(year=YEAR).exists()


def test_ev3_a_sum_of_parts_must_add_up_to_its_points(client, province):
    data = {"t-leverage": "4", "t-clients": "300", "t-amount": "500000000",
            **scheme_post(**{"1-part0_weight": "5"})}
    response = client.post(reverse("evaluation:year-setup", args=[YEAR]), data)
    assert response.status_code == 400
    assert "EV-3" in str(response.context["formset"].forms[1].errors["weight"])


def test_the_typed_scheme_round_trips_the_stored_default(client, province):
    services.year_setup(user=province.authority, year=YEAR, targets=TARGETS)
    data = {"t-leverage": "4", "t-clients": "300", "t-amount": "500000000", **scheme_post()}
    assert client.post(reverse("evaluation:year-setup", args=[YEAR]), data).status_code == 302
    assert EvaluationYear.objects.get(year=YEAR).indicators() == rules.DEFAULT_SCHEME


@pytest.mark.parametrize(("language", "word"), [("zh-hans", "放大倍数"), ("en", "Leverage")])
def test_choice_labels_read_in_the_readers_language(language, word):
    """Issue 13.1: choices built when the module is imported stay lazy, so they follow the reader
    (the scheme's inputs, the exemption grounds, the counter-guarantee lowered-threshold grounds)."""
    from django.utils import translation

    from counterguarantee.forms import PlanForm
    from evaluation.forms import GROUND_CHOICES
    from evaluation.forms_scheme import INPUT_CHOICES

    with translation.override(language):
        assert word in str(INPUT_CHOICES[1][1])
        chinese = language == "zh-hans"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(GROUND_CHOICES[0][1])) is chinese
        label = str(PlanForm.base_fields["lowered_grounds"].choices[0][1])
        assert any("\u4e00" <= ch <= "\u9fff" for ch in label) is chinese

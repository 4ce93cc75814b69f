"""Issue 13 point 7 and issue 15 drafts: rule sets edited as typed forms with units and the
family's own validation, a side-by-side diff, drafts that nothing reads, adoption as a new
version through the audited path; the authority only."""
from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from core.errors import RuleViolation
from core.forms_rulesets import ParamsForm
from core.models import AuditEvent, Organisation, RuleSet, RuleSetDraft
from core.ruleset_families import get_family, params_diff
from core.rulesets import rule_params
from core.services_rulesets import draft_adopt, draft_create
from tests.factories import UserFactory, bank_user

pytestmark = pytest.mark.django_db

BACKEND = "core.auth.ActiveAccountBackend"


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin, backend=BACKEND)
    return client


def scheme_s() -> RuleSet:
    return RuleSet.objects.get(scheme=RuleSet.Scheme.RISKPOOL_S)


def form_data(form: ParamsForm, **changes) -> dict:
    """What the browser posts for an unchanged form, with ``changes`` applied (prefix ``p``)."""
    data = {}
    for name in form.fields:
        value = form.initial.get(name)
        if isinstance(value, list):
            data[f"p-{name}"] = value
        elif value is not None:
            data[f"p-{name}"] = str(value)
    for name, value in changes.items():
        data[f"p-{name}"] = value
    return data


def bound(rule_set: RuleSet, **changes) -> ParamsForm:
    family = get_family(rule_set.scheme)
    blank = ParamsForm(family=family, params=rule_set.params, prefix="p")
    return ParamsForm(form_data(blank, **changes), family=family, params=rule_set.params, prefix="p")


@pytest.mark.parametrize("scheme", [s for s, _ in RuleSet.Scheme.choices])
def test_every_shipped_rule_set_round_trips_through_its_typed_form_unchanged(scheme):
    rule_set = RuleSet.objects.filter(scheme=scheme).first() or RuleSet.objects.create(
        scheme=scheme, name="x", effective_from=date(2024, 1, 1), params={})
    form = bound(rule_set)
    assert form.is_valid(), form.errors
    assert not [r for r in params_diff(scheme, rule_set.params, form.params) if r["changed"]]


def test_ratio_is_entered_as_a_percentage_and_stored_as_a_fraction():
    form = bound(scheme_s(), npl_gate="2")
    assert form.is_valid(), form.errors
    assert form.params["npl_gate"] == "0.020000"
    assert form.fields["npl_gate"].unit == "%"


def test_rp8_tiers_are_rows_and_falling_ceilings_are_refused_beside_the_tiers():
    form = bound(scheme_s(), **{"tiers-1-ceiling": "4000000"})
    assert not form.is_valid()
    assert "RP-8" in str(form.non_field_errors())


def test_rp8_a_tier_can_be_added_in_a_blank_row():
    form = bound(scheme_s(), **{"tiers-3-ceiling": "40000000", "tiers-3-ratio": "10"})
    assert form.is_valid(), form.errors
    assert form.params["tiers"][-1] == ["40000000.00", "0.100000"]


def test_rp8_an_incomplete_tier_row_is_named():
    form = bound(scheme_s(), **{"tiers-3-ceiling": "40000000"})
    assert not form.is_valid()
    assert "row 4 is incomplete" in str(form.non_field_errors())


def test_a_ratio_over_100_percent_is_refused_on_its_field():
    form = bound(scheme_s(), ratio_cap="100.01")
    assert not form.is_valid()
    assert "ratio_cap" in form.errors


def test_rp9_qualification_codes_are_checkboxes_with_labels_not_codes():
    form = bound(scheme_s())
    labels = [str(label) for _, label in form.fields["qualification_codes"].choices]
    assert any("高新技术" in label for label in labels)


def test_diff_marks_exactly_the_changed_parameters():
    base = scheme_s().params
    draft = {**base, "npl_gate": "0.020000", "tiers": [["5000000.00", "0.5"], *base["tiers"][1:]]}
    changed = [r["spec"].name for r in params_diff(RuleSet.Scheme.RISKPOOL_S, base, draft) if r["changed"]]
    assert changed == ["tiers", "npl_gate"]


def test_compare_page_shows_two_versions_side_by_side(admin_client, admin):
    draft = draft_create(user=admin, rule_set=scheme_s())
    draft.params = {**draft.params, "npl_gate": "0.020000"}
    draft.save()
    response = admin_client.get(reverse("rulesets:compare"), {"a": f"rs-{scheme_s().pk}", "b": f"draft-{draft.pk}"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-changed="npl_gate"' in page and "3.00%" in page and "2.00%" in page
    assert page.count("data-changed=") == 1


def test_typed_edit_saves_and_audits_with_before_and_after(admin_client):
    rule_set = scheme_s()
    data = {"name": rule_set.name, "effective_from": "2023-08-10", "effective_to": "2028-08-10", "note": "",
            **form_data(ParamsForm(family=get_family(rule_set.scheme), params=rule_set.params, prefix="p"),
                        ratio_cap="55")}
    response = admin_client.post(reverse("rulesets:edit", args=[rule_set.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert rule_params("riskpool_s", date(2024, 1, 1))["ratio_cap"] == "0.550000"
    event = AuditEvent.objects.filter(object_type="core.ruleset", object_id=str(rule_set.pk)).latest("pk")
    assert event.before["params"]["ratio_cap"] == "0.500000" and event.after["params"]["ratio_cap"] == "0.550000"


def test_typed_edit_refusal_names_the_field_in_the_users_language(admin_client):
    rule_set = scheme_s()
    data = {"name": rule_set.name, "effective_from": "2023-08-10", "effective_to": "2028-08-10", "note": "",
            **form_data(ParamsForm(family=get_family(rule_set.scheme), params=rule_set.params, prefix="p"),
                        npl_gate="abc")}
    response = admin_client.post(reverse("rulesets:edit", args=[rule_set.pk]), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert rule_params("riskpool_s", date(2024, 1, 1))["npl_gate"] == "0.030000"


def test_a_draft_never_affects_the_rules_in_force(admin):
    draft = draft_create(user=admin, rule_set=scheme_s())
    draft.params = {**draft.params, "npl_gate": "0.020000"}
    draft.save()
    assert rule_params("riskpool_s", date(2024, 1, 1))["npl_gate"] == "0.030000"


def test_adopting_a_draft_adds_a_version_from_its_date_and_ends_the_old_one_the_day_before(admin):
    draft = draft_create(user=admin, rule_set=scheme_s())
    draft.params = {**draft.params, "npl_gate": "0.020000"}
    draft.effective_from = date(2026, 1, 1)
    draft.save()
    new = draft_adopt(user=admin, draft=draft)
    assert rule_params("riskpool_s", date(2025, 12, 31))["npl_gate"] == "0.030000"
    assert rule_params("riskpool_s", date(2026, 1, 1))["npl_gate"] == "0.020000"
    assert new.effective_to == date(2028, 8, 10)  # keeps the old version's end
    assert RuleSet.objects.get(pk=draft.base_id).effective_to == date(2025, 12, 31)
    assert AuditEvent.objects.filter(object_type="core.ruleset", object_id=str(new.pk), action="create").exists()
    with pytest.raises(RuleViolation):
        draft_adopt(user=admin, draft=RuleSetDraft.objects.get(pk=draft.pk))


def test_only_an_authority_administrator_adopts(admin):
    draft = draft_create(user=admin, rule_set=scheme_s())
    reviewer = UserFactory(organisation__kind=Organisation.Kind.AUTHORITY, roles=["authority_reviewer"])
    with pytest.raises(RuleViolation):
        draft_adopt(user=reviewer, draft=draft)


def test_pages_answer_404_for_another_organisation(client, admin):
    draft = draft_create(user=admin, rule_set=scheme_s())
    client.force_login(bank_user(), backend=BACKEND)
    assert client.get(reverse("rulesets:list")).status_code == 403
    assert client.get(reverse("rulesets:detail", args=[scheme_s().pk])).status_code == 404
    assert client.get(reverse("rulesets:draft", args=[draft.pk])).status_code == 404
    assert client.post(reverse("rulesets:draft-create", args=[scheme_s().pk])).status_code == 404
    assert client.post(reverse("rulesets:draft-adopt", args=[draft.pk])).status_code == 404


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_list_detail_draft_and_edit_pages_render(admin_client, admin, language):
    draft = draft_create(user=admin, rule_set=scheme_s())
    for url in (reverse("rulesets:list"), reverse("rulesets:detail", args=[scheme_s().pk]),
                reverse("rulesets:edit", args=[scheme_s().pk]), reverse("rulesets:new-version", args=[scheme_s().pk]),
                reverse("rulesets:draft", args=[draft.pk]), reverse("rulesets:draft-edit", args=[draft.pk])):
        response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, url
        assert "{&quot;" not in response.content.decode()  # no raw JSON on the page


@pytest.mark.parametrize(("language", "shown", "hidden"), [
    ("zh-hans", ["深圳市中小微企业银行贷款风险补偿资金池 2024 版（系统预置）", "湖北省政府性融资担保机构反担保设置指引"],
     ["as shipped"]),
    ("en", ["Shenzhen SME bank loan risk compensation pool, 2024 rules (as shipped)",
            "Government financing guarantees, 2019 State Council guidance (as shipped)"], ["系统预置"]),
])
def test_shipped_rule_sets_have_human_names_in_the_readers_language(admin_client, language, shown, hidden):
    """Issue 13.2: no "… defaults" or "Shipped default (spec …md)" on screen; the names and notes
    the data migration gave the shipped rule sets read in each viewer's language."""
    page = admin_client.get(reverse("rulesets:list"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    detail = admin_client.get(reverse("rulesets:detail", args=[scheme_s().pk]),
                              HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for text in shown:
        assert text in page
    for text in (*hidden, "defaults", "Shipped", ".md"):
        assert text not in page and text not in detail
    assert ("主管部门可以修改" if language == "zh-hans" else "the authority may change them") in detail


def test_typed_form_lists_field_and_rule_problems_in_one_pass():
    """Issue 13.3: a mistyped gate (field), a ratio over 100% (field) and falling tier ceilings
    (RP-8, the family's own rule) are all shown at once."""
    form = bound(scheme_s(), npl_gate="abc", ratio_cap="100.01", **{"tiers-1-ceiling": "4000000"})
    assert not form.is_valid()
    assert {"npl_gate", "ratio_cap"} <= set(form.errors)
    assert "RP-8" in str(form.non_field_errors())
    assert not hasattr(form, "params")

"""Versioned rule sets: the one in force on a date, and no overlapping ranges."""
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from core.admin import RuleSetAdminForm
from core.errors import RuleViolation
from core.models import RuleSet
from core.rulesets import rule_params
from tests.factories import RuleSetFactory

pytestmark = pytest.mark.django_db

GU = RuleSet.Scheme.GUARANTEES


@pytest.fixture(autouse=True)
def _no_seeded_rule_sets():
    # The apps' migrations seed their default rule sets; these tests lay out their own ranges.
    RuleSet.objects.all().delete()


@pytest.fixture
def two_versions():
    first = RuleSetFactory(effective_from=date(2024, 1, 1), effective_to=date(2024, 6, 30), params={"v": 1})
    second = RuleSetFactory(effective_from=date(2024, 7, 1), effective_to=date(2024, 12, 31), params={"v": 2})
    return first, second


def test_ruleset_picks_the_version_in_force_on_the_date(two_versions):
    assert rule_params(GU, date(2024, 3, 1)) == {"v": 1}
    assert rule_params(GU, date(2024, 9, 1)) == {"v": 2}


def test_ruleset_boundaries_are_inclusive(two_versions):
    assert rule_params(GU, date(2024, 1, 1)) == {"v": 1}  # effective_from
    assert rule_params(GU, date(2024, 6, 30)) == {"v": 1}  # effective_to
    assert rule_params(GU, date(2024, 7, 1)) == {"v": 2}
    assert rule_params(GU, date(2024, 12, 31)) == {"v": 2}


def test_ruleset_open_ended_version_applies_to_any_later_date():
    RuleSetFactory(effective_from=date(2024, 1, 1), effective_to=None, params={"v": 3})
    assert rule_params(GU, date(2030, 1, 1)) == {"v": 3}


def test_ruleset_other_scheme_is_not_used(two_versions):
    with pytest.raises(RuleViolation):
        rule_params(RuleSet.Scheme.EVALUATION, date(2024, 3, 1))


@pytest.mark.parametrize("on", [date(2023, 12, 31), date(2025, 1, 1)])
def test_ruleset_gap_is_a_rule_violation(two_versions, on):
    with pytest.raises(RuleViolation) as info:
        rule_params(GU, on)
    assert info.value.rule == "RULESET"
    assert on.isoformat() in info.value.message
    # adjacent versions are one covered range
    assert "2024-01-01 to 2024-12-31" in info.value.message


def test_ruleset_error_names_every_covered_range_and_an_open_end():
    RuleSetFactory(effective_from=date(2020, 1, 1), effective_to=date(2020, 12, 31), params={"v": 1})
    RuleSetFactory(effective_from=date(2022, 1, 1), effective_to=None, params={"v": 2})
    with pytest.raises(RuleViolation) as info:
        rule_params(GU, date(2021, 6, 1))
    assert "2020-01-01 to 2020-12-31, 2022-01-01 onwards" in info.value.message


def test_ruleset_error_without_any_rule_set_says_so():
    with pytest.raises(RuleViolation) as info:
        rule_params(GU, date(2021, 6, 1))
    assert info.value.rule == "RULESET" and "no rule set" in info.value.message


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 6, 30), date(2024, 7, 15)),  # starts on the last day of the first
        (date(2023, 6, 1), date(2024, 1, 1)),  # ends on the first day of the first
        (date(2024, 12, 31), None),  # open-ended, starting on the last day of the second
        (date(2023, 1, 1), None),  # open-ended over everything
        (date(2024, 2, 1), date(2024, 2, 2)),  # inside
    ],
)
def test_ruleset_overlap_is_refused_by_clean(two_versions, start, end):
    clash = RuleSet(scheme=GU, name="clash", effective_from=start, effective_to=end, params={"v": 0})
    with pytest.raises(ValidationError):
        clash.full_clean()


def test_ruleset_adjacent_range_and_other_scheme_are_accepted(two_versions):
    RuleSet(scheme=GU, name="next", effective_from=date(2025, 1, 1), params={"v": 0}).full_clean()
    RuleSet(scheme=RuleSet.Scheme.EVALUATION, name="ev", effective_from=date(2024, 3, 1), params={"v": 0}).full_clean()


def test_ruleset_editing_a_version_does_not_clash_with_itself(two_versions):
    first, _ = two_versions
    first.effective_from = date(2023, 1, 1)
    first.full_clean()


def test_ruleset_end_before_start_is_refused():
    with pytest.raises(ValidationError) as info:
        RuleSet(scheme=GU, name="x", effective_from=date(2024, 2, 1), effective_to=date(2024, 1, 1), params={"v": 0}).full_clean()
    assert "effective_to" in info.value.message_dict


def _form(instance, **overrides):
    """The admin edits an existing version's name, dates and note; parameters are not on it."""
    data = {"name": instance.name, "effective_from": instance.effective_from.isoformat(),
            "effective_to": instance.effective_to.isoformat() if instance.effective_to else "", "note": ""}
    data.update(overrides)
    return RuleSetAdminForm(data=data, instance=instance)


def test_ruleset_overlap_is_refused_by_the_admin_form(two_versions):
    _, second = two_versions
    form = _form(second, effective_from="2024-06-01")
    assert not form.is_valid()
    assert form.non_field_errors()


def test_ruleset_admin_form_accepts_a_free_range(two_versions):
    _, second = two_versions
    form = _form(second, effective_from="2025-01-01", effective_to="")
    assert form.is_valid(), form.errors
    saved = form.save()
    assert saved.effective_from == date(2025, 1, 1)
    assert saved.params == {"v": 2}  # the parameters are untouched by the admin


def test_ruleset_admin_form_reports_a_missing_date_instead_of_crashing(two_versions):
    _, second = two_versions
    form = _form(second, effective_from="", effective_to="2024-03-01")
    assert not form.is_valid()
    assert "effective_from" in form.errors


def test_ruleset_admin_form_has_no_raw_parameters():
    assert "params" not in RuleSetAdminForm.base_fields
    assert "scheme" not in RuleSetAdminForm.base_fields

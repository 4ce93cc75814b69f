"""core.api.fast's converters give, value for value, what the DRF field's own to_representation
gives (issue 12: the project API builds its rows without DRF's per-row machinery)."""
from __future__ import annotations

import datetime
import zoneinfo
from decimal import Decimal as D

import pytest
from django.utils import timezone
from rest_framework import serializers

from core.api.fast import FastRows, converter
from riskpool.models import LoanProject


class _Choice(serializers.ChoiceField):
    """A subclass that only documents: still converted fast."""


FIELDS = {
    "char": (serializers.CharField(), ["", "abc", "中文", 12]),
    "choice": (_Choice(choices=["a", "b"]), ["a", "b", "", "zz", 1]),
    "int": (serializers.IntegerField(), [0, -3, 2**40, "7"]),
    "bigint": (serializers.BigIntegerField(), [0, 2**62]),
    "bigint_str": (serializers.BigIntegerField(coerce_to_string=True), [0, 2**62]),
    "bool": (serializers.BooleanField(), [True, False, 0, 1, "true"]),
    "money": (serializers.DecimalField(max_digits=18, decimal_places=2),
              [D("0"), D("1.5"), D("123456789.005"), D("-0.01"), D("1E+3"), 3, 2.5, "4.1"]),
    "rate": (serializers.DecimalField(max_digits=8, decimal_places=6), [D("0.0345"), D("1.1234565")]),
    "money_number": (serializers.DecimalField(max_digits=18, decimal_places=2, coerce_to_string=False), [D("1.5")]),
    "date": (serializers.DateField(), [datetime.date(2025, 3, 1), datetime.date(1, 1, 1)]),
    "date_format": (serializers.DateField(format="%d/%m/%Y"), [datetime.date(2025, 3, 1)]),
    "datetime": (serializers.DateTimeField(), [
        datetime.datetime(2025, 3, 1, 23, 30, tzinfo=datetime.UTC),
        datetime.datetime(2025, 3, 1, 23, 30, 0, 123456, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
        datetime.datetime(2025, 3, 1, 12, 0),  # naive: made aware as DRF does
    ]),
    "datetime_utc": (serializers.DateTimeField(default_timezone=datetime.UTC),
                     [datetime.datetime(2025, 3, 1, 23, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))]),
    "list": (serializers.ListField(child=serializers.ChoiceField(choices=["x", "y"])), [[], ["x", "y"], ["x", None]]),
    "json": (serializers.JSONField(), [{"a": 1}, [1, 2]]),
}


@pytest.mark.parametrize("kind", sorted(FIELDS))
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC"])
def test_converters_equal_the_fields_own_output(kind, zone):
    field, samples = FIELDS[kind]
    with timezone.override(zone):
        fast = converter(field)
        for value in samples:
            expected = field.to_representation(value)
            got = fast(value)
            assert got == expected and type(got) is type(expected), (kind, value)


def test_a_field_fastrows_cannot_read_as_a_column_is_refused():
    from riskpool.models import LoanProject

    class Odd(serializers.ModelSerializer):
        label = serializers.CharField(source="pool.rules_text_nowhere", read_only=True)

        class Meta:
            model = LoanProject
            fields = ["id", "label"]

    with pytest.raises(TypeError, match="label"):
        FastRows(Odd)


class _Tricky(serializers.ModelSerializer):
    """Fields whose values the generated row code must not pass through as they are."""

    number_as_choice = serializers.ChoiceField(choices=[(5, "five"), ("a", "A")], source="loan_no", read_only=True)
    id_as_text = serializers.CharField(source="id", read_only=True)
    created_utc = serializers.DateTimeField(source="created_at", default_timezone=datetime.UTC, read_only=True)
    created_here = serializers.DateTimeField(source="created_at", read_only=True)
    principal_number = serializers.DecimalField(max_digits=18, decimal_places=1, source="principal", read_only=True)

    class Meta:
        model = LoanProject
        fields = ["id", "id_as_text", "number_as_choice", "currency", "created_utc", "created_here", "principal_number",
                  "covered_by_other_scheme", "npl_before_entry", "closed_on"]


@pytest.mark.django_db
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Paris"])
def test_generated_rows_equal_the_serializer_in_the_active_time_zone(zone):
    from tests.factories import LoanProjectFactory

    for loan_no in ("5", "a", "x-1"):
        LoanProjectFactory(loan_no=loan_no, principal=D("1234.56"))
    queryset = LoanProject.objects.order_by("pk")
    fast = FastRows(_Tricky)
    with timezone.override(zone):
        rows = fast.rows(fast.values(queryset))
        assert rows == _Tricky(list(queryset), many=True).data
    assert [r["number_as_choice"] for r in rows] == [5, "a", "x-1"] and type(rows[0]["id_as_text"]) is str
    assert rows[0]["created_utc"].endswith("Z") and not rows[0]["created_here"].endswith("Z")

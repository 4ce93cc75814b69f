"""core.api.renderers.FastJSONRenderer writes the bytes DRF's JSONRenderer writes (issue 12)."""
from __future__ import annotations

import datetime
import uuid
from decimal import Decimal as D

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from core.api.renderers import FastJSONRenderer

ALL_CHARACTERS = "".join(chr(i) for i in range(0, 0x250)) + "\u2028\u2029中文 𝄞 \ufeff\ud7ff"

SAMPLES = [
    {"next": None, "previous": "http://x/?cursor=cD0x", "results": [{"id": 1, "name": "小微企业", "ok": True}]},
    ALL_CHARACTERS,
    {"text": ALL_CHARACTERS, "nested": [[], {}, [None, False, 0, -1, 2**63, 10**30]]},
    {"money": D("1234.50"), "rate": D("0.034500"), "on": datetime.date(2025, 3, 1),
     "at": datetime.datetime(2025, 3, 1, 8, 30, 1, 123456, tzinfo=datetime.UTC),
     "naive": datetime.datetime(2025, 3, 1, 8, 30), "time": datetime.time(8, 30, 1, 500),
     "id": uuid.UUID("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")},
    {"errors": [{"rule": None, "field": "x", "message": ErrorDetail("Invalid “x”.", code="invalid")}]},
    {"lazy": gettext_lazy("name"), "tuple": (1, "a")},
    ReturnDict({"a": ReturnList([1, 2], serializer=None)}, serializer=None),
    {1: "non-string key"},
    [],
    "",
]


@pytest.mark.parametrize("data", SAMPLES, ids=range(len(SAMPLES)))
def test_same_bytes_as_drf(data):
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


def test_pretty_printing_and_none_as_drf():
    data = {"a": [1, {"b": "c"}]}
    assert FastJSONRenderer().render(data, "application/json; indent=4") == JSONRenderer().render(
        data, "application/json; indent=4")
    assert FastJSONRenderer().render(None) == b""

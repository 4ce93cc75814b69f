"""Issue 12: the project API's list builds its rows with core.api.fast: exactly the serializer's
JSON, key-set pages, and no query per row."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.api.fast import FastRows
from riskpool import serializers as s
from riskpool.models import LoanProject
from tests.factories import LoanProjectFactory, ProductFactory
from tests.riskpool.test_api import World

pytestmark = pytest.mark.django_db

URL = "/api/riskpool/projects/"


def _projects(world, n):
    made = [LoanProjectFactory(pool=world.pool, bank=world.bank) for _ in range(n)]
    made[0].closed_on, made[0].closed_reason, made[0].features = date(2025, 3, 1), "repaid", ["pure_credit"]
    made[0].save()
    return made


def test_fast_rows_equal_the_serializer():
    world = World()
    _projects(world, 3)
    LoanProjectFactory(pool=world.pool, bank=world.bank, principal=D("123.45"), product=ProductFactory())
    made = LoanProjectFactory(pool=world.pool, bank=world.bank)
    borrower = made.borrower
    borrower.size_entered, borrower.size_derived, borrower.revenue = "", "micro", None
    borrower.save()
    queryset = LoanProject.objects.select_related("pool", "bank", "borrower").order_by("pk")
    fast = FastRows(s.LoanProjectSerializer)
    assert fast.rows(fast.values(queryset)) == s.LoanProjectSerializer(list(queryset), many=True).data


def test_fast_rows_read_no_model_instance_and_one_query(django_assert_num_queries):
    world = World()
    _projects(world, 3)
    fast = FastRows(s.LoanProjectSerializer)
    with django_assert_num_queries(1):
        values = list(fast.values(LoanProject.objects.order_by("pk")))
    assert all(type(v) is dict for v in values) and len(fast.rows(values)) == LoanProject.objects.count()


def _get(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return response.json(), len(ctx.captured_queries)


def test_list_pages_by_cursor_with_constant_queries():
    world = World()
    client = APIClient()
    client.force_authenticate(world.bank_user)
    _projects(world, 2)
    _body, few = _get(client, URL)
    made = _projects(world, 5)
    body, many = _get(client, URL + "?page_size=3")
    assert many == few
    assert "count" not in body and body["previous"] is None
    seen = [row["id"] for row in body["results"]]
    while body["next"]:
        body, _n = _get(client, body["next"])
        seen += [row["id"] for row in body["results"]]
    everything = sorted(LoanProject.objects.filter(bank=world.bank).values_list("pk", flat=True), reverse=True)
    assert seen == everything and made[-1].pk == seen[0]  # newest first, each row once


def test_another_banks_rows_are_not_listed():
    world, other = World(), World()
    _projects(other, 2)
    client = APIClient()
    client.force_authenticate(world.bank_user)
    body, _n = _get(client, URL)
    assert body["results"] and {row["bank"] for row in body["results"]} == {world.bank.pk}

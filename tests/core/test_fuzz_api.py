"""Issue 10, point 5: no server error from any input. Schemathesis generates requests for every
operation of ``/api/schema/`` (path ids, query filters and bodies, valid and invalid) and sends
them with the API token of each role; not one may answer 5xx.

``FUZZ_EXAMPLES`` (environment) sets the examples per operation and role: one in the normal
test suite, more under ``make fuzz`` (``make fuzz FUZZ_EXAMPLES=200``). Every request runs in a
savepoint that is rolled back, so each starts from the same small world.
"""
from __future__ import annotations

import os
import traceback
from datetime import date

import pytest
from django.core import signals
from django.core.signals import got_request_exception
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core.models import Organisation
from tests.factories import (
    AgreementFactory,
    ClaimFactory,
    CompensationFactory,
    GuaranteeFactory,
    LoanProjectFactory,
    MemberFactory,
    OrganisationFactory,
    PoolFactory,
    RegionFactory,
    UserFactory,
    api_token,
)

pytestmark = pytest.mark.django_db
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1"))


REAL_IDS: dict[str, int] = {}


class _Rollback(Exception):
    pass


def _world() -> dict:
    """One of each kind of row, and a person of each role with an API token."""
    region = RegionFactory()
    pool = PoolFactory(authority__region=region)
    member = MemberFactory(pool=pool, organisation__region=region)
    firm = OrganisationFactory(kind=Organisation.Kind.GUARANTEE_FIRM, region=region)
    agreement = AgreementFactory(firm=firm, bank=member.organisation)
    guarantee = GuaranteeFactory(agreement=agreement, firm=firm, bank=member.organisation)
    compensation = CompensationFactory(guarantee=guarantee)
    project = LoanProjectFactory(pool=pool, bank=member.organisation, disbursed_on=date(2025, 1, 10))
    claim = ClaimFactory(project__pool=pool, project__bank=member.organisation)
    # Real ids, so generated requests reach the rules behind the 404s (a random id rarely exists).
    REAL_IDS.update({
        "agreements": agreement.pk, "guarantees": guarantee.pk, "compensations": compensation.pk, "firms": firm.pk,
        "projects": project.pk, "claims": claim.pk,
        "bank": member.organisation_id, "pool": pool.pk, "firm": firm.pk, "agreement": agreement.pk,
        "guarantee": guarantee.pk, "project": project.pk, "claim": claim.pk, "member": member.pk,
    })
    people = {
        "bank": UserFactory(organisation=member.organisation, roles=["bank_operator"]),
        "firm": UserFactory(organisation=firm, roles=["firm_operator"]),
        "authority": UserFactory(organisation=pool.authority, roles=["authority_admin"]),
        "reviewer": UserFactory(organisation=pool.reviewer, roles=["pool_reviewer"]),
        "treasurer": UserFactory(organisation=pool.treasurer, roles=["pool_treasurer"]),
        "supervisor": UserFactory(organisation__kind=Organisation.Kind.SUPERVISOR, organisation__region=region,
                                  roles=["city_supervisor"]),
    }
    return {role: api_token(user=user, name=f"fuzz {role}")[1] for role, user in people.items()}


def _schema(key: str):
    import schemathesis

    from config.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application, headers={"Authorization": f"Token {key}"})


def test_api_answers_no_server_error_to_any_generated_request_of_any_role(settings):
    settings.API_THROTTLE_RATES = {scope: "1000000/minute" for scope in ("token", "user", "anon")}
    keys = _world()
    errors: list[str] = []

    def remember(sender, request=None, **kwargs):
        errors.append(f"{request.method} {request.get_full_path()}\n{traceback.format_exc()}")

    # As Django's test client does: the WSGI calls must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    got_request_exception.connect(remember)
    failures: list[str] = []
    try:
        schema = _schema(keys["authority"])
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 30
        for operation in operations:
            failures += _fuzz(operation, keys)
    finally:
        got_request_exception.disconnect(remember)
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    last_lines = {error.strip().splitlines()[-1] for error in errors}
    assert failures == [], "\n".join(failures) + "\n\n" + "\n".join(sorted(last_lines))


def _fuzz(operation, keys: dict[str, str]) -> list[str]:
    """EXAMPLES requests per role on average: the role is drawn like the rest of the request."""
    failures: list[str] = []

    @settings(max_examples=EXAMPLES * len(keys), deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), role=st.sampled_from(sorted(keys)), real=st.booleans())
    def run(case, role, real):
        if real:
            _use_real_ids(case)
        try:
            with transaction.atomic():
                response = case.call(headers={"Authorization": f"Token {keys[role]}"})
                raise _Rollback(response)
        except _Rollback as rollback:
            response = rollback.args[0]
        if response.status_code >= 500 and not failures:  # one example per operation and role is enough
            failures.append(f"{role}: {case.method} {case.formatted_path} {case.query or ''} "
                            f"{case.body if case.body is not None else ''} -> {response.status_code}")

    run()
    return failures


def _use_real_ids(case) -> None:
    """Point the case's path id and the id fields of its body at rows that exist."""
    if case.path_parameters and "id" in case.path_parameters:
        resource = _resource(case.path)
        if resource in REAL_IDS:
            case.path_parameters["id"] = REAL_IDS[resource]
    if isinstance(case.body, dict):
        for name in list(case.body):
            if name in REAL_IDS:
                case.body[name] = REAL_IDS[name]


def _resource(path: str) -> str:
    """api/<app>/<resource>/{id}/… names its resource third; a top-level api/<resource>/ second."""
    parts = path.strip("/").split("/")
    return parts[2] if len(parts) > 2 else parts[1]


def test_a_non_integer_id_under_the_api_answers_the_json_error_shape(client):
    _token, key = api_token()
    for path in ("/api/guarantees/guarantees/abc/", "/api/riskpool/claims/1.5/", "/api/no-such-thing/"):
        response = client.get(path, HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json"), path
        assert response.json()["errors"][0]["message"], path


def test_options_on_every_api_path_for_every_role_is_not_a_server_error(client, settings):
    """Every viewset documents its serializer: OPTIONS (which describes it) never fails."""
    from drf_spectacular.generators import SchemaGenerator

    settings.API_THROTTLE_RATES = {scope: "1000000/minute" for scope in ("token", "user", "anon")}
    keys = _world()
    paths = list(SchemaGenerator().get_schema(request=None, public=True)["paths"])
    for role, key in keys.items():
        for path in paths:
            resource = _resource(path)
            concrete = path.replace("{id}", str(REAL_IDS.get(resource, 1)))
            response = client.options(concrete, HTTP_AUTHORIZATION=f"Token {key}")
            assert response.status_code < 500, (role, concrete)
            assert response["Content-Type"].startswith("application/json"), (role, concrete)

"""Production settings (issue 10 point 8): `manage.py check --deploy --fail-level WARNING` passes
with the production settings and the variables the README lists, as the README says; the API
schema documents every view (no drf_spectacular W001/W002 warnings)."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import UserFactory


def test_deploy_check_passes_with_production_settings_at_warning_level():
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright in this process; a deployment never has it.
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "guarantee.example.gov.cn",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_deploy_check_evaluation_previews_document_their_answers(client):
    client.force_login(UserFactory())
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    preview = schema["paths"]["/api/evaluation/preview/"]["post"]["responses"]
    decide = schema["paths"]["/api/evaluation/exemption/decide/"]["post"]["responses"]
    assert preview["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PreviewResponse"}
    assert decide["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/DecideResponse"}
    assert {"400", "401", "403"} <= set(preview) and {"400", "401", "403"} <= set(decide)
    firm = schema["components"]["schemas"]["ScoredFirm"]["properties"]
    assert set(firm) == {"id", "leverage", "scores", "total", "rank", "class"}
    assert schema["components"]["schemas"]["ExemptionOutcomeEnum"]["enum"] == ["accountable", "exempt", "reduced", "not_exempt"]


@pytest.mark.django_db
def test_deploy_check_evaluation_preview_answers_match_their_documented_shape(client):
    """The documented response is the real one: every key of a real answer is in the schema."""
    from evaluation.api import PREVIEW_REQUEST

    client.force_login(UserFactory())
    schemas = client.get(reverse("api-schema"), {"format": "json"}).json()["components"]["schemas"]
    answer = client.post(reverse("evaluation-api:preview"), PREVIEW_REQUEST, content_type="application/json").json()
    assert set(answer) == set(schemas["PreviewResponse"]["properties"])
    assert set(answer["firms"][0]) == set(schemas["ScoredFirm"]["properties"])
    assert set(answer["regions"][0]) == set(schemas["RegionMean"]["properties"])
    decision = client.post(reverse("evaluation-api:exemption-decide"), {"grounds": ["EV-12.6"], "staff_at_fault": False},
                           content_type="application/json").json()
    assert set(decision) == set(schemas["DecideResponse"]["properties"])
    assert decision["outcome"] in schemas["ExemptionOutcomeEnum"]["enum"]
    assert set(decision["reasons"][0]) == set(schemas["ExemptionReason"]["properties"])

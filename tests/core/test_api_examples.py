"""Issue 13 point 8: every preview endpoint of the API documents a request example and the answer
to it, and the answer is what the endpoint really returns for that request, or an abridgement of
it (so the examples in /api/docs/ cannot drift from the rules). The previews are found in the generated schema, not
listed here: a new one without examples fails."""
from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from core.models import Organisation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PREVIEW_WORDS = ("preview", "quote", "check", "decide", "allocate")


def preview_operations() -> list[tuple[str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        post = operations.get("post")
        if post and any(word in post["operationId"] for word in PREVIEW_WORDS):
            found.append((path, post))
    return found


def examples(content: dict) -> dict[str, object]:
    return {name: example["value"] for name, example in content.get("application/json", {}).get("examples", {}).items()}


def shown_in(documented, real) -> bool:
    """``documented`` is ``real`` or an abridgement of it: a documented object's keys all hold
    what the real one holds, and each documented list item is in the real list, in order (an
    example may leave out reasons, never invent or change one)."""
    if isinstance(documented, dict):
        return isinstance(real, dict) and all(k in real and shown_in(v, real[k]) for k, v in documented.items())
    if isinstance(documented, list):
        if not isinstance(real, list):
            return False
        rest = iter(real)
        return all(any(shown_in(item, candidate) for candidate in rest) for item in documented)
    return documented == real


def test_the_previews_are_found():
    paths = {path for path, _op in preview_operations()}
    assert {"/api/counterguarantee/check/", "/api/evaluation/preview/", "/api/evaluation/exemption/decide/",
            "/api/riskpool/quote/", "/api/riskpool/bank-evaluation/preview/", "/api/guarantees/allocate/"} <= paths


@pytest.mark.parametrize("path", [path for path, _op in preview_operations()])
def test_each_preview_documents_a_request_and_its_real_answer(path):
    operation = dict(preview_operations())[path]
    requests = examples(operation["requestBody"]["content"])
    answers = examples(operation["responses"]["200"]["content"])
    assert requests, f"{path}: no request example"
    assert answers, f"{path}: no response example"
    client = APIClient()
    client.force_authenticate(UserFactory(is_superuser=True, organisation__kind=Organisation.Kind.AUTHORITY,
                                          roles=["authority_admin"]))
    for name, body in requests.items():
        assert name in answers, f"{path}: the request example {name!r} has no answer"
        response = client.post(path, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, (path, response.content)
        assert shown_in(answers[name], response.json()), f"{path}: the documented answer to {name!r} is not the real one"

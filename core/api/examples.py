"""OpenAPI examples shared by the apps' schema declarations."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample


def worked_example(name: str, request, response, description=None) -> list[OpenApiExample]:
    """A request and its answer under one ``name``, so the rendered docs pair them; ``description``
    goes with the answer, where a reader compares it with what they got."""
    answer = {"description": description} if description is not None else {}
    return [
        OpenApiExample(name, request_only=True, value=request),
        OpenApiExample(name, response_only=True, value=response, **answer),
    ]

"""What every app's REST endpoints share: ids from URLs, parsing, and viewsets that read only
through the app's scoped selectors (so another organisation's row is a 404 everywhere)."""
from __future__ import annotations

from django.http import Http404
from rest_framework import status, viewsets
from rest_framework.response import Response


def url_id(value) -> int:
    """A URL or body id as an int; anything else is simply not found."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def parsed(serializer_class, request, *, checks=None, **kwargs):
    """The request body validated by ``serializer_class`` (a 400 in the project's shape if not).

    ``checks(values)`` (issue 13.3), given the fields that did validate, returns the problems the
    service would refuse them with: they are answered together with the field errors, as the web
    form shows them, instead of one after the other."""
    serializer = serializer_class(data=request.data, context={"request": request}, **kwargs)
    if serializer.is_valid() or checks is None:
        serializer.is_valid(raise_exception=True)
        return serializer
    from core.api.errors import flatten_errors
    from core.errors import Problem, RuleViolation

    problems = [Problem(None, message, field) for field, message in flatten_errors(serializer.errors)]
    failed = {p.field for p in problems}
    problems += [p for p in checks(valid_fields(serializer, request.data)) if p.field is None or p.field not in failed]
    raise RuleViolation.many(problems)


def valid_fields(serializer, data) -> dict:
    """The values of ``serializer``'s writable fields that validate on their own."""
    from rest_framework.exceptions import ValidationError
    from rest_framework.fields import SkipField, empty

    values = {}
    for name, field in serializer.fields.items():
        if field.read_only or name in serializer.errors:
            continue
        try:
            value = field.run_validation(field.get_value(data))
        except (ValidationError, SkipField):
            continue
        if value is not empty and value is not None:
            values[name] = value
    return values


class SelectorViewSet(viewsets.GenericViewSet):
    """Lists through ``list_selector(user=…)`` and fetches one row through
    ``get_selector(user, id)``; subclasses name the two selectors and the list serializer."""

    list_selector = None  # staticmethod: (user=…) -> QuerySet scoped to the user
    get_selector = None  # staticmethod: (user, id) -> row, 404 for a row the user may not see

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular builds the schema without a user
            return self.queryset.none()
        return self.list_selector(user=self.request.user)

    def _get(self, pk):
        return self.get_selector(self.request.user, url_id(pk))

    def step(self, request, pk, *, service, target: str, payload, output, created: bool = False, **partial):
        """One business step on a row: the row (404 for one the user may not see), the body
        checked by ``payload`` (400), ``service(user=…, <target>=row, **body)`` (403/409 from its
        rules), the result through ``output``: 201 when the step creates a row, else 200."""
        row = self._get(pk)
        data = parsed(payload, request, **partial).validated_data
        result = service(user=request.user, **{target: row}, **data)
        return Response(output(result).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def list_context(self) -> dict:
        return {}

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer_class()(page, many=True, context=self.list_context()).data)

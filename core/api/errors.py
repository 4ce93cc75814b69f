"""One error shape for every API: ``{"errors": [{"rule", "field", "message"}]}``."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.api.throttling import throttled_message
from core.errors import RuleViolation


def flatten_errors(detail, field=None):
    """DRF's nested error details as flat (field, message) pairs, with dotted field paths."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if field is None else f"{field}.{key}"
            if key == "non_field_errors":
                name = field
            yield from flatten_errors(value, name)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)) and field is not None:
                yield from flatten_errors(value, f"{field}[{index}]" if isinstance(value, dict) else field)
            else:
                yield from flatten_errors(value, field)
    else:
        yield field, str(detail)


def errors_response(problems, status_code=400, headers=None) -> Response:
    return Response({"errors": problems}, status=status_code, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, RuleViolation):
        return errors_response([p.as_dict() for p in exc.problems], exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        return errors_response([{"rule": None, "field": None, "message": _("Not found.")}], status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.Throttled):
        problems = [{"rule": None, "field": None, "message": throttled_message(context.get("request"), exc.wait)}]
    elif isinstance(exc, exceptions.ValidationError):
        problems = [{"rule": None, "field": f, "message": m} for f, m in flatten_errors(exc.detail)]
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        problems = [{"rule": None, "field": None, "message": str(detail)}]
    return errors_response(problems, response.status_code, headers={
        k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")
    })


def api_not_found(request, *args, **kwargs):
    """Any path under /api/ that no endpoint matches (``/api/riskpool/claims/1.5/``): the API's
    error shape as JSON, never the site's HTML page."""
    from django.http import JsonResponse

    return JsonResponse({"errors": [{"rule": None, "field": None, "message": _("Not found.")}]}, status=404)

"""Serializer fields shared by the apps' APIs."""
from rest_framework import serializers

from core.i18n_text import render


class StoredTextField(serializers.CharField):
    """Text stored as a msgid and parameters (core.i18n_text), answered in the request's
    language (Accept-Language, as the pages)."""

    def to_representation(self, value) -> str:
        return render(value)

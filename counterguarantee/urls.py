"""Browser pages of counterguarantee (included at /counterguarantee/)."""
from django.urls import path  # noqa: F401

app_name = "counterguarantee"

urlpatterns: list = []

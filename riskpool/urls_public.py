"""The public notice (公示, RP-25): no login (included at /notice/)."""
from django.urls import path

from riskpool import views

app_name = "notice"

urlpatterns = [
    path("", views.notice_list, name="notice-list"),
    path("<int:pk>/objection/", views.objection_file, name="objection"),
]

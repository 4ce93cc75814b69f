"""The authority's pool administration pages (membership, dishonesty list, RP-21 violations, RP-12 special list), under /riskpool/manage/. Included by riskpool/urls.py inside the `riskpool` namespace."""
from django.urls import path

from riskpool import views_manage as views

urlpatterns = [
    path("", views.admin_home, name="admin-home"),
    path("pools/<int:pk>/members/", views.member_list, name="admin-members"),
    path("pools/<int:pk>/members/add/", views.member_add, name="admin-member-add"),
    path("members/<int:pk>/dishonesty/", views.member_dishonest, name="admin-member-dishonest"),
    path("members/<int:pk>/readmit/", views.member_readmit, name="admin-member-readmit"),
    path("pools/<int:pk>/violations/", views.violation_list, name="admin-violations"),
    path("pools/<int:pk>/violations/new/", views.violation_create, name="admin-violation-create"),
    path("violations/<int:pk>/", views.violation_detail, name="admin-violation-detail"),
    path("pools/<int:pk>/special-list/", views.special_list, name="admin-special-list"),
    path("pools/<int:pk>/special-list/add/", views.special_add, name="admin-special-add"),
    path("special-list/<int:pk>/end/", views.special_end, name="admin-special-end"),
    path("pools/<int:pk>/quarters.xlsx", views.pool_quarters_export, name="pool-quarters-export"),
]

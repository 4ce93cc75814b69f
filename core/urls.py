from django.contrib.auth import views as auth_views
from django.urls import path

from core import views, views_calendar, views_twofactor

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/two-factor/", views_twofactor.two_factor, name="two-factor"),
    path("accounts/two-factor/verify/", views_twofactor.two_factor_verify, name="two-factor-verify"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("audit/", views.audit_list, name="audit-list"),
    path("calendar/", views_calendar.calendar_page, name="calendar"),
]

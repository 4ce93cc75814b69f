"""The authority's job page (JB-13); included at ``jobs/``."""
from django.urls import path

from core import views_jobs

app_name = "jobs"

urlpatterns = [
    path("", views_jobs.jobs_page, name="list"),
    path("progress/", views_jobs.jobs_progress, name="progress"),
]

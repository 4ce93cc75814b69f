"""Browser pages of evaluation, under /evaluation/ in the ``evaluation`` namespace. The REST API
is in evaluation/api_urls.py."""
from django.urls import include, path

from evaluation import views

pages = [
    path("", views.home, name="home"),
    path("years/setup/", views.year_setup, name="year-new"),
    path("years/<int:year>/", views.year_detail, name="year"),
    path("years/<int:year>/setup/", views.year_setup, name="year-setup"),
    path("years/<int:year>/close/", views.year_close, name="year-close"),
    path("years/<int:year>/publish/", views.year_publish, name="year-publish"),
    path("years/<int:year>/results/", views.results, name="results"),
    path("years/<int:year>/results.xlsx", views.results, {"fmt": "xlsx"}, name="results-xlsx"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission"),
    path("submissions/<int:pk>/form/", views.scoring_form, name="scoring-form"),
    path("submissions/<int:pk>/form.xlsx", views.scoring_form, {"fmt": "xlsx"}, name="scoring-form-xlsx"),
    path("submissions/<int:pk>/materials/", views.materials_upload, name="materials-upload"),
    path("submissions/<int:pk>/<slug:step>/", views.submission_step, name="submission-step"),
    path("materials/<int:pk>/", views.material_download, name="material"),
    path("firms/<int:firm_id>/history/", views.firm_history, name="firm-history"),
    path("distribution/", views.distribution, name="distribution"),
    path("interviews/", views.interviews, name="interviews"),
    path("cases/", views.case_list, name="cases"),
    path("cases/new/", views.case_create, name="case-new"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/<slug:step>/", views.case_step, name="case-step"),
]

urlpatterns = [
    path("evaluation/", include((pages, "evaluation"))),
]

"""Rule sets, drafts and the policy simulator (issue 13 point 7, issue 15); included at ``rulesets/``."""
from django.urls import path

from core import views_rulesets as v

app_name = "rulesets"

urlpatterns = [
    path("", v.ruleset_list, name="list"),
    path("compare/", v.compare, name="compare"),
    path("<int:pk>/", v.ruleset_detail, name="detail"),
    path("<int:pk>/edit/", v.ruleset_edit, name="edit"),
    path("<int:pk>/new-version/", v.ruleset_new_version, name="new-version"),
    path("<int:pk>/draft/", v.draft_create, name="draft-create"),
    path("drafts/<int:pk>/", v.draft_detail, name="draft"),
    path("drafts/<int:pk>/edit/", v.draft_edit, name="draft-edit"),
    path("drafts/<int:pk>/adopt/", v.draft_adopt, name="draft-adopt"),
    path("drafts/<int:pk>/simulate/", v.simulation_start, name="simulate"),
    path("simulations/<int:pk>/", v.simulation_detail, name="simulation"),
    path("simulations/<int:pk>/progress/", v.simulation_progress, name="simulation-progress"),
    path("simulations/<int:pk>/projection.xlsx", v.simulation_xlsx, name="simulation-xlsx"),
]

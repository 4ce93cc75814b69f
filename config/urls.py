from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import views as core_views
from core.api.errors import api_not_found

# Each app's urls.py mounts its own pages (and their namespaces); its api_urls.py holds its REST API.
urlpatterns = [
    path("", include("core.urls")),
    path("", include("guarantees.urls")),
    path("", include("riskpool.urls")),
    path("", include("evaluation.urls")),
    path("", include("counterguarantee.urls")),
    path("api/guarantees/", include("guarantees.api_urls")),
    path("api/riskpool/", include("riskpool.api_urls")),
    path("api/evaluation/", include("evaluation.api_urls")),
    path("api/counterguarantee/", include("counterguarantee.api_urls")),
    path("api/simulations/", include("core.api.simulation_urls")),
    path("admin/", admin.site.urls),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("i18n/setlang/", core_views.language_switch, name="set_language"),  # keeps the choice on the account
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script from a URL: the Content-Security-Policy refuses inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last: whatever else is asked under /api/ answers the API's JSON error shape.
    re_path(r"^api/", api_not_found, name="api-not-found"),
]

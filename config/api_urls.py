"""The REST API, under /api/. Schema at /api/schema/, Swagger UI at /api/docs/ (no CDN)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("apps.integrations.api.urls")),
    path("", include("apps.roi.api.urls")),
    path("", include("apps.ai_gateway.api.urls")),
    path("", include("apps.usage.api.urls")),
]

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from apps.core.views import health

admin.site.site_header = "OpenRouter Platform"
admin.site.site_title = "OpenRouter Platform admin"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="core:dashboard", permanent=False)),
    path("health/", health, name="health"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("accounts/", include("apps.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("", include("apps.core.urls")),
    path("dashboard/integrations/", include("apps.integrations.urls")),
    path("dashboard/", include("apps.analytics.urls")),
    path("dashboard/ai/", include("apps.ai_gateway.urls")),
    path("dashboard/", include("apps.roi.urls")),
]

handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"

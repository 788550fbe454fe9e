from django.urls import path

from . import views

urlpatterns = [
    path("integrations/openrouter/", views.OpenRouterSettingsView.as_view(), name="openrouter-settings"),
    path("integrations/openrouter/test/", views.ConnectionTestView.as_view(), name="openrouter-test"),
    path("integrations/openrouter/credits/", views.CreditsView.as_view(), name="openrouter-credits"),
    path("integrations/openrouter/key/", views.KeyInfoView.as_view(), name="openrouter-key"),
    path("integrations/openrouter/models/", views.ModelsView.as_view(), name="openrouter-models"),
    # integrations/openrouter/activity/ is served by apps.usage.api (stored records, live=true here).
]

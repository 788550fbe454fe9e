from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("openrouter/", views.openrouter, name="openrouter"),
    path("openrouter/live/", views.openrouter_live, name="openrouter_live"),
    path("openrouter/account/", views.account_panel, name="account_panel"),
    path("analytics/", views.index, name="index"),
    path("analytics/overview/", views.overview_card, name="overview"),
]

from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("openrouter/", views.openrouter, name="openrouter"),
    path("analytics/", views.index, name="index"),
    path("analytics/overview/", views.overview_card, name="overview"),
]

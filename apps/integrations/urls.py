from django.urls import path

from . import budget_views, views

app_name = "integrations"

urlpatterns = [
    path("", views.index, name="index"),
    path("ai/status/", views.status_card, name="status"),
    path("ai/account/", views.account_card, name="account"),
    path("ai/models/", views.models_card, name="models"),
    path("ai/configure/", views.configure, name="configure"),
    path("ai/test/", views.test_connection, name="test"),
    path("ai/keys/<slug:slot>/remove/", views.remove_key, name="remove_key"),
    path("ai/budget/", budget_views.budget_card, name="budget"),
]

from django.urls import path

from . import views

app_name = "roi"

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("roi/", views.report_page, name="report"),
]

from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("notifications/<int:notification_id>/read/", views.notification_read, name="notification_read"),
]

from django.urls import path

from . import activity_views, views

app_name = "analytics"

urlpatterns = [
    path("openrouter/", views.openrouter, name="openrouter"),
    path("openrouter/live/", views.openrouter_live, name="openrouter_live"),
    path("openrouter/account/", views.account_panel, name="account_panel"),
    path("analytics/", views.index, name="index"),
    path("analytics/overview/", views.overview_card, name="overview"),
]

# The Activity history section (htmx partials), owned by the activity sync.
urlpatterns += [
    path("openrouter/activity/", activity_views.activity_history_section, name="activity_history"),
    path(
        "openrouter/activity/day/<str:day>/",
        activity_views.activity_history_day,
        name="activity_history_day",
    ),
    path("openrouter/activity/sync/", activity_views.activity_sync_start, name="activity_sync"),
    path("openrouter/activity/last-sync/", activity_views.activity_last_sync, name="activity_last_sync"),
    path(
        "openrouter/activity/sync/<int:run_id>/",
        activity_views.activity_sync_status,
        name="activity_sync_status",
    ),
]

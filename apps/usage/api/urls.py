from django.urls import path
from rest_framework.routers import SimpleRouter

from .budget import BudgetView
from .views import ActivityView, SyncRunViewSet, UsageLogViewSet, UsageSummaryView

router = SimpleRouter()
router.register("usage/logs", UsageLogViewSet, basename="usage-log")
router.register("usage/sync", SyncRunViewSet, basename="usage-sync")

urlpatterns = [
    path("usage/summary/", UsageSummaryView.as_view(), name="usage-summary"),
    # The budget rows are integrations'; their status (spend, reservations) is this app's.
    path("integrations/budget/", BudgetView.as_view(), name="budget"),
    # Stored records by default; this app owns them, so it serves the path (live reads delegate).
    path("integrations/openrouter/activity/", ActivityView.as_view(), name="openrouter-activity"),
    *router.urls,
]

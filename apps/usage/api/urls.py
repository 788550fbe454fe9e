from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import UsageLogViewSet, UsageSummaryView

router = SimpleRouter()
router.register("usage/logs", UsageLogViewSet, basename="usage-log")

urlpatterns = [path("usage/summary/", UsageSummaryView.as_view(), name="usage-summary"), *router.urls]

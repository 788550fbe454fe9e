from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import BookingViewSet, ROIExportView, ROIReportView, ROISettingsView

router = SimpleRouter()
router.register("roi/bookings", BookingViewSet, basename="booking")

urlpatterns = [
    path("roi/settings/", ROISettingsView.as_view(), name="roi-settings"),
    path("roi/report/", ROIReportView.as_view(), name="roi-report"),
    path("roi/export.csv", ROIExportView.as_view(), name="roi-export"),
    *router.urls,
]

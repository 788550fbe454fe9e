from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import BookingByExternalIdView, BookingViewSet, ROIExportView, ROIReportView, ROISettingsView

router = SimpleRouter()
router.register("roi/bookings", BookingViewSet, basename="booking")

urlpatterns = [
    path("roi/settings/", ROISettingsView.as_view(), name="roi-settings"),
    path("roi/report/", ROIReportView.as_view(), name="roi-report"),
    path("roi/export.csv", ROIExportView.as_view(), name="roi-export"),
    path(
        "roi/bookings/by-external-id/<str:external_id>/",
        BookingByExternalIdView.as_view(),
        name="roi-booking-by-external-id",
    ),
    *router.urls,
]

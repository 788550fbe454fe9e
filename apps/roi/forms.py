from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.periods import MAX_DATE, MIN_DATE

from .imports import MAX_UPLOAD_BYTES, amount_normalise
from .models import MAX_BOOKING_SEK, MAX_INTEGRATION_COST_SEK, MAX_MONTHLY_COST_SEK, Booking, ROISettings


class AmountField(forms.DecimalField):
    """A SEK amount that accepts a decimal comma and grouping spaces whatever the UI language."""

    def __init__(self, *, max_value: Decimal, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", Decimal(0))
        super().__init__(max_value=max_value, max_digits=14, decimal_places=2, localize=True, **kwargs)
        self.widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]  # the stubs type DecimalField via IntegerField
        if isinstance(value, str):
            value = amount_normalise(value)
        return super().to_python(value)  # type: ignore[no-any-return]


class _DateInRange(forms.DateField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value and not MIN_DATE <= value <= MAX_DATE:
            raise forms.ValidationError(
                _("Dates must lie between %(min)s and %(max)s."), params={"min": MIN_DATE, "max": MAX_DATE}
            )


class ROISettingsForm(forms.ModelForm[ROISettings]):
    telephony_sek = AmountField(label=_("Telephony per month (SEK)"), max_value=MAX_MONTHLY_COST_SEK)
    sms_sek = AmountField(label=_("SMS per month (SEK)"), max_value=MAX_MONTHLY_COST_SEK)
    email_sek = AmountField(label=_("E-mail per month (SEK)"), max_value=MAX_MONTHLY_COST_SEK)
    support_sek = AmountField(label=_("Support per month (SEK)"), max_value=MAX_MONTHLY_COST_SEK)
    integration_cost_sek = AmountField(
        label=_("One-time integration cost (SEK)"), max_value=MAX_INTEGRATION_COST_SEK
    )
    integration_start = _DateInRange(label=_("Integration start date"), required=False)

    class Meta:
        model = ROISettings
        fields = [
            "telephony_sek",
            "sms_sek",
            "email_sek",
            "support_sek",
            "integration_cost_sek",
            "integration_start",
        ]


class BookingForm(forms.ModelForm[Booking]):
    date = _DateInRange(label=_("Date"))
    value_sek = AmountField(label=_("Value (SEK)"), max_value=MAX_BOOKING_SEK)

    class Meta:
        model = Booking
        fields = ["date", "value_sek", "description", "external_id"]
        labels = {"external_id": _("External id (optional)")}

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._user = user

    def clean_external_id(self) -> str | None:
        value = (self.cleaned_data.get("external_id") or "").strip() or None
        if value and Booking.objects.for_user(self._user).filter(external_id=value).exists():
            raise forms.ValidationError(_("A booking with this external id already exists."))
        return value


class BookingUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Columns: date, value_sek, external_id (optional), description (optional)."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is too large (at most %(mb)s MB)."),
                params={"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            )
        return upload

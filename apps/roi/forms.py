from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Booking


class BookingForm(forms.ModelForm[Booking]):
    class Meta:
        model = Booking
        fields = ["date", "value_sek", "description", "external_id"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}
        labels = {"value_sek": _("Value (SEK)"), "external_id": _("External id (optional)")}

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._user = user

    def clean_external_id(self) -> str | None:
        value = (self.cleaned_data.get("external_id") or "").strip() or None
        if value and Booking.objects.for_user(self._user).filter(external_id=value).exists():
            raise forms.ValidationError(_("A booking with this external id already exists."))
        return value

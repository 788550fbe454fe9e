"""Page forms for the AI features (the API uses serializers with the same limits)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

TEXTAREA = forms.Textarea(attrs={"rows": 4})


class LeadForm(forms.Form):
    company = forms.CharField(label=_("Company"), max_length=200)
    website = forms.CharField(label=_("Website"), max_length=300, required=False)
    notes = forms.CharField(label=_("Notes"), max_length=4000, required=False, widget=TEXTAREA)


class ReviewsForm(forms.Form):
    business_name = forms.CharField(label=_("Business name"), max_length=200, required=False)
    reviews = forms.CharField(
        label=_("Reviews (one per line)"), max_length=50_000, widget=forms.Textarea(attrs={"rows": 8})
    )

    def clean_reviews(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["reviews"].splitlines() if line.strip()]
        if not lines:
            raise forms.ValidationError(_("Paste at least one review."))
        if len(lines) > 50:
            raise forms.ValidationError(_("At most 50 reviews at a time."))
        return lines


class SmsForm(forms.Form):
    text = forms.CharField(label=_("SMS text"), max_length=1600, widget=TEXTAREA)
    categories = forms.CharField(
        label=_("Categories (comma-separated)"),
        max_length=1000,
        required=False,
        help_text=_("Leave empty to use the standard categories."),
    )

    def clean_categories(self) -> list[str] | None:
        raw = self.cleaned_data["categories"]
        values = [c.strip() for c in raw.split(",") if c.strip()]
        if raw and len(values) < 2:
            raise forms.ValidationError(_("Give at least two categories."))
        return values or None


class MessageForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("sms", _("SMS")), ("email", _("E-mail")), ("social", _("Social media"))]
    )
    tone = forms.ChoiceField(
        label=_("Tone"),
        choices=[
            ("friendly", _("Friendly")),
            ("formal", _("Formal")),
            ("enthusiastic", _("Enthusiastic")),
            ("apologetic", _("Apologetic")),
            ("neutral", _("Neutral")),
        ],
    )
    length = forms.ChoiceField(
        label=_("Length"), choices=[("short", _("Short")), ("medium", _("Medium")), ("long", _("Long"))]
    )
    recipient_name = forms.CharField(label=_("Recipient's name"), max_length=200, required=False)
    brief = forms.CharField(label=_("What is it about?"), max_length=4000, widget=TEXTAREA)


class PromptForm(forms.Form):
    system = forms.CharField(
        label=_("Instructions (optional)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    prompt = forms.CharField(label=_("Prompt"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 6}))

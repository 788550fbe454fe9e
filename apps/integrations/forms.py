"""The Configure dialog's forms. They validate input only; saving is ``services.ai_settings_update``."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import USE_CASE_MODEL_FIELDS, Provider, UseCase
from .validators import KEY_MAX_LENGTH, MODEL_ID_MAX_LENGTH, model_id_clean, openrouter_key_clean

MODEL_LIST_ID = "ai-model-options"


def _key_input(placeholder: Any) -> forms.PasswordInput:
    # render_value=False: a key typed into the form is never sent back in the page, not even
    # when the form is shown again with errors.
    return forms.PasswordInput(
        render_value=False,
        attrs={"autocomplete": "new-password", "spellcheck": "false", "placeholder": placeholder},
    )


def _model_input(placeholder: Any) -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "list": MODEL_LIST_ID,
            "autocomplete": "off",
            "spellcheck": "false",
            "placeholder": placeholder,
            "maxlength": MODEL_ID_MAX_LENGTH,
        }
    )


class KeysForm(forms.Form):
    """The two key fields. Empty means "keep (or test) the stored key"."""

    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        strip=False,  # openrouter_key_clean strips and reports what it found
        max_length=KEY_MAX_LENGTH + 50,
        widget=_key_input("sk-or-v1-…"),
    )
    management_key = forms.CharField(
        label=_("Provisioning / management key (optional)"),
        required=False,
        strip=False,
        max_length=KEY_MAX_LENGTH + 50,
        widget=_key_input("sk-or-v1-…"),
        help_text=_(
            "Unlocks the account balance and OpenRouter's activity history. It is never used for AI calls."
        ),
    )

    def _clean_key(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        return openrouter_key_clean(value) if value.strip() else ""

    def clean_api_key(self) -> str:
        return self._clean_key("api_key")

    def clean_management_key(self) -> str:
        return self._clean_key("management_key")


class AISettingsForm(KeysForm):
    """Keys, provider, fallback, default model and one model per use case.

    ``known_models`` is the catalogue's ids when it could be loaded: chosen models must be in it.
    """

    activity_whole_account = forms.BooleanField(
        label=_("Sync the whole OpenRouter account"),
        required=False,
        help_text=_(
            "The activity history and its reconciliation read only the spend of the API key above. "
            "Turn this on when spend from the account's other keys also belongs to this business. "
            "It applies to the days synced after the change."
        ),
    )
    ai_provider = forms.ChoiceField(label=_("Provider"), choices=Provider.choices)
    use_system_fallback = forms.BooleanField(
        label=_("Fall back to the system AI provider"),
        required=False,
        help_text=_("When OpenRouter is rate limited or down. Never for a bad key or missing credits."),
    )
    default_model = forms.CharField(
        label=_("Default model"),
        required=False,
        strip=False,
        max_length=MODEL_ID_MAX_LENGTH,
        widget=_model_input("openai/gpt-4o-mini"),
    )

    def __init__(self, *args: Any, known_models: Collection[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known_models = known_models
        for use_case in UseCase:
            self.fields[USE_CASE_MODEL_FIELDS[use_case]] = forms.CharField(
                label=use_case.label,
                required=False,
                strip=False,
                max_length=MODEL_ID_MAX_LENGTH,
                widget=_model_input(_("Default model")),
            )

    @property
    def use_case_fields(self) -> list[forms.BoundField]:
        return [self[USE_CASE_MODEL_FIELDS[use_case]] for use_case in UseCase]

    def _clean_model(self, name: str) -> str:
        return model_id_clean(self.cleaned_data.get(name) or "", known=self.known_models)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ["default_model", *USE_CASE_MODEL_FIELDS.values()]:
            if name in cleaned:
                try:
                    cleaned[name] = self._clean_model(name)
                except ValidationError as exc:
                    self.add_error(name, exc)
        return cleaned

    def use_case_models(self) -> dict[str, str]:
        return {use_case.value: self.cleaned_data[field] for use_case, field in _use_case_fields()}


def _use_case_fields() -> list[tuple[UseCase, str]]:
    return [(use_case, USE_CASE_MODEL_FIELDS[use_case]) for use_case in UseCase]


def initial_from(settings: Any) -> dict[str, Any]:
    """The form's initial values from a saved settings row (never the keys)."""
    if settings is None:
        return {"ai_provider": Provider.OPENROUTER}
    initial = {
        "ai_provider": settings.ai_provider,
        "use_system_fallback": settings.use_system_fallback,
        "default_model": settings.default_model,
        "activity_whole_account": settings.activity_whole_account,
    }
    initial.update({field: getattr(settings, field) for field in USE_CASE_MODEL_FIELDS.values()})
    return initial

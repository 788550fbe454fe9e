"""Errors the integrations app reports to its callers (pages, the API and the AI gateway)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.api.exceptions import ServiceError

from .models import KeySlot


class OpenRouterKeyUnavailable(ServiceError):
    """The tenant has no usable key in ``slot``: none stored, or it cannot be decrypted.

    ``code`` is ``openrouter_key_missing`` or ``openrouter_key_unreadable``; the message tells the
    user where to fix it. No upstream call should be made after this.
    """

    status_code = 409

    def __init__(self, *, slot: KeySlot, unreadable: bool = False) -> None:
        self.slot = slot
        self.unreadable = unreadable
        if slot == KeySlot.MANAGEMENT:
            message = (
                _(
                    "Your stored management key can no longer be read. Enter it again under "
                    "Integrations → AI & Models."
                )
                if unreadable
                else _("Add a provisioning / management key under Integrations → AI & Models to see this.")
            )
        else:
            message = (
                _(
                    "Your stored OpenRouter API key can no longer be read. Enter it again under "
                    "Integrations → AI & Models."
                )
                if unreadable
                else _("Configure your OpenRouter API key under Integrations → AI & Models.")
            )
        code = "openrouter_key_unreadable" if unreadable else "openrouter_key_missing"
        super().__init__(str(message), code=code)

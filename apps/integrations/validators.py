"""Input rules for OpenRouter keys and model ids, shared by the page forms, the API and admin.

Both rules are strict on purpose: a key or a model id ends up in an HTTP header or a request
body sent to OpenRouter, so nothing that could change where or how it is sent gets through
(whitespace, control characters, ``#``, ``@``, ``%``, ``..``, CR/LF).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

KEY_PREFIX = "sk-or-"
KEY_MIN_LENGTH = 20
KEY_MAX_LENGTH = 200
MODEL_ID_MAX_LENGTH = 200

_KEY_BODY = re.compile(r"^sk-or-[A-Za-z0-9_-]+$")
# What the API accepts for a key: one that passes openrouter_key_clean, with surrounding
# whitespace (removed), or only whitespace (no key given).
_KEY_SPACE = r"[ \t\r\n]"  # what a pasted key is commonly wrapped in, and str.strip removes
_KEY_CHARS = rf"[A-Za-z0-9_-]{{{KEY_MIN_LENGTH - len(KEY_PREFIX)},{KEY_MAX_LENGTH - len(KEY_PREFIX)}}}"
KEY_PATTERN = rf"^{_KEY_SPACE}+$|^{_KEY_SPACE}*{KEY_PREFIX}{_KEY_CHARS}{_KEY_SPACE}*$"
# vendor/model with an optional :variant, and an optional leading "~" (OpenRouter's "latest"
# aliases, e.g. ~anthropic/claude-sonnet-latest). Segments start with a letter or digit; dots,
# dashes and underscores are allowed inside, but never two dots in a row (no ".."), anywhere.
# This is the one model-id rule: the settings forms, the API, admin and the gateway all use it.
# Written without look-arounds, so the API schema can carry the same pattern (MODEL_ID_PATTERN).
_SEGMENT = r"[A-Za-z0-9](?:[A-Za-z0-9_-]|\.[A-Za-z0-9_-])*\.?"
MODEL_ID_BODY = rf"~?{_SEGMENT}/{_SEGMENT}(?::{_SEGMENT})?"
MODEL_ID_PATTERN = rf"^{MODEL_ID_BODY}$"
_MODEL_ID = re.compile(MODEL_ID_PATTERN)


def _has_hidden_characters(value: str) -> bool:
    return any(ch.isspace() or not ch.isprintable() for ch in value)


@sensitive_variables()
def openrouter_key_clean(value: str) -> str:
    """The key with surrounding whitespace removed; raises ``ValidationError`` when it cannot be one.

    The error messages never repeat the value, so a mistyped key is not echoed into a page.
    """
    key = (value or "").strip()
    if not key:
        raise ValidationError(_("Enter a key."), code="required")
    if _has_hidden_characters(key):
        raise ValidationError(
            _("The key contains spaces, line breaks or invisible characters. Copy it again from OpenRouter."),
            code="hidden_characters",
        )
    if key.startswith("pk-or-"):
        raise ValidationError(
            _(
                "Keys starting with pk-or- are old provisioning keys. Create a management key "
                "(it starts with sk-or-) at openrouter.ai/settings/management-keys."
            ),
            code="old_provisioning_key",
        )
    if not key.startswith(KEY_PREFIX):
        raise ValidationError(
            _("This does not look like an OpenRouter key: it should start with sk-or-."), code="prefix"
        )
    if not KEY_MIN_LENGTH <= len(key) <= KEY_MAX_LENGTH:
        raise ValidationError(
            _("The key is %(length)s characters long; an OpenRouter key has between %(min)s and %(max)s.")
            % {"length": len(key), "min": KEY_MIN_LENGTH, "max": KEY_MAX_LENGTH},
            code="length",
        )
    if not _KEY_BODY.match(key):
        raise ValidationError(
            _("The key may only contain letters, digits, dashes and underscores after sk-or-."),
            code="characters",
        )
    return key


def is_model_id(value: object) -> bool:
    """True when ``value`` is a model id in the strict ``vendor/model[:variant]`` shape."""
    # fullmatch: ``$`` alone would also accept a trailing newline. The pattern's characters
    # exclude every space, control and invisible character, so nothing hidden can pass.
    return (
        isinstance(value, str)
        and 0 < len(value) <= MODEL_ID_MAX_LENGTH
        and _MODEL_ID.fullmatch(value) is not None
    )


def model_id_clean(value: str, *, known: Collection[str] | None = None) -> str:
    """A model id such as ``openai/gpt-4o-mini`` or ``openai/gpt-oss-120b:free``.

    ``known`` is the catalogue's ids when it is available: the id must then be one of them.
    Without it only the strict ``vendor/model[:variant]`` shape is checked. ``""`` is allowed
    (no choice) and returned as is.
    """
    # Only spaces around the id are forgiven; a line break or control character anywhere is refused.
    model = (value or "").strip(" ")
    if not model:
        return ""
    if not is_model_id(model):
        raise ValidationError(
            _("Not a valid model id. Use the form vendor/model, for example openai/gpt-4o-mini."),
            code="model_format",
        )
    if known is not None and model not in known:
        raise ValidationError(
            _("%(model)s is not in OpenRouter's model list. Choose a model from the list.")
            % {"model": model},
            code="model_unknown",
        )
    return model

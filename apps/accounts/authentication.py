"""Per-user API token authentication for partner systems.

Tokens are accepted only in the ``Authorization`` header (``Bearer <token>`` or ``Token <token>``).
A token in the query string is refused outright: URLs end up in logs, proxies and browser history.

A valid token is remembered in this process for ``TOKEN_CACHE_SECONDS`` (keyed on its digest, so an
entry can only ever answer for the very token that created it). Revoking a token, deactivating or
deleting its user drops the entry in the process that made the change at once; any other process
keeps accepting the revoked token for at most ``TOKEN_CACHE_SECONDS``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from apps.core.localcache import MISSING, LocalCache

from .models import APIToken, User
from .tokens import token_digest

_QUERY_PARAMS = ("token", "api_key", "apikey", "access_token", "key")
_LAST_USED_RESOLUTION = timedelta(minutes=1)
# The longest a revoked token keeps working in a process other than the one that revoked it.
TOKEN_CACHE_SECONDS = 5.0


@dataclass
class _Known:
    user: User
    token: APIToken
    last_used_at: datetime | None


_known: LocalCache[str, _Known] = LocalCache("api-tokens", ttl=TOKEN_CACHE_SECONDS)


def token_cache_forget(*, user_id: int) -> None:
    """Drop this process's remembered tokens of ``user_id`` (after a revocation or a user change)."""
    _known.discard_where(lambda known: known.user.pk == user_id)


class APITokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request: Request) -> tuple[Any, APIToken] | None:
        if any(name in request.query_params for name in _QUERY_PARAMS):
            raise exceptions.AuthenticationFailed(
                _("API tokens are accepted only in the Authorization header.")
            )
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header."))
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header.")) from None
        return self.authenticate_token(raw)

    def authenticate_token(self, raw: str) -> tuple[Any, APIToken]:
        """The user and token of the plaintext token ``raw``; ``AuthenticationFailed`` if none."""
        digest = token_digest(raw)
        known = _known.get(digest)
        if known is MISSING:
            known = self._load(digest)
            _known.set(digest, known)
        assert isinstance(known, _Known)
        now = timezone.now()
        if known.last_used_at is None or now - known.last_used_at > _LAST_USED_RESOLUTION:
            APIToken.objects.filter(pk=known.token.pk).update(last_used_at=now)
            known.last_used_at = now
        # A copy per request: the view may annotate its user, and the entry is shared by threads.
        return copy.copy(known.user), known.token

    def _load(self, digest: str) -> _Known:
        try:
            token = APIToken.objects.select_related("user").get(digest=digest, revoked_at__isnull=True)
        except APIToken.DoesNotExist:
            token = None
        if token is None or not token.user.is_active:
            # Refusals are not remembered: a token created a moment later must work at once.
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API token."))
        return _Known(user=token.user, token=token, last_used_at=token.last_used_at)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class APITokenAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "apps.accounts.authentication.APITokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Per-user API token (Authorization: Bearer …)",
        }

"""Per-user API token authentication for partner systems.

Tokens are accepted only in the ``Authorization`` header (``Bearer <token>`` or ``Token <token>``).
A token in the query string is refused outright: URLs end up in logs, proxies and browser history.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .models import APIToken
from .tokens import token_digest

_QUERY_PARAMS = ("token", "api_key", "apikey", "access_token", "key")
_LAST_USED_RESOLUTION = timedelta(minutes=1)


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
        return self._authenticate_token(raw)

    def _authenticate_token(self, raw: str) -> tuple[Any, APIToken]:
        try:
            token = APIToken.objects.select_related("user").get(
                digest=token_digest(raw), revoked_at__isnull=True
            )
        except APIToken.DoesNotExist:
            token = None
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API token."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
            APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

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

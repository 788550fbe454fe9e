from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.models import AuditAction
from apps.core.services import audit_record

from .authentication import token_cache_forget
from .models import APIToken, User
from .tokens import token_digest, token_generate


@dataclass(frozen=True)
class IssuedToken:
    token: APIToken
    plaintext: str  # shown to the user once, never stored


def api_token_create(*, user: User, name: str, ip_address: str | None = None) -> IssuedToken:
    plaintext = token_generate()
    with transaction.atomic():
        token = APIToken.objects.create(
            user=user,
            name=name.strip()[:100] or "API token",
            prefix=plaintext[:10],
            digest=token_digest(plaintext),
        )
        audit_record(
            action=AuditAction.TOKEN_CREATED,
            actor=user,
            user=user,
            target=f"api_token:{token.pk}",
            detail={"prefix": token.prefix},
            ip_address=ip_address,
        )
    return IssuedToken(token=token, plaintext=plaintext)


def api_token_revoke(*, user: User, token_id: int, actor: Any = None, ip_address: str | None = None) -> bool:
    """Revoke one of ``user``'s tokens. Returns False when it is not theirs (or already revoked).

    ``actor`` is who did it when not the owner (a staff member in admin).
    """
    with transaction.atomic():
        updated = (
            APIToken.objects.for_user(user)
            .filter(pk=token_id, revoked_at__isnull=True)
            .update(revoked_at=timezone.now())
        )
        if updated:
            audit_record(
                action=AuditAction.TOKEN_REVOKED,
                actor=actor or user,
                user=user,
                target=f"api_token:{token_id}",
                ip_address=ip_address,
            )
    if updated:
        # Now for this process, and again after the commit: a request running in between could
        # have re-read the still-active token from the database.
        token_cache_forget(user_id=user.pk)
        transaction.on_commit(lambda: token_cache_forget(user_id=user.pk))
    return bool(updated)

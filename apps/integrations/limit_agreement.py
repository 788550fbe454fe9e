"""A platform-key tenant's two monthly limits: the key's at OpenRouter (USD) and the budget (SEK).

Rules:

* The two are compared at today's USD→SEK rate (the dated rate the ledger uses), in whole öre and
  whole cents: they "agree" when the key's limit converted to SEK, rounded to öre, equals the
  budget's limit.
* Only staff can change the key's limit (it is the platform's money at OpenRouter); the tenant
  sees both and a note when they differ. Staff can align either one to the other from the admin's
  Platform key page.
* Every alignment writes the audit row of the thing it changed: the budget change as a settings
  change of ``budget`` (with the rate used), the key's limit through :mod:`.platform_keys`.
* Only the tenant-wide budget row is compared and changed; use-case limits are left alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.models import AuditAction
from apps.core.money import usd_sek_rate, usd_to_sek
from apps.core.services import audit_record

from .budget_selectors import budget_rules_forget
from .models import Budget
from .platform_keys import PlatformKeyError, PlatformKeyResult, platform_key_limit_set

_ORE = Decimal("0.01")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class LimitAgreement:
    """The key's limit in USD and SEK, the budget's limit (or None), and today's rate."""

    key_limit_usd: Decimal
    key_limit_sek: Decimal
    budget_limit_sek: Decimal | None
    budget_limit_usd: Decimal | None
    rate: Decimal
    on: dt.date

    @property
    def has_budget(self) -> bool:
        return self.budget_limit_sek is not None

    @property
    def differ(self) -> bool:
        return self.budget_limit_sek is not None and self.budget_limit_sek != self.key_limit_sek


def _today() -> dt.date:
    return timezone.now().astimezone(dt.UTC).date()


def key_limit_to_sek(limit_usd: Decimal, rate: Decimal) -> Decimal:
    return usd_to_sek(limit_usd, rate).quantize(_ORE, rounding=ROUND_HALF_UP)


def budget_limit_to_usd(limit_sek: Decimal, rate: Decimal) -> Decimal:
    # Rounded down to whole cents: the key's limit never lets the tenant spend past the budget.
    return (limit_sek / rate).quantize(_CENT, rounding=ROUND_DOWN)


def _tenant_budget(user: Any) -> Budget | None:
    return Budget.objects.for_user(user).filter(use_case="").first()


def limit_agreement(*, user: Any, row: Any) -> LimitAgreement | None:
    """Both limits of ``user`` (whose AI settings are ``row``); None unless on a platform key
    with a limit."""
    if row is None or not row.has_platform_key or row.platform_key_limit_usd is None:
        return None
    on = _today()
    rate = usd_sek_rate(on)
    budget = _tenant_budget(user)
    budget_sek = budget.monthly_limit_sek if budget is not None else None
    return LimitAgreement(
        key_limit_usd=row.platform_key_limit_usd,
        key_limit_sek=key_limit_to_sek(row.platform_key_limit_usd, rate),
        budget_limit_sek=budget_sek,
        budget_limit_usd=budget_limit_to_usd(budget_sek, rate) if budget_sek is not None else None,
        rate=rate,
        on=on,
    )


@transaction.atomic
def budget_align_to_key(*, user: Any, actor: Any, row: Any, ip_address: str | None = None) -> Decimal:
    """Set the tenant's budget limit to the key's limit converted to SEK; returns the new limit.

    Raises :class:`PlatformKeyError` when there is no key limit or no budget to change (staff's
    page only offers this when both exist). The same limit: nothing is written.
    """
    agreement = limit_agreement(user=user, row=row)
    if agreement is None:
        raise PlatformKeyError(_("This tenant has no platform key with a limit."))
    budget = Budget.objects.for_user(user).select_for_update().filter(use_case="").first()
    if budget is None or budget.monthly_limit_sek is None:
        raise PlatformKeyError(_("This tenant has no monthly budget limit to change."))
    previous = budget.monthly_limit_sek
    if previous == agreement.key_limit_sek:
        return previous
    budget.monthly_limit_sek = agreement.key_limit_sek
    budget.save(update_fields=["monthly_limit_sek", "updated_at"])
    audit_record(
        action=AuditAction.SETTINGS_CHANGED,
        actor=actor,
        user=user,
        target="budget",
        detail={
            "aligned_to": "platform_key_limit",
            "limit_sek": str(agreement.key_limit_sek),
            "previous_limit_sek": str(previous),
            "platform_key_limit_usd": str(agreement.key_limit_usd),
            "usd_sek_rate": str(agreement.rate),
            "rate_date": agreement.on.isoformat(),
        },
        ip_address=ip_address,
    )
    user_id = user.pk
    budget_rules_forget(user_id=user_id)
    transaction.on_commit(lambda: budget_rules_forget(user_id=user_id))
    return agreement.key_limit_sek


def key_limit_align_to_budget(
    *, user: Any, actor: Any, row: Any, ip_address: str | None = None
) -> PlatformKeyResult:
    """Set the key's OpenRouter limit to the budget converted to USD (rounded down to cents).

    Goes through :func:`platform_key_limit_set`, so OpenRouter is changed first, the limit's
    bounds apply and the change is audited there.
    """
    agreement = limit_agreement(user=user, row=row)
    if agreement is None:
        raise PlatformKeyError(_("This tenant has no platform key with a limit."))
    if agreement.budget_limit_usd is None:
        raise PlatformKeyError(_("This tenant has no monthly budget limit to copy."))
    return platform_key_limit_set(
        user=user, actor=actor, limit_usd=agreement.budget_limit_usd, ip_address=ip_address
    )

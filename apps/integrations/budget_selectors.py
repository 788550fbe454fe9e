"""Reads of tenants' budgets: the rows for pages and the API, a frozen copy for the gateway."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from apps.core.localcache import MISSING, LocalCache

from .models import Budget, BudgetPolicy


@dataclass(frozen=True)
class UseCaseRule:
    policy: str
    fallback_model: str
    limit_sek: Decimal | None


@dataclass(frozen=True)
class BudgetRules:
    """A tenant's budget as the gateway needs it; shared between threads, never changed."""

    user_id: int
    limit_sek: Decimal | None
    soft_threshold_percent: int
    policy: str
    fallback_model: str
    email_alerts: bool
    use_cases: dict[str, UseCaseRule] = field(default_factory=dict)

    def rule_for(self, use_case: str) -> UseCaseRule:
        """The policy and fallback for ``use_case`` (its own row, else the tenant's) and its own limit."""
        own = self.use_cases.get(use_case)
        if own is not None:
            return own
        return UseCaseRule(self.policy, self.fallback_model, None)

    @property
    def has_limit(self) -> bool:
        return self.limit_sek is not None or any(r.limit_sek is not None for r in self.use_cases.values())


def budgets_list(*, user: Any) -> list[Budget]:
    """The tenant's budget rows: the tenant row (``use_case`` empty) first, then use cases."""
    return list(Budget.objects.for_user(user).order_by("use_case"))


def budget_rules_load(*, user_id: int) -> BudgetRules | None:
    rows = list(Budget.objects.filter(user_id=user_id))
    if not rows:
        return None
    tenant = next((r for r in rows if not r.use_case), None)
    return BudgetRules(
        user_id=user_id,
        limit_sek=tenant.monthly_limit_sek if tenant else None,
        soft_threshold_percent=tenant.soft_threshold_percent if tenant else 80,
        policy=tenant.policy if tenant else BudgetPolicy.BLOCK,
        fallback_model=tenant.fallback_model if tenant else "",
        email_alerts=tenant.email_alerts if tenant else True,
        use_cases={
            r.use_case: UseCaseRule(r.policy, r.fallback_model, r.monthly_limit_sek)
            for r in rows
            if r.use_case
        },
    )


# The longest a budget change made in another process goes unseen by this one's AI calls.
BUDGET_RULES_CACHE_SECONDS = 5.0
_for_call: LocalCache[int, BudgetRules | None] = LocalCache("budget-rules", ttl=BUDGET_RULES_CACHE_SECONDS)


def budget_rules_for_call(*, user_id: int) -> BudgetRules | None:
    """The tenant's budget for the gateway's hot path: one query per process every few seconds.

    ``None`` when the tenant has no budget (the common case costs a dictionary look-up).
    """
    cached = _for_call.get(user_id)
    if cached is not MISSING:
        return cached  # type: ignore[return-value]
    rules = budget_rules_load(user_id=user_id)
    _for_call.set(user_id, rules)
    return rules


def budget_rules_forget(*, user_id: int) -> None:
    _for_call.discard(user_id)

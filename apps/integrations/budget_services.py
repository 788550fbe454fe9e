"""Writes to a tenant's budgets, with the validation the AI tab's form and the API share.

Bad input is a ``ValidationError`` keyed by field: a negative or absurd limit, a threshold outside
1 to 100 %, an unknown policy, or a fallback model the tenant cannot use (not in OpenRouter's
catalogue, or none given for ``degrade``). Nothing is saved unless everything is valid.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.models import AuditAction
from apps.core.services import audit_record

from .account import model_ids_known
from .budget_selectors import budget_rules_forget
from .models import BUDGET_LIMIT_MAX_SEK, Budget, BudgetPolicy, UseCase
from .validators import model_id_clean


@dataclass(frozen=True)
class BudgetInput:
    """One budget row as entered: the tenant row (``use_case`` empty) or one use case's."""

    use_case: str
    monthly_limit_sek: Decimal | None
    policy: str
    fallback_model: str
    soft_threshold_percent: int = 80
    email_alerts: bool = True


def limit_clean(value: Any) -> Decimal | None:
    """A monthly limit in SEK: empty for none, else 0 … 10 000 000 with at most two decimals."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValidationError(_("Enter the limit as a number of kronor."), code="limit_invalid")
    try:
        amount = Decimal(str(value).strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        raise ValidationError(_("Enter the limit as a number of kronor."), code="limit_invalid") from None
    if not amount.is_finite():
        raise ValidationError(_("Enter the limit as a number of kronor."), code="limit_invalid")
    if amount < 0:
        raise ValidationError(_("The limit cannot be negative."), code="limit_negative")
    if amount > BUDGET_LIMIT_MAX_SEK:
        raise ValidationError(
            _("The limit cannot be more than %(max)s kr a month.")
            % {"max": f"{BUDGET_LIMIT_MAX_SEK:,}".replace(",", " ")},
            code="limit_too_large",
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(
            _("Give the limit in whole öre (at most two decimals)."), code="limit_precision"
        )
    return amount


def threshold_clean(value: Any) -> int:
    if isinstance(value, bool):
        raise ValidationError(_("Enter the threshold as a whole percentage."), code="threshold_invalid")
    try:
        number = int(str(value).strip().rstrip("%").strip())
    except (TypeError, ValueError):
        raise ValidationError(
            _("Enter the threshold as a whole percentage."), code="threshold_invalid"
        ) from None
    if not 1 <= number <= 100:
        raise ValidationError(_("The alert threshold must be between 1 and 100 %."), code="threshold_range")
    return number


def policy_clean(value: Any) -> str:
    if value not in BudgetPolicy.values:
        raise ValidationError(
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(BudgetPolicy.values)},
            code="policy_invalid",
        )
    return str(value)


def fallback_clean(value: Any, *, policy: str, known: Collection[str] | None) -> str:
    """The cheaper model for ``degrade``: required then, and it must be in the catalogue."""
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    model = model_id_clean(value, known=known)
    if policy == BudgetPolicy.DEGRADE and not model:
        raise ValidationError(
            _("Choose the cheaper model to switch to when the budget is spent."), code="fallback_required"
        )
    if model and known is None:
        # Without the catalogue nobody can tell whether the tenant can use this model.
        raise ValidationError(
            _(
                "OpenRouter's model list cannot be loaded right now, so the model cannot be checked. Try again shortly."
            ),
            code="catalogue_unavailable",
        )
    return model


def budget_input_clean(
    raw: Mapping[str, Any], *, use_case: str, known: Collection[str] | None
) -> tuple[BudgetInput | None, dict[str, list[str]]]:
    """Validate one row's raw values; returns the clean row or the messages per field."""
    problems: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    checks: list[tuple[str, Any]] = [
        ("monthly_limit_sek", lambda: limit_clean(raw.get("monthly_limit_sek"))),
        ("policy", lambda: policy_clean(raw.get("policy", BudgetPolicy.BLOCK))),
    ]
    if not use_case:
        checks.append(
            ("soft_threshold_percent", lambda: threshold_clean(raw.get("soft_threshold_percent", 80)))
        )
    for name, check in checks:
        try:
            values[name] = check()
        except ValidationError as exc:
            problems[name] = list(exc.messages)
    if "policy" in values:
        try:
            values["fallback_model"] = fallback_clean(
                raw.get("fallback_model", ""), policy=values["policy"], known=known
            )
        except ValidationError as exc:
            problems["fallback_model"] = list(exc.messages)
    if problems:
        return None, problems
    return (
        BudgetInput(
            use_case=use_case,
            monthly_limit_sek=values["monthly_limit_sek"],
            policy=values["policy"],
            fallback_model=values["fallback_model"],
            soft_threshold_percent=values.get("soft_threshold_percent", 80),
            email_alerts=bool(raw.get("email_alerts", True)),
        ),
        problems,
    )


def known_models() -> set[str] | None:
    return model_ids_known()


def use_case_valid(value: str) -> bool:
    return value in UseCase.values


@transaction.atomic
def budgets_save(
    *, user: Any, actor: Any, rows: list[BudgetInput], replace: bool = True, ip_address: str | None = None
) -> list[Budget]:
    """Store the tenant's budget rows; with ``replace`` the use-case rows not given are removed.

    Audited (what changed, no secrets). The gateway sees the change at once in this process and
    within a few seconds in the others.
    """
    existing = {b.use_case: b for b in Budget.objects.for_user(user).select_for_update()}
    saved: list[Budget] = []
    for row in rows:
        budget = existing.pop(row.use_case, None) or Budget(user=user, use_case=row.use_case)
        budget.monthly_limit_sek = row.monthly_limit_sek
        budget.policy = row.policy
        budget.fallback_model = row.fallback_model
        if not row.use_case:
            budget.soft_threshold_percent = row.soft_threshold_percent
            budget.email_alerts = row.email_alerts
        budget.save()
        saved.append(budget)
    if replace:
        for leftover in existing.values():
            leftover.delete()
    audit_record(
        action=AuditAction.SETTINGS_CHANGED,
        actor=actor,
        user=user,
        target="budget",
        detail={
            "budgets": [
                {
                    "use_case": b.use_case or "all",
                    "limit_sek": str(b.monthly_limit_sek) if b.monthly_limit_sek is not None else None,
                    "policy": b.policy,
                    "fallback_model": b.fallback_model,
                }
                for b in saved
            ]
        },
        ip_address=ip_address,
    )
    user_id = user.pk
    budget_rules_forget(user_id=user_id)
    transaction.on_commit(lambda: budget_rules_forget(user_id=user_id))
    return saved


def budget_email_alerts_set(*, user: Any, enabled: bool) -> bool:
    """The unsubscribe switch: turn budget and credit alert e-mails off (or on). In-app stays."""
    changed = Budget.objects.for_user(user).filter(use_case="").update(email_alerts=enabled)
    budget_rules_forget(user_id=user.pk)
    return bool(changed)

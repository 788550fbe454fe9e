"""``/api/integrations/budget/``: the caller's monthly AI budget, per-use-case policies and status.

Served by the usage app (it owns the spend and reservations the status reports); the budget rows
themselves belong to integrations. The caller's own budget only: there is no user id to pass.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.schema import COMMON, error_responses
from apps.integrations.api.serializers import ModelIdField, StrictSerializer
from apps.integrations.budget_selectors import budgets_list
from apps.integrations.budget_services import BudgetInput, budget_input_clean, budgets_save, known_models
from apps.integrations.models import BUDGET_LIMIT_MAX_SEK, BudgetPolicy, UseCase
from apps.usage.budgets import budget_status

TAGS = ["integrations"]

# The request schema says what budget_input_clean accepts from the API (schemathesis checks both
# ways): a limit as decimal text (blank or null: none), a threshold as a whole number, use cases
# by name only, a fallback as a model id.
_LIMIT_PATTERN = (
    rf"^(?:[0-9]{{1,{len(str(BUDGET_LIMIT_MAX_SEK)) - 1}}}(?:\.[0-9]{{0,2}})?"
    rf"|{BUDGET_LIMIT_MAX_SEK}(?:\.0{{0,2}})?|\.[0-9]{{1,2}})?$"
)


@extend_schema_field({"type": "string", "pattern": _LIMIT_PATTERN, "nullable": True})
class _LimitField(serializers.JSONField):
    """Money is decimal text in JSON (a number is a binary float); null or blank for no limit."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            raise serializers.ValidationError(_("Send the amount as a decimal string, for example “12.50”."))
        return data


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 100})
class _PercentField(serializers.JSONField):
    """A whole percentage; its range is checked (and worded) by budget_input_clean."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            raise serializers.ValidationError(_("Send a whole number."))
        return data


class UseCaseBudgetSerializer(StrictSerializer):
    policy = serializers.ChoiceField(
        choices=BudgetPolicy.choices, help_text="What calls of this use case do once a budget is spent."
    )
    fallback_model = ModelIdField(
        allow_blank=True,
        required=False,
        default="",
        help_text="The cheaper model for `degrade` (in OpenRouter's catalogue).",
    )
    monthly_limit_sek = _LimitField(
        required=False,
        default=None,
        help_text="This use case's own monthly limit in SEK (decimal string), or null for none.",
    )


class _UseCasesField(serializers.DictField):
    request_keys = sorted(UseCase.values)  # documented as these properties only (AutoSchema)


class BudgetSerializer(StrictSerializer):
    """PUT body: the whole budget (use cases left out lose their own policy)."""

    monthly_limit_sek = _LimitField(
        help_text="Monthly limit for all AI calls in SEK, 0 to 10 000 000, at most two decimals (decimal string); null for none."
    )
    soft_threshold_percent = _PercentField(
        required=False,
        default=80,  # type: ignore[arg-type]  # budget_input_clean checks the range
        help_text="Alert when this share of the limit is spent (1 to 100).",
    )
    policy = serializers.ChoiceField(choices=BudgetPolicy.choices, required=False, default=BudgetPolicy.BLOCK)
    fallback_model = ModelIdField(allow_blank=True, required=False, default="")
    email_alerts = serializers.BooleanField(
        required=False, default=True, help_text="Send budget and credit alerts by e-mail too (in-app always)."
    )
    use_cases = _UseCasesField(
        child=UseCaseBudgetSerializer(),
        required=False,
        default=dict,
        help_text="Per use case: policy, cheaper model, own limit.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        known = known_models() if _names_a_model(attrs) else None
        rows: list[BudgetInput] = []
        problems: dict[str, Any] = {}
        tenant, errors = budget_input_clean(attrs, use_case="", known=known)
        problems.update(errors)
        if tenant is not None:
            rows.append(tenant)
        nested: dict[str, Any] = {}
        for use_case, raw in (attrs.get("use_cases") or {}).items():
            if use_case not in UseCase.values:
                nested[use_case] = [
                    _("Unknown use case; use one of: %(choices)s.") % {"choices": ", ".join(UseCase.values)}
                ]
                continue
            row, errors = budget_input_clean(raw, use_case=use_case, known=known)
            if errors:
                nested[use_case] = errors
            elif row is not None:
                rows.append(row)
        if nested:
            problems["use_cases"] = nested
        if problems:
            raise serializers.ValidationError(problems)
        return {"rows": rows}


def _names_a_model(attrs: dict[str, Any]) -> bool:
    return bool(attrs.get("fallback_model")) or any(
        isinstance(v, dict) and v.get("fallback_model") for v in (attrs.get("use_cases") or {}).values()
    )


class BudgetStatusSerializer(serializers.Serializer[Any]):
    limit_sek = serializers.DecimalField(max_digits=20, decimal_places=2)
    spent_sek = serializers.DecimalField(max_digits=24, decimal_places=6)
    reserved_sek = serializers.DecimalField(max_digits=24, decimal_places=6)
    left_sek = serializers.DecimalField(max_digits=24, decimal_places=6)
    forecast_sek = serializers.DecimalField(
        max_digits=24, decimal_places=6, help_text="This month at the current burn rate."
    )
    percent = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["ok", "soft", "degraded", "blocked", "over"])
    resets_at = serializers.DateTimeField()


class BudgetResponseSerializer(serializers.Serializer[Any]):
    monthly_limit_sek = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    soft_threshold_percent = serializers.IntegerField()
    policy = serializers.ChoiceField(choices=BudgetPolicy.choices)
    fallback_model = serializers.CharField()
    email_alerts = serializers.BooleanField()
    use_cases = serializers.DictField(child=serializers.DictField())
    status = BudgetStatusSerializer(allow_null=True)


def budget_payload(user: Any) -> dict[str, Any]:
    rows = budgets_list(user=user)
    tenant = next((r for r in rows if not r.use_case), None)
    status = budget_status(user_id=user.pk)
    return {
        "monthly_limit_sek": tenant.monthly_limit_sek if tenant else None,
        "soft_threshold_percent": tenant.soft_threshold_percent if tenant else 80,
        "policy": tenant.policy if tenant else BudgetPolicy.BLOCK,
        "fallback_model": tenant.fallback_model if tenant else "",
        "email_alerts": tenant.email_alerts if tenant else True,
        "use_cases": {
            r.use_case: {
                "policy": r.policy,
                "fallback_model": r.fallback_model,
                "monthly_limit_sek": str(r.monthly_limit_sek) if r.monthly_limit_sek is not None else None,
            }
            for r in rows
            if r.use_case
        },
        "status": None
        if status is None
        else {
            "limit_sek": status.limit_sek,
            "spent_sek": status.spent_sek,
            "reserved_sek": status.reserved_sek,
            "left_sek": status.left_sek,
            "forecast_sek": status.forecast_sek,
            "percent": status.percent,
            "state": status.state,
            "resets_at": status.resets_at,
        },
    }


class BudgetView(APIView):
    @extend_schema(
        summary="Your monthly AI budget, per-use-case policies and this month's status",
        tags=TAGS,
        responses={200: BudgetResponseSerializer, **error_responses(*COMMON)},
    )
    def get(self, request: Request) -> Response:
        return Response(BudgetResponseSerializer(budget_payload(request.user)).data)

    @extend_schema(
        summary="Set your monthly AI budget",
        description=(
            "Replaces the whole budget. `policy`: `degrade` switches calls to `fallback_model` once "
            "the limit is spent, `block` refuses them (402 `budget_exceeded`), `allow_and_alert` "
            "lets them through and alerts. Negative or absurd limits, thresholds outside 1 to 100 %, "
            "and fallback models not in OpenRouter's catalogue are refused with 400."
        ),
        tags=TAGS,
        request=BudgetSerializer,
        responses={200: BudgetResponseSerializer, **error_responses(*COMMON)},
    )
    def put(self, request: Request) -> Response:
        serializer = BudgetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        budgets_save(
            user=request.user,
            actor=request.user,
            rows=serializer.validated_data["rows"],
            ip_address=request.META.get("REMOTE_ADDR"),
        )
        return Response(BudgetResponseSerializer(budget_payload(request.user)).data)

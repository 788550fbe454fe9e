"""The AI tab's budget form. It validates with the same rules as the API; saving is
``budget_services.budgets_save``."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .budget_services import BudgetInput, budget_input_clean
from .forms import MODEL_LIST_ID
from .models import Budget, BudgetPolicy, UseCase
from .validators import MODEL_ID_MAX_LENGTH

SAME = ""  # a use case that follows the tenant's policy (no row of its own)


def _model_input() -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "list": MODEL_LIST_ID,
            "autocomplete": "off",
            "spellcheck": "false",
            "placeholder": "openai/gpt-4o-mini",
            "maxlength": MODEL_ID_MAX_LENGTH,
        }
    )


def _amount_input() -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "1000"})


class BudgetForm(forms.Form):
    monthly_limit_sek = forms.CharField(
        label=_("Monthly limit (SEK)"),
        required=False,
        max_length=30,
        widget=_amount_input(),
        help_text=_("For all AI calls in a calendar month (UTC). Leave empty for no budget."),
    )
    soft_threshold_percent = forms.CharField(
        label=_("Alert at (% of the limit)"),
        max_length=5,
        initial="80",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    policy = forms.ChoiceField(label=_("When the budget is spent"), choices=BudgetPolicy.choices)
    fallback_model = forms.CharField(
        label=_("Cheaper model"),
        required=False,
        max_length=MODEL_ID_MAX_LENGTH,
        widget=_model_input(),
        help_text=_("Used instead of the requested model when the policy is to switch."),
    )
    email_alerts = forms.BooleanField(
        label=_("E-mail me budget and credit alerts"),
        required=False,
        help_text=_("Alerts always appear here in the app; untick to stop the e-mails."),
    )

    def __init__(self, *args: Any, known_models: Collection[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.known_models = known_models
        choices = [(SAME, _("As for all calls")), *BudgetPolicy.choices]
        for use_case in UseCase:
            self.fields[f"policy_{use_case.value}"] = forms.ChoiceField(
                label=use_case.label, choices=choices, required=False
            )
            self.fields[f"fallback_{use_case.value}"] = forms.CharField(
                label=_("Cheaper model"),
                required=False,
                max_length=MODEL_ID_MAX_LENGTH,
                widget=_model_input(),
            )
            self.fields[f"limit_{use_case.value}"] = forms.CharField(
                label=_("Own limit (SEK)"), required=False, max_length=30, widget=_amount_input()
            )
        self.rows: list[BudgetInput] = []

    def use_case_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "label": use_case.label,
                "policy": self[f"policy_{use_case.value}"],
                "fallback": self[f"fallback_{use_case.value}"],
                "limit": self[f"limit_{use_case.value}"],
            }
            for use_case in UseCase
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.rows = []
        tenant, problems = budget_input_clean(cleaned, use_case="", known=self.known_models)
        for name, messages in problems.items():
            self.add_error(name, messages)
        if tenant is not None:
            self.rows.append(tenant)
        for use_case in UseCase:
            policy = cleaned.get(f"policy_{use_case.value}") or SAME
            limit = cleaned.get(f"limit_{use_case.value}") or ""
            if policy == SAME and not limit.strip():
                continue
            raw = {
                "policy": policy if policy != SAME else (tenant.policy if tenant else BudgetPolicy.BLOCK),
                "fallback_model": cleaned.get(f"fallback_{use_case.value}")
                or (tenant.fallback_model if tenant and policy == SAME else ""),
                "monthly_limit_sek": limit,
            }
            row, problems = budget_input_clean(raw, use_case=use_case.value, known=self.known_models)
            names = {"policy": "policy_", "fallback_model": "fallback_", "monthly_limit_sek": "limit_"}
            for name, messages in problems.items():
                self.add_error(names[name] + use_case.value, messages)
            if row is not None:
                self.rows.append(row)
        return cleaned


def budget_initial(rows: list[Budget]) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "soft_threshold_percent": "80",
        "policy": BudgetPolicy.BLOCK,
        "email_alerts": True,
    }
    for row in rows:
        limit = "" if row.monthly_limit_sek is None else str(row.monthly_limit_sek)
        if not row.use_case:
            initial.update(
                monthly_limit_sek=limit,
                soft_threshold_percent=str(row.soft_threshold_percent),
                policy=row.policy,
                fallback_model=row.fallback_model,
                email_alerts=row.email_alerts,
            )
        else:
            initial.update(
                {
                    f"policy_{row.use_case}": row.policy,
                    f"fallback_{row.use_case}": row.fallback_model,
                    f"limit_{row.use_case}": limit,
                }
            )
    return initial

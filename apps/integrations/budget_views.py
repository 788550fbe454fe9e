"""The AI tab's budget card: the monthly limit, alert threshold, and per-use-case policy."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .account import account_models_get
from .budget_forms import BudgetForm, budget_initial
from .budget_selectors import budgets_list
from .budget_services import budgets_save, known_models
from .forms import MODEL_LIST_ID
from .limit_agreement import limit_agreement
from .presenters import model_rows
from .selectors import ai_settings_display_get


def _render(
    request: HttpRequest, form: BudgetForm, *, status: int = 200, saved: bool = False
) -> HttpResponse:
    catalogue = account_models_get()
    context = {
        "form": form,
        "saved": saved,
        "model_options": model_rows(catalogue.value.data) if catalogue.value else [],
        "model_list_id": MODEL_LIST_ID + "-budget",
        # A platform-key tenant sees the key's limit beside the budget (only staff can change it).
        "agreement": limit_agreement(user=request.user, row=ai_settings_display_get(user=request.user)),
    }
    template = "integrations/_budget.html" if getattr(request, "htmx", False) else "integrations/budget.html"
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
def budget_card(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, BudgetForm(initial=budget_initial(budgets_list(user=request.user))))
    form = BudgetForm(request.POST, known_models=known_models())
    if not form.is_valid():
        return _render(request, form, status=400)
    budgets_save(
        user=request.user, actor=request.user, rows=form.rows, ip_address=request.META.get("REMOTE_ADDR")
    )
    if not getattr(request, "htmx", False):
        messages.success(request, _("Budget saved."))
        return redirect(reverse("integrations:index") + "?tab=ai")
    fresh = BudgetForm(initial=budget_initial(budgets_list(user=request.user)))
    return _render(request, fresh, saved=True)

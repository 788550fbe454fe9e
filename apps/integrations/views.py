"""Integrations → AI & Models: the one page where a tenant configures OpenRouter.

The page shows the status card; the account card and the model list load through htmx so a slow
OpenRouter never holds the page. The Configure dialog loads, tests, saves and removes keys with
htmx without a reload; every view also works as a plain form post.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .account import account_credits_get, account_key_get, account_models_get, models_filter
from .forms import MODEL_LIST_ID, AISettingsForm, KeysForm, initial_from
from .models import KeySlot
from .presenters import model_rows, platform_key_context, status_context
from .selectors import ai_settings_display_get
from .services import ai_connection_test, ai_settings_key_remove, ai_settings_update

TABS = ("ai",)
MODELS_SHOWN = 100
# Events the page listens for: refresh the status and account cards; close the dialog.
CHANGED_EVENT = "ai-settings-changed"
CLOSE_EVENT = "ai-dialog-close"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "ai")
    context = {
        "tab": tab if tab in TABS else "ai",
        **status_context(ai_settings_display_get(user=request.user)),
    }
    return render(request, "integrations/index.html", context)


@require_GET
def status_card(request: HttpRequest) -> HttpResponse:
    context = status_context(ai_settings_display_get(user=request.user))
    return render(request, "integrations/_status.html", context)


@require_GET
def account_card(request: HttpRequest) -> HttpResponse:
    row = ai_settings_display_get(user=request.user)
    configured = bool(row and (row.has_api_key or row.has_management_key))
    context: dict[str, Any] = {"configured": configured, "platform_key": platform_key_context(row)}
    if configured:
        context["credits"] = account_credits_get(user=request.user)
        context["key"] = account_key_get(user=request.user) if row and row.has_api_key else None
    return render(request, "integrations/_account.html", context)


def _max_price(raw: str) -> Decimal | None:
    try:
        value = Decimal(raw.strip().replace(",", ".")) if raw.strip() else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() and value >= 0 else None


@require_GET
def models_card(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("search", "")[:100]
    modality = request.GET.get("modality", "")[:20]
    raw_max_price = request.GET.get("max_price", "")[:20]
    max_price = _max_price(raw_max_price)
    # A max price that is not a number >= 0 filters nothing: the list says so instead of
    # silently showing every model.
    max_price_invalid = bool(raw_max_price.strip()) and max_price is None
    catalogue = account_models_get()
    found = (
        models_filter(catalogue.value.data, search=search, modality=modality, max_price=max_price)
        if catalogue.value
        else []
    )
    context = {
        "catalogue": catalogue,
        "rows": model_rows(found[:MODELS_SHOWN]),
        "found": len(found),
        "total": len(catalogue.value.data) if catalogue.value else 0,
        "shown": min(len(found), MODELS_SHOWN),
        "search": search,
        "modality": modality,
        "max_price": raw_max_price if max_price is not None else "",
        "max_price_invalid": max_price_invalid,
        "modalities": ("text", "image", "audio", "file", "video"),
    }
    return render(request, "integrations/_models.html", context)


def _configure_context(form: AISettingsForm, **extra: Any) -> dict[str, Any]:
    catalogue = account_models_get()
    row = ai_settings_display_get(user=extra.pop("user"))
    return {
        "form": form,
        "model_options": model_rows(catalogue.value.data) if catalogue.value else [],
        "model_list_id": MODEL_LIST_ID,
        "catalogue_problem": catalogue.problem if catalogue.value is None else None,
        "api_key_last4": row.api_key_last4 if row else "",
        "platform_key": platform_key_context(row),
        "management_key_last4": row.management_key_last4 if row else "",
        **extra,
    }


def _known_models() -> set[str] | None:
    catalogue = account_models_get().value
    return {m.id for m in catalogue.data} if catalogue else None


def _render_configure(request: HttpRequest, form: AISettingsForm, **extra: Any) -> HttpResponse:
    template = "integrations/_configure.html" if _is_htmx(request) else "integrations/configure.html"
    return render(request, template, _configure_context(form, user=request.user, **extra))


def _changed(response: HttpResponse, *, close: bool) -> HttpResponse:
    events = [CHANGED_EVENT, CLOSE_EVENT] if close else [CHANGED_EVENT]
    response["HX-Trigger-After-Settle"] = ", ".join(events)
    return response


@sensitive_post_parameters("api_key", "management_key")
@sensitive_variables()
@require_http_methods(["GET", "POST"])
def configure(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        row = ai_settings_display_get(user=request.user)
        return _render_configure(request, AISettingsForm(initial=initial_from(row)))
    form = AISettingsForm(request.POST, known_models=_known_models())
    if not form.is_valid():
        return _render_configure(request, form)
    data = form.cleaned_data
    try:
        saved = ai_settings_update(
            user=request.user,
            actor=request.user,
            api_key=data["api_key"],
            management_key=data["management_key"],
            ai_provider=data["ai_provider"],
            use_system_fallback=data["use_system_fallback"],
            default_model=data["default_model"],
            use_case_models=form.use_case_models(),
            activity_whole_account=data["activity_whole_account"],
            ip_address=_client_ip(request),
        )
    except ValidationError as exc:  # e.g. a key typed over the platform's key
        form.add_error(None, exc)
        return _render_configure(request, form)
    if not _is_htmx(request):
        messages.success(request, _("AI settings saved."))
        return redirect(reverse("integrations:index") + "?tab=ai")
    response = render(request, "integrations/_saved.html", {"report": saved.report})
    return _changed(response, close=True)


@sensitive_post_parameters("api_key", "management_key")
@sensitive_variables()
@require_POST
def test_connection(request: HttpRequest) -> HttpResponse:
    """Test the keys typed into the dialog, or the stored ones for empty fields."""
    form = KeysForm(request.POST)
    report = None
    if form.is_valid():
        try:
            report = ai_connection_test(
                user=request.user,
                api_key=form.cleaned_data["api_key"],
                management_key=form.cleaned_data["management_key"],
            )
        except ValidationError as exc:  # pragma: no cover - the form already applied the same rules
            form.add_error(None, exc)
    response = render(request, "integrations/_test_result.html", {"report": report, "form": form})
    if report is not None and any(check.source == "stored" for check in report.checks):
        response = _changed(response, close=False)
    return response


@require_POST
def remove_key(request: HttpRequest, slot: str) -> HttpResponse:
    if slot not in KeySlot.values:
        raise Http404
    try:
        removed = ai_settings_key_remove(
            user=request.user, actor=request.user, slot=KeySlot(slot), ip_address=_client_ip(request)
        )
        notice = _("The key was removed.") if removed else _("There was no stored key to remove.")
    except ValidationError as exc:  # the platform's key is not the tenant's to remove
        notice = " ".join(exc.messages)
    if not _is_htmx(request):
        messages.success(request, notice)
        return redirect(reverse("integrations:index") + "?tab=ai")
    form = AISettingsForm(initial=initial_from(ai_settings_display_get(user=request.user)))
    return _changed(_render_configure(request, form, notice=notice), close=False)

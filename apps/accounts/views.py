from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from .models import APIToken, User
from .services import api_token_create, api_token_revoke


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. CRM integration")}),
    )


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


# The new token's plaintext waits in the session for exactly one page view after the redirect
# (Post/Redirect/Get: a reload never posts again and never creates a second token).
ISSUED_SESSION_KEY = "accounts_issued_token"


@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        issued = api_token_create(user=user, name=form.cleaned_data["name"], ip_address=_client_ip(request))
        request.session[ISSUED_SESSION_KEY] = issued.plaintext
        return redirect("accounts:api_tokens")
    issued_plaintext = request.session.pop(ISSUED_SESSION_KEY, None) if request.method == "GET" else None
    tokens = list(APIToken.objects.for_user(user).order_by("-created_at"))
    response = render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": tokens, "issued": issued_plaintext},
        status=400 if form.is_bound else 200,
    )
    if issued_plaintext:
        # The one page that shows a secret is not kept by the browser or any cache.
        response["Cache-Control"] = "no-store"
    return response


@require_POST
def api_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if api_token_revoke(user=user, token_id=token_id, ip_address=_client_ip(request)):
        messages.success(request, _("The token was revoked. Requests using it are refused from now on."))
    else:
        messages.error(request, _("No such active token."))
    return redirect("accounts:api_tokens")

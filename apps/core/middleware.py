"""Request-wide rules for the JSON API (paths under ``/api/``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import resolve
from django.utils import translation
from django.utils.translation.trans_real import get_supported_language_variant, parse_accept_lang_header

API_PREFIX = "/api/"
API_DEFAULT_LANGUAGE = "en"


def api_language(accept_language: str) -> str:
    """The first supported language in an ``Accept-Language`` header, English when there is none.

    API callers are programs: the session cookie and the site's default (Swedish) do not apply.
    """
    for code, _quality in parse_accept_lang_header(accept_language):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return API_DEFAULT_LANGUAGE


class ApiLanguageMiddleware:
    """API messages follow ``Accept-Language`` only (English when none); pages keep LocaleMiddleware's rule."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        return in_api_language(request, self.get_response)


def in_api_language(
    request: HttpRequest, get_response: Callable[[HttpRequest], HttpResponse]
) -> HttpResponse:
    """``get_response(request)`` with the API's language rule, a stream's remaining events included."""
    language = api_language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""))
    with translation.override(language):
        request.LANGUAGE_CODE = language
        response = get_response(request)
        response.headers.setdefault("Content-Language", language)
    if isinstance(response, StreamingHttpResponse):
        # A stream is produced after this returns: its messages must be in the same language.
        response.streaming_content = _in_language(response.streaming_content, language)
    return response


class ApiFastPathMiddleware:
    """Sends the paths in ``API_FAST_PATHS`` straight to their view, past the page middleware.

    The rule: a fast path is an API endpoint that authenticates by bearer token only, so it needs
    none of what the middleware below this one does for pages (sessions, CSRF, the locale cookie,
    login-required redirects, messages, frame options, htmx, login lockout). What it keeps: the
    middleware above it (after-response writes, SecurityMiddleware's HTTPS rules), the API's
    language rule, and the view the URLconf gives the path (resolved once here, so the two can
    never disagree). The gateway's chat endpoint is one: every AI call pays for each layer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.views = {path: resolve(path).func for path in settings.API_FAST_PATHS}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = self.views.get(request.path_info)
        if view is None:
            return self.get_response(request)
        response = in_api_language(request, lambda request: _rendered(view(request)))
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        return response


def _rendered(response: HttpResponse) -> HttpResponse:
    """A DRF ``Response`` is a template response: rendered as Django's handler would."""
    render = getattr(response, "render", None)
    return render() if callable(render) else response


def _in_language(content: Iterable[bytes], language: str) -> Iterator[bytes]:
    iterator = iter(content)
    try:
        while True:
            with translation.override(language):
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with translation.override(language):
                close()

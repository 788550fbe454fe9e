"""Request-wide rules for the JSON API (paths under ``/api/``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
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
        language = api_language(request.headers.get("Accept-Language", ""))
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", language)
        if isinstance(response, StreamingHttpResponse):
            # A stream is produced after this returns: its messages must be in the same language.
            response.streaming_content = _in_language(response.streaming_content, language)
        return response


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

"""Page-number pages with strict paging parameters.

DRF silently falls back to the default size for ``page_size=abc`` or ``page_size=0`` and accepts
``page=last``; here ``page_size`` is a whole number from 1 to ``MAX_PAGE_SIZE`` or a 400 naming it,
and ``page`` is a page number (1-based; one past the last page, or not a number, is a 404).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def page_size_from(request: Request, *, name: str = "page_size", default: int = DEFAULT_PAGE_SIZE) -> int:
    """``?page_size=``: absent means ``default``; anything but 1..MAX_PAGE_SIZE is a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise ValidationError({name: [_("Enter a whole number from 1 to %(max)s.") % {"max": MAX_PAGE_SIZE}]})
    return int(text)


_PAGE_SCHEMA = {"type": "integer", "minimum": 1}
_PAGE_SIZE_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}

# For views that paginate by hand (``DefaultPagination().paginate_queryset``) and so need
# ``@extend_schema(parameters=[...])`` to document the same parameters.
PAGE_PARAMETERS = [
    OpenApiParameter("page", _PAGE_SCHEMA, description="Page number (1-based)."),
    OpenApiParameter(
        "page_size",
        _PAGE_SIZE_SCHEMA,
        description=f"Rows per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}).",
    ),
]


class DefaultPagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()  # "page=last" is not a page number

    def get_page_size(self, request: Request) -> int:
        return page_size_from(request, name=self.page_size_query_param, default=self.page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number (1-based).",
                "schema": _PAGE_SCHEMA,
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}).",
                "schema": _PAGE_SIZE_SCHEMA,
            },
        ]

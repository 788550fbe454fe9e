"""Tenant isolation: walk every DRF view and fail if one that serves tenant data is unscoped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.generics import GenericAPIView

from apps.core.api.viewsets import ScopedViewSetMixin


def _views(patterns: list[Any]) -> Iterator[type]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _views(p.url_patterns)
        elif isinstance(p, URLPattern):
            cls = getattr(p.callback, "cls", None) or getattr(p.callback, "view_class", None)
            if cls is not None:
                yield cls


def _owns_tenant_rows(view: type) -> bool:
    model = getattr(view, "model", None) or getattr(getattr(view, "queryset", None), "model", None)
    serializer = getattr(view, "serializer_class", None)
    meta_model = getattr(getattr(serializer, "Meta", None), "model", None)
    return any(m is not None and any(f.name == "user" for f in m._meta.fields) for m in (model, meta_model))


def test_every_generic_view_over_tenant_rows_is_scoped() -> None:
    generic = [v for v in set(_views(get_resolver().url_patterns)) if issubclass(v, GenericAPIView)]
    tenant_views = [v for v in generic if _owns_tenant_rows(v)]
    assert tenant_views, "the walk found no tenant views: it is not looking in the right place"
    unscoped = [v.__name__ for v in tenant_views if not issubclass(v, ScopedViewSetMixin)]
    assert unscoped == []

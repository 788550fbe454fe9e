"""The scoped base for every API resource that holds tenant data.

Scoping is not a convention a subclass can forget: ``get_queryset`` always filters by the request's
user (whatever ``get_base_queryset`` returns), creates always set the owner from the request, and
a subclass that tries to override either hook fails at import time.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from rest_framework import serializers, viewsets

_SEALED = ("get_queryset", "perform_create", "perform_update")


class ScopedViewSetMixin:
    """Mix into a DRF GenericViewSet. Subclasses set ``model`` and may refine ``get_base_queryset``."""

    model: ClassVar[type[models.Model]]
    request: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _SEALED:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides {name}(), which would bypass tenant scoping; "
                    "refine get_base_queryset() or the serializer instead."
                )

    def get_base_queryset(self) -> models.QuerySet[Any]:
        """The rows this resource exposes, before scoping. Add select_related/ordering here."""
        return self.model._default_manager.all()

    def get_queryset(self) -> models.QuerySet[Any]:
        return self.get_base_queryset().filter(user_id=self.request.user.pk)

    def perform_create(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.save(user=self.request.user)

    def perform_update(self, serializer: serializers.BaseSerializer[Any]) -> None:
        serializer.save(user=self.request.user)


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):  # type: ignore[misc]
    """CRUD over the request user's own rows; another user's row is a 404."""


class ScopedReadOnlyModelViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[misc]
    """Read-only list/retrieve over the request user's own rows."""

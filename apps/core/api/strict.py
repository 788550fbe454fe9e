"""JSON bodies are taken at their documented types: no silent coercion.

DRF turns ``0`` into ``"0"`` for a text field, ``"true"``/``1`` into ``True`` for a boolean and
``"5"`` into ``5`` for a number. The API documents JSON types (text is a string, a flag is a
boolean, money is a decimal string) and a client that sends another type has a bug it should hear
about, so a JSON body with a value of the wrong type is a 400 naming the field. Query strings are
text by nature and stay as DRF parses them, except that an empty value is refused where the field
takes no blank (DRF would read it as "left out").

``install()`` wraps ``Serializer.to_internal_value`` once at start-up, so every serializer that
reads a JSON body (nested ones and list items included) follows the rule without opting in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import serializers

_INSTALLED = "_strict_json_types"
# Plain decimal notation, as documented: no exponent, no "+", no surrounding spaces.
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _choice_types(field: serializers.ChoiceField) -> set[type]:
    return {type(key) for key in field.choices}


def json_type_problem(field: serializers.Field[Any, Any, Any, Any], value: Any) -> Any:
    """Why ``value`` (from a JSON body) is the wrong type for ``field``, or None.

    The answer is a message, or a dict/list of messages for a list's or a mapping's items. Null is
    left to the field (``allow_null`` decides)."""
    if value is None:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else _("Send true or false.")
    if isinstance(field, serializers.IntegerField):
        whole = _is_number(value) and float(value).is_integer()
        return None if whole else _("Send a whole number.")
    if isinstance(field, serializers.FloatField):
        return None if _is_number(value) else _("Send a number.")
    if isinstance(field, serializers.DecimalField):
        # Money is exact: a JSON number is a binary float, so amounts travel as decimal text.
        if isinstance(value, Decimal) or (isinstance(value, str) and _DECIMAL.fullmatch(value)):
            return None
        return _("Send the amount as a decimal string, for example “12.50”.")
    if isinstance(field, (serializers.DateTimeField, serializers.DateField, serializers.TimeField)):
        if isinstance(value, (str, dt.date, dt.time)):
            return None
        return _("Send the date as text, YYYY-MM-DD.")
    if isinstance(field, serializers.CharField):
        return None if isinstance(value, str) else _("Send text (a JSON string).")
    if isinstance(field, serializers.ChoiceField) and not isinstance(field, serializers.MultipleChoiceField):
        if _choice_types(field) == {str} and not isinstance(value, str):
            return _("Send one of the listed values as text.")
        return None
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        problems = {i: p for i, item in enumerate(value) if (p := json_type_problem(field.child, item))}
        return problems or None
    if isinstance(field, serializers.DictField) and isinstance(value, Mapping):
        problems = {k: p for k, item in value.items() if (p := json_type_problem(field.child, item))}
        return problems or None
    return None  # nested serializers check their own fields; JSONField takes any JSON


def json_type_problems(serializer: serializers.Serializer[Any], data: Any) -> dict[str, Any]:
    """Per field of ``serializer``, the type problems of ``data`` (a JSON object's values).

    For a query string: an empty value (``?status=``) of a field that takes no blank. DRF reads it
    as "left out", which the documented schema (an enum, a date, a number) does not allow."""
    problems: dict[str, Any] = {}
    if isinstance(data, QueryDict):
        for field in serializer._writable_fields:
            name = str(field.field_name)
            if data.get(name) == "" and not getattr(field, "allow_blank", False):
                problems[name] = [_("Leave the parameter out or give it a value.")]
        return problems
    if not isinstance(data, Mapping):
        return problems
    for field in serializer._writable_fields:
        name = str(field.field_name)
        if name in data:
            problem = json_type_problem(field, data[name])
            if problem:
                problems[name] = problem if isinstance(problem, dict) else [problem]
    return problems


def install() -> None:
    """Wrap ``Serializer.to_internal_value`` with the type check (idempotent)."""
    original: Callable[..., Any] = serializers.Serializer.to_internal_value
    if getattr(original, _INSTALLED, False):
        return

    def to_internal_value(self: serializers.Serializer[Any], data: Any) -> Any:
        problems = json_type_problems(self, data)
        if problems:
            raise serializers.ValidationError(problems)
        return original(self, data)

    setattr(to_internal_value, _INSTALLED, True)
    serializers.Serializer.to_internal_value = to_internal_value  # type: ignore[method-assign,assignment]

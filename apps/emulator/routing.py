"""The parts of the ``provider`` routing object that change which models may answer."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .catalogue import Model
from .completion import GATED_PARAMETERS

_PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class RoutingPrefs:
    allow_fallbacks: bool = True
    only: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    max_prompt: Decimal | None = None
    max_completion: Decimal | None = None
    # With require_parameters, only models that support every parameter sent may answer.
    required: frozenset[str] = frozenset()

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> RoutingPrefs:
        provider = _object(body.get("provider"))
        max_price = _object(provider.get("max_price"))
        return cls(
            allow_fallbacks=provider.get("allow_fallbacks") is not False,
            only=_names(provider.get("only")),
            ignore=_names(provider.get("ignore")),
            max_prompt=_price(max_price.get("prompt")),
            max_completion=_price(max_price.get("completion")),
            required=_required(body) if provider.get("require_parameters") is True else frozenset(),
        )

    def allows(self, model: Model) -> bool:
        """False when the filters remove every endpoint of ``model`` (a 404 if nothing else is left)."""
        names = {model.provider.lower(), model.provider_slug}
        if self.only and not names & self.only:
            return False
        if names & self.ignore or not self.required <= set(model.supported_parameters):
            return False
        return _within(model.price("prompt"), self.max_prompt) and _within(
            model.price("completion"), self.max_completion
        )


def _required(body: dict[str, Any]) -> frozenset[str]:
    sent = {name for name in body if name in GATED_PARAMETERS}
    response_format = _object(body.get("response_format"))
    if response_format.get("type") == "json_schema":
        sent.add("structured_outputs")
    return frozenset(sent)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> frozenset[str]:
    return frozenset(str(item).lower() for item in value) if isinstance(value, list) else frozenset()


def _price(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _within(per_token: Decimal, max_per_million: Decimal | None) -> bool:
    # max_price is in USD per million tokens; catalogue prices are per token.
    return max_per_million is None or per_token * _PER_MILLION <= max_per_million

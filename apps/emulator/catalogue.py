"""The model catalogue: prices, limits and routing facts read from ``data/models.json``.

The file is a copy of the real ``/models`` example, so prices and limits are real captures. The
facts the catalogue does not carry (which provider serves a model, its endpoint id, how it spells
its finish reasons) are filled in here so responses look like the real service's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from .ids import stable_uuid

DATA_FILE = Path(__file__).with_name("data") / "models.json"

# Provider display names as they appear in live responses; a model not listed here is served by
# the first-party provider of its author.
_PROVIDER_BY_MODEL = {
    "openai/gpt-oss-120b": "DeepInfra",
    "openai/gpt-oss-120b:free": "Chutes",
    "deepseek/deepseek-chat-v3.1": "DeepInfra",
}
_PROVIDER_BY_AUTHOR = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google AI Studio",
    "moonshotai": "Moonshot AI",
    "deepseek": "DeepSeek",
}
# The endpoint ids the real examples use, kept so emulator activity rows match them.
_KNOWN_ENDPOINTS = {
    "openai/gpt-4o-mini": "0b6e1f0a-6f3e-4d5a-9a51-2b7c8f0e4d11",
    "anthropic/claude-sonnet-4.6": "5f1c2d3e-8a9b-4c7d-b6e5-f4a3b2c1d0e9",
}
# Native finish reasons per provider, for (stop, length, tool_calls).
_NATIVE_FINISH = {
    "Anthropic": {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"},
    "Google AI Studio": {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"},
}
# Model-name suffixes that pick a routing variant of the same model, not a different price list.
_ROUTING_SUFFIXES = (":nitro", ":floor", ":online", ":thinking", ":extended")


@dataclass(frozen=True)
class Model:
    id: str
    canonical_slug: str
    provider: str
    endpoint_id: str
    prices: dict[str, Decimal]
    context_length: int
    max_completion_tokens: int | None
    supported_parameters: tuple[str, ...]
    output_modalities: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    def price(self, name: str) -> Decimal:
        """USD per unit; a key that is missing from ``pricing`` means zero."""
        return self.prices.get(name, Decimal(0))

    @property
    def is_free(self) -> bool:
        return self.id.endswith(":free") or (self.price("prompt") == 0 and self.price("completion") == 0)

    @property
    def default_max_tokens(self) -> int:
        return self.max_completion_tokens or self.context_length

    @property
    def supports_reasoning(self) -> bool:
        return "reasoning" in self.supported_parameters

    @property
    def provider_slug(self) -> str:
        return self.provider.lower().replace(" ", "-")

    @property
    def system_fingerprint(self) -> str | None:
        # Only OpenAI reports a fingerprint; other providers send null.
        return "fp_efad92c60b" if self.provider == "OpenAI" else None

    @property
    def service_tier(self) -> str | None:
        return "default" if self.provider == "OpenAI" else None

    def native_finish(self, finish_reason: str | None) -> str | None:
        if finish_reason is None:
            return None
        return _NATIVE_FINISH.get(self.provider, {}).get(finish_reason, finish_reason)


def _model_from_raw(raw: dict[str, Any]) -> Model:
    model_id = raw["id"]
    author = model_id.split("/", 1)[0]
    provider = _PROVIDER_BY_MODEL.get(model_id) or _PROVIDER_BY_AUTHOR.get(author, author.title())
    top = raw.get("top_provider") or {}
    pricing = raw.get("pricing") or {}
    return Model(
        id=model_id,
        canonical_slug=raw.get("canonical_slug") or model_id,
        provider=provider,
        endpoint_id=_KNOWN_ENDPOINTS.get(model_id) or stable_uuid(f"endpoint:{model_id}:{provider}"),
        prices={name: Decimal(str(value)) for name, value in pricing.items() if not isinstance(value, list)},
        context_length=int(raw.get("context_length") or top.get("context_length") or 0),
        max_completion_tokens=top.get("max_completion_tokens"),
        supported_parameters=tuple(raw.get("supported_parameters") or ()),
        output_modalities=tuple((raw.get("architecture") or {}).get("output_modalities") or ("text",)),
        raw=raw,
    )


class Catalogue:
    """Read-only after construction, so it is shared between threads without a lock."""

    def __init__(self, raw_models: list[dict[str, Any]]) -> None:
        self.raw_models = raw_models
        self.models = [_model_from_raw(raw) for raw in raw_models]
        self._by_id = {model.id: model for model in self.models}

    def get(self, slug: str) -> Model | None:
        """Resolve a requested slug, ignoring routing suffixes such as ``:nitro``."""
        if slug in self._by_id:
            return self._by_id[slug]
        for suffix in _ROUTING_SUFFIXES:
            if slug.endswith(suffix):
                return self._by_id.get(slug.removesuffix(suffix))
        return None

    def by_permaslug(self, slug: str) -> Model | None:
        return next((model for model in self.models if model.canonical_slug == slug), None)


@cache
def _load_file(path: Path) -> tuple[dict[str, Any], ...]:
    with path.open(encoding="utf-8") as handle:
        return tuple(json.load(handle)["data"])


def load_catalogue(path: Path | None = None) -> Catalogue:
    # Each emulator gets its own list of dicts, so one test cannot alter another's catalogue.
    raw = _load_file(path or DATA_FILE)
    return Catalogue(json.loads(json.dumps(list(raw))))

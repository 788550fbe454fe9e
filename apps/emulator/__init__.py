"""A local OpenRouter for development and tests (OpenRouter's documented behaviour and field set).

``Emulator`` is a plain WSGI application holding accounts, keys, a billing ledger and scripted
faults. Serve it in-process with ``emulator.transport()`` (an ``httpx`` transport) or on a port
with ``manage.py openrouter_emulator`` (threaded, streams SSE unbuffered, control endpoints on).

Choices where OpenRouter's documentation leaves room (each is what a careful client should be ready for):

- Faults on chat are applied after OpenRouter's own checks (auth, 402, 403, free-model 429), as
  upstream failures are. On other endpoints they apply before the handler runs. The admission
  faults ``insufficient_credits`` (402), ``key_limit`` (403, ``window=``) and ``free_rate_limit``
  (429 with ``X-RateLimit-*`` and ``Retry-After``, ``scope=minute|day``) stand for those checks
  failing; ``moderation`` (403 with ``reasons``/``flagged_input``/``provider_name``/``model_slug``
  metadata) is a provider's refusal, so ``models[]`` falls back from it.
- ``GET /generation`` reports ``origin`` as the caller's ``HTTP-Referer``, ``""`` when none.
- Billed faults: ``read_timeout`` (the request was processed, only the answer was lost),
  ``slow_trickle``, ``truncated`` (cut in transit), ``missing_usage``, ``stream_no_usage``, and
  ``midstream_error`` (partial usage). ``rate_limit``, ``status``, ``non_json``, ``html`` and
  ``error_200`` bill nothing. ``rate_limit`` and ``status`` (except 400) fall back to the next
  ``models[]`` entry unless ``provider.allow_fallbacks`` is false; a fault may name ``model=``.
- A stream closed early by the client is billed for what was sent and recorded as cancelled.
- ``max_price`` / ``only`` / ``ignore`` routing filters also apply to fallback models.
- Prompt caching only happens for ``cache_control`` breakpoints, so plain requests always give the
  same token counts.
- ``limit_remaining`` never goes below zero; the 404 for an unknown key hash says "Key not found".
- A management key on ``/generation`` gets 401 "User not found." (it cannot see inference data).
- ``/keys`` lists inference keys only; management keys are managed elsewhere in OpenRouter.
"""

from .demo import DEMO
from .emulator import Emulator
from .state import Account, GenerationRecord, RecordedRequest

__all__ = ["DEMO", "Account", "Emulator", "GenerationRecord", "RecordedRequest"]

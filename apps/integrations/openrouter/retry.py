"""The retry policy for calls to OpenRouter.

What is retried
    * HTTP 429 (rate limited), 502 (provider error), 503 (unavailable) and the other 5xx that mean
      "try again" (500, 524, 529): OpenRouter did not run the request, so nothing was billed.
    * Connection failures that happened *before* the request was sent
      (``OutboundHTTPError.sent is False``: connect error, connect timeout, pool timeout).

What is never retried
    * 400, 401, 402, 403, 404 (and 408, 413, 422): retrying cannot change the answer, and a
      401/402/403 must reach the user as it is. (One exception: ``generation()`` retries the
      documented 404 "Generation not found", which OpenRouter answers for a few seconds after a
      completion, with the same backoff and deadline.)
    * A read timeout, or any failure after the request may have been processed: a timeout after
      sending, a connection broken mid-response, a 200 carrying ``error``, an unreadable 200. The
      call may have been billed; it is reported, and reconciliation settles it.
    * A stream, once its response has started: retries happen only before the first byte.

How long to wait
    * ``Retry-After`` (seconds or an HTTP date) when OpenRouter sends it: exactly that long.
    * Otherwise full-jitter exponential backoff: ``uniform(0, min(cap, base * 2**(n - 1)))``
      before retry ``n`` (n = 1 after the first failed attempt), with ``base=0.25``, ``cap=8``.

Limits
    * At most ``max_attempts`` attempts in all (default 4: three 429s then a 200 succeeds, with
      ``attempts == 4``; ``generation()`` allows ``generation_max_attempts``).
    * One overall deadline across every attempt and wait (``deadline`` seconds, default 90): if
      the next wait would end past the deadline, no wait happens and the last error is raised.

The policy is pure: :meth:`RetryPolicy.delay` maps (error, attempt, elapsed) to a delay or
``None``; the client owns the clock and the sleep, which tests replace with fakes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from .errors import GenerationNotFoundError, OpenRouterError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base: float = 0.25
    cap: float = 8.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)
    generation_max_attempts: int = 12

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.generation_max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base < 0 or self.cap < 0:
            raise ValueError("base and cap must not be negative")

    def backoff(self, attempt: int) -> float:
        """Full jitter: a uniform wait in ``[0, min(cap, base * 2**(attempt - 1))]``."""
        ceiling = min(self.cap, self.base * 2 ** max(0, attempt - 1))
        return self.rng.uniform(0, ceiling)

    def should_retry(self, error: OpenRouterError, *, retry_not_found: bool = False) -> bool:
        if retry_not_found and isinstance(error, GenerationNotFoundError):
            return True
        return error.retryable

    def delay(
        self,
        error: OpenRouterError,
        attempt: int,
        elapsed: float,
        deadline: float = math.inf,
        *,
        retry_not_found: bool = False,
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or ``None`` to give up and raise ``error``.

        ``attempt`` is the number of attempts made so far (1 after the first failure);
        ``elapsed`` is the time since the first attempt started; ``deadline`` is the overall
        budget in seconds, measured from the same start.
        """
        if not self.should_retry(error, retry_not_found=retry_not_found):
            return None
        limit = self.generation_max_attempts if retry_not_found else self.max_attempts
        if attempt >= limit:
            return None
        wait = error.retry_after if error.retry_after is not None else self.backoff(attempt)
        if elapsed + wait > deadline:
            return None
        return wait

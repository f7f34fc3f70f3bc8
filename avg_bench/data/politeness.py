"""Being a polite client of a video host: one rate limit for all workers, backoff, a circuit breaker.

Every worker thread asks :class:`RateLimiter` before each request to the host, so N workers together
never exceed ``requests_per_minute``. A failed transfer waits :func:`backoff_delay` (exponential,
with jitter so workers do not retry in lockstep; a 429's ``Retry-After`` wins when longer). The
first bot check trips :class:`CircuitBreaker`: every worker stops taking clips, because each further
request makes the block longer.
"""

from __future__ import annotations

import random
import threading
import time


class RateLimiter:
    """At most ``requests_per_minute`` request starts per minute across threads (0: unlimited)."""

    def __init__(self, requests_per_minute: float, *, clock=time.monotonic, sleep=time.sleep) -> None:
        if requests_per_minute < 0:
            raise ValueError("requests_per_minute must be >= 0")
        self.interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def acquire(self) -> float:
        """Wait for this request's slot; returns the seconds waited."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait


def backoff_delay(attempt: int, *, base_s: float, cap_s: float, retry_after_s: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, ...): ``base * 2**(attempt-1)``, capped,
    times a jitter in [1, 1.5); at least the host's ``Retry-After`` (also capped).

    >>> backoff_delay(3, base_s=1.0, cap_s=60.0, rng=random.Random(0)) >= 4.0
    True
    >>> backoff_delay(1, base_s=1.0, cap_s=60.0, retry_after_s=30, rng=random.Random(0)) >= 30
    True
    """
    rng = rng or random
    delay = min(cap_s, base_s * 2 ** max(0, attempt - 1)) * (1.0 + 0.5 * rng.random())
    if retry_after_s is not None:
        delay = max(delay, min(cap_s, float(retry_after_s)))
    return delay


class CircuitBreaker:
    """Opens once, at the first bot check, and stays open for the rest of the run."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self.reason: str | None = None
        self.clip_id: str | None = None

    def trip(self, clip_id: str, reason: str) -> None:
        if not self._open.is_set():
            self.clip_id, self.reason = clip_id, reason
            self._open.set()

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early if the breaker opens; True when it is open."""
        return self._open.wait(seconds)

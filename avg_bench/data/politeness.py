"""Being a polite client of a video host: one rate limit for all workers, backoff, a circuit breaker.

Every worker thread asks :class:`RateLimiter` before each fetch, so N workers together never exceed
``requests_per_minute`` fetches, nor a host's ceiling of HTTP requests, and a 429's ``Retry-After``
pauses that host for all of them. A failed transfer waits :func:`backoff_delay` (exponential,
with jitter so workers do not retry in lockstep; a 429's ``Retry-After`` wins when longer). The
first bot check trips :class:`CircuitBreaker`: every worker stops taking clips, because each further
request makes the block longer.
"""

from __future__ import annotations

import random
import threading
import time


class RateLimiter:
    """The build's manners toward each host, shared by every worker thread.

    Three rules, each checked before a fetch (an info extraction, a section download, a page peek)
    starts:

    * ``requests_per_minute`` (``--rate``) counts *fetches*, all hosts together: one section download
      is one fetch however many HTTP requests ffmpeg makes for it (0: unlimited).
    * ``host_requests_per_minute`` (``--host-requests``) is a ceiling on *HTTP requests* per host in any
      60 s window: a fetch waits until the host's last minute holds fewer; callers report the
      requests they make with :meth:`count` (ffmpeg's are counted from its log as they happen).
    * :meth:`hold` pauses one host for every worker (a 429's ``Retry-After``): nobody sends it
      anything until the pause ends.
    """

    #: The longest pause one Retry-After sets (as the backoff cap): a host asking for an hour is retried sooner, and a
    #: clip still refused after its retries is left for --retry-failed.
    max_pause_s = 300.0

    def __init__(self, requests_per_minute: float, *, host_requests_per_minute: float = 0.0, clock=time.monotonic,
                 sleep=time.sleep) -> None:
        if requests_per_minute < 0 or host_requests_per_minute < 0:
            raise ValueError("requests_per_minute and host_requests_per_minute must be >= 0")
        self.interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self.ceiling = host_requests_per_minute
        self._next = 0.0
        self._paused: dict[str, float] = {}
        self._recent: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def acquire(self, host: str | None = None) -> float:
        """Wait for this fetch's slot (and for ``host`` to be neither paused nor at its ceiling); returns seconds waited."""
        waited = 0.0
        while host is not None:
            with self._lock:
                now = self._clock()
                wait = self._paused.get(host, 0.0) - now
                if self.ceiling:
                    recent = [t for t in self._recent.get(host, []) if t > now - 60.0]
                    self._recent[host] = recent
                    if len(recent) >= self.ceiling:
                        wait = max(wait, recent[len(recent) - int(self.ceiling)] + 60.0 - now)
            if wait <= 0:
                break
            self._sleep(wait)
            waited += wait
        if not self.interval:
            return waited
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return waited + max(0.0, wait)

    def count(self, host: str, requests: int = 1) -> None:
        """Record ``requests`` HTTP requests just sent to ``host`` (for the per-host ceiling)."""
        if self.ceiling and requests > 0:
            with self._lock:
                self._recent.setdefault(host, []).extend([self._clock()] * requests)

    def hold(self, host: str, seconds: float) -> None:
        """Pause ``host`` for ``seconds`` (at most :attr:`max_pause_s`) for every worker; a longer pause wins."""
        with self._lock:
            self._paused[host] = max(self._paused.get(host, 0.0), self._clock() + min(seconds, self.max_pause_s))

    def paused_for(self, host: str) -> float:
        """Seconds left of ``host``'s pause (0 when it is not paused)."""
        with self._lock:
            return max(0.0, self._paused.get(host, 0.0) - self._clock())


def backoff_delay(attempt: int, *, base_s: float, cap_s: float, retry_after_s: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1, 2, ...).

    ``base * 2**(attempt-1)``, capped, times a jitter in [1, 1.5); at least the host's ``Retry-After`` (also capped).

    >>> backoff_delay(3, base_s=1.0, cap_s=60.0, rng=random.Random(0)) >= 4.0
    True
    >>> backoff_delay(1, base_s=1.0, cap_s=60.0, retry_after_s=30, rng=random.Random(0)) >= 30
    True
    """
    draw = (rng or random).random()
    delay = min(cap_s, base_s * 2 ** max(0, attempt - 1)) * (1.0 + 0.5 * draw)
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
        """Open the breaker (first call only), recording which clip tripped it and why."""
        if not self._open.is_set():
            self.clip_id, self.reason = clip_id, reason
            self._open.set()

    @property
    def is_open(self) -> bool:
        """Whether the breaker is open (no more requests this run)."""
        return self._open.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early if the breaker opens; True when it is open."""
        return self._open.wait(seconds)

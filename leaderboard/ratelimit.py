"""Token buckets: how often one client (and everyone together) may make the server compute.

Used for comparisons of arbitrary entry pairs: a cached pair is free, a new one costs a paired
bootstrap, so new ones are limited per client address and in total.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from avg_bench.errors import AvgBenchError


class RateLimited(AvgBenchError):
    """Too many requests; ``retry_after`` seconds until the next one is allowed."""

    def __init__(self, what: str, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(f"too many {what}; try again in {self.retry_after} s (cached results are not limited)")


class RateLimiter:
    """``per_minute`` events per client, bursts up to ``burst``; ``total_per_minute`` over all clients.

    At most ``max_clients`` buckets are kept (least recently used dropped), so the limiter's own
    memory is bounded too.
    """

    def __init__(self, per_minute: float, *, burst: int, total_per_minute: float, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.total_rate = total_per_minute / 60.0
        self.total_burst = max(float(burst), float(total_per_minute))  # a minute's worth at once
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._total = (self.total_burst, clock())
        self._lock = threading.Lock()

    @staticmethod
    def _refill(level: float, at: float, rate: float, cap: float, now: float) -> float:
        return min(cap, level + (now - at) * rate)

    def take(self, client: str, what: str = "requests") -> None:
        """Spend one event for ``client``, or raise :class:`RateLimited`."""
        with self._lock:
            now = self.clock()
            level, at = self._buckets.pop(client, (self.burst, now))
            level = self._refill(level, at, self.rate, self.burst, now)
            total = self._refill(*self._total, self.total_rate, self.total_burst, now)
            if level < 1.0 or total < 1.0:
                self._buckets[client] = (level, now)
                wait = max((1.0 - level) / self.rate if level < 1.0 else 0.0, (1.0 - total) / self.total_rate if total < 1.0 else 0.0)
                self._total = (total, now)
                raise RateLimited(what, wait)
            self._buckets[client] = (level - 1.0, now)
            self._total = (total - 1.0, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)

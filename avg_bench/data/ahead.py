"""Fetching the next clip's section while the current ones are being cut.

Why: per clip, the fetch (yt-dlp info, the section download, its check) waits on the host and on
ffmpeg's start-up, and the canonical cut is one busy core. Done one after the other, one worker
leaves the second core idle for the whole fetch; with one section fetched ahead, the fetch of clip
k+1 runs while clip k is cut.

Manners are unchanged: the fetch ahead goes through the same rate limiter (``--rate``, the host
ceilings, a ``Retry-After`` pause) as every other fetch. At most one section is fetched ahead at a
time, and only when a worker has just started *cutting* (its own fetch succeeded), so a host that
refuses or serves a bot check gets no request it would not have got without fetching ahead; none is
started once ``may_start`` says no (the circuit breaker is open, or the run is stopping).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")


class FetchAhead(Generic[Item]):
    """One fetch ahead of the workers, in the order the pool hands items out.

    Args:
        fetch: fetches one item (raises its failure); runs in this object's own thread.
        discard: cleans up after a fetched result nobody claimed (the run ended first).
        may_start: False stops any further fetch ahead.
        key: an item's identity.
    """

    def __init__(self, fetch: Callable[[Item], Any], *, discard: Callable[[Any], None], may_start: Callable[[], bool],
                 key: Callable[[Item], Hashable]) -> None:
        self._fetch, self._discard, self._may_start, self._key = fetch, discard, may_start, key
        self._queue: list[Item] = []
        self._claimed: set[Hashable] = set()
        self._ahead: tuple[Hashable, Future] | None = None
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="avg-bench-fetch-ahead")

    def plan(self, items: Sequence[Item]) -> None:
        """The items the workers will take, in order (a FIFO pool takes them in submission order)."""
        with self._lock:
            self._queue = list(items)

    def claim(self, item: Item) -> Future | None:
        """The fetch ahead of ``item`` (running or done) for the worker that takes it, or None: fetch it yourself.

        The future's result is the fetch's result (None if it did not start); its exception, the fetch's failure.
        """
        with self._lock:
            self._claimed.add(self._key(item))
            if self._ahead is None or self._ahead[0] != self._key(item):
                return None
            _, future = self._ahead
            self._ahead = None
        if future.cancel():  # queued but not started: the worker is as quick
            return None
        return future

    def start_next(self) -> None:
        """Fetch the next unclaimed item, unless one is already fetched ahead (call it when a cut starts)."""
        with self._lock:
            if self._ahead is not None or not self._may_start():
                return
            while self._queue and self._key(self._queue[0]) in self._claimed:
                self._queue.pop(0)
            if not self._queue:
                return
            item = self._queue.pop(0)
            self._ahead = (self._key(item), self._pool.submit(self._guarded, item))

    def _guarded(self, item: Item) -> object | None:
        """The fetch, or None when it may no longer start (the claiming worker then fetches, if it still runs)."""
        return self._fetch(item) if self._may_start() else None

    def close(self) -> None:
        """Wait for a fetch in flight; discard a result nobody claimed."""
        with self._lock:
            left, self._ahead = self._ahead, None
        self._pool.shutdown(wait=True, cancel_futures=True)
        if left is not None and not left[1].cancelled() and left[1].exception() is None and left[1].result() is not None:
            self._discard(left[1].result())

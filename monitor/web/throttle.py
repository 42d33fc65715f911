"""Login attempts, rate-limited: a password cannot be guessed at network speed.

Failures are counted per client address and per user name in a sliding window; while either
is over its limit, the login form answers 429 with Retry-After, right or wrong password alike
(so the answer says nothing about the password). Kept in memory: one `monitor web` process
serves the embedded deployment; behind several processes each keeps its own count, which
still bounds guessing to a small multiple.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

WINDOW_SECONDS = 15 * 60
MAX_PER_ADDRESS = 10
MAX_PER_NAME = 5


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - WINDOW_SECONDS:
            times.popleft()
        return times

    def retry_after(self, address: str, name: str) -> int:
        """Seconds until a login from `address` for `name` may be tried again; 0 when now."""
        now = self._clock()
        waits = []
        with self._lock:
            for key, limit in ((f"a:{address}", MAX_PER_ADDRESS), (f"n:{name}", MAX_PER_NAME)):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(int(times[0] + WINDOW_SECONDS - now) + 1)
        return max(waits, default=0)

    def failed(self, address: str, name: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (f"a:{address}", f"n:{name}"):
                self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"n:{name}", None)

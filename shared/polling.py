"""The loop every background worker runs: step, sleep when idle, back off on failure.

A worker (a relay, the projector) supplies one ``step`` that returns True when it is caught up.
Failures are reported to ``on_error`` and retried with exponential backoff up to
:data:`MAX_BACKOFF` seconds; they never end the loop, and the worker's state says what failed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

MAX_BACKOFF = 5.0


def run_until_stopped(
    step: Callable[[], bool],
    stop: threading.Event,
    wakeup: threading.Event,
    interval: float,
    on_error: Callable[[Exception, float], None],
) -> None:
    backoff = interval
    while not stop.is_set():
        try:
            idle = step()
        except Exception as exc:  # an outage: report it, back off, retry
            on_error(exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        backoff = interval
        if idle:
            # A local save sets wakeup, so an idle worker reacts at once.
            wakeup.wait(interval)
            wakeup.clear()


def start_worker(
    name: str, run: Callable[[threading.Event, float], None], stop: threading.Event, interval: float
) -> threading.Thread:
    thread = threading.Thread(target=run, args=(stop, interval), name=name, daemon=True)
    thread.start()
    return thread

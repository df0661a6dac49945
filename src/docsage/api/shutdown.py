"""Draining on SIGTERM: readiness turns false at once, the server keeps serving for
``DOCSAGE_SHUTDOWN_DELAY_S`` (so a load balancer that polls ``/readyz`` stops sending new
requests before the listener closes), then uvicorn's own graceful shutdown runs with
``DOCSAGE_SHUTDOWN_GRACE_S`` for what is in flight. A stream still running shortly before
the grace period ends stops itself with an error event and ``[DONE]``
(``Service.begin_drain``, ``openai_stream.AnswerFeed``), rather than being cut mid-body when
uvicorn cancels what is left.

uvicorn installs its signal handlers before the app starts, so the lifespan wraps them; with
uvicorn in a thread (tests, embedding) there are no signal handlers to wrap.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from types import FrameType

from docsage.service.core import Service


def install_drain(service: Service, loop: asyncio.AbstractEventLoop) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous):
        return
    delay = service.settings.shutdown_delay_s

    def draining(sig: int, frame: FrameType | None) -> None:
        first = not service.draining
        service.begin_drain()
        if first and delay > 0:
            loop.call_soon_threadsafe(loop.call_later, delay, previous, sig, frame)
        else:
            previous(sig, frame)

    signal.signal(signal.SIGTERM, draining)

"""The gunicorn worker that steps back from accepting when connections queue up, so that sibling
processes take them (webapp/serve/gunicorn_worker.py): driven here on a real listening socket."""
import logging
import os
import selectors
import socket
import time

import pytest
from gunicorn.config import Config

from webapp.serve import gunicorn_worker
from webapp.serve.gunicorn_worker import BalancedThreadWorker

PAUSE = 0.3  # long enough that a slow machine cannot outrun it between two lines of the test


@pytest.fixture
def listening(monkeypatch):
    monkeypatch.setattr(gunicorn_worker, "ACCEPT_PAUSE_SECONDS", PAUSE)
    listener = socket.create_server(("127.0.0.1", 0))
    worker = BalancedThreadWorker(0, os.getppid(), [listener], None, 30, Config(), logging.getLogger("test"))
    worker.poller = selectors.DefaultSelector()
    accepted = []
    worker.enqueue_req = accepted.append  # what the thread pool would be handed
    worker.set_accept_enabled(True)
    clients = []

    def connect(count: int) -> None:
        clients.extend(socket.create_connection(listener.getsockname(), timeout=5) for _ in range(count))
        time.sleep(0.05)  # handshakes done: the connections wait in the listen queue

    yield worker, listener, accepted, connect
    for sock in (*clients, *(conn.sock for conn in accepted), listener):
        sock.close()
    worker.poller.close()
    worker.tmp.close()


def test_accepting_with_another_connection_waiting_pauses_accepting(listening):
    worker, listener, accepted, connect = listening
    connect(2)
    worker.accept(listener)
    assert len(accepted) == 1 and not worker._accepting  # one more waits: a sibling may take it
    worker.set_accept_enabled(True)
    assert not worker._accepting  # the event loop's next turn does not undo the pause
    started = time.monotonic()
    worker.wait_for_and_dispatch_events(timeout=5.0)
    assert time.monotonic() - started < PAUSE + 0.2  # it wakes when the pause is over, not after 5 s
    time.sleep(max(0.0, started + PAUSE - time.monotonic()) + 0.01)
    worker.set_accept_enabled(True)
    assert worker._accepting
    worker.accept(listener)
    assert len(accepted) == 2 and worker._accepting  # nothing behind the last one: no pause


def test_a_lone_connection_is_accepted_without_a_pause(listening):
    worker, listener, accepted, connect = listening
    connect(1)
    worker.accept(listener)
    assert len(accepted) == 1 and worker._accepting

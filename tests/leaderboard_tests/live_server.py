"""The real server (uvicorn + background scoring worker) on a free loopback port, in a thread."""

from __future__ import annotations

import threading
import time

import uvicorn
from leaderboard_tests.pg_server import free_port

from leaderboard.app import create_app
from leaderboard.service import Leaderboard


class LiveServer:
    def __init__(self, leaderboard: Leaderboard) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(leaderboard=leaderboard, start_worker=True), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the leaderboard server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

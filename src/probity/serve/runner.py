"""Running the gateway: ``serve`` (blocking, for the CLI) and ``ServerThread`` (in-process)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from probity.errors import ProbityError
from probity.serve.config import GatewayConfig

#: Idle keep-alive seconds. uvicorn's default (5 s) races busy clients: a pooled connection
#: the server closes just as the client reuses it fails with a read error.
KEEP_ALIVE_S = 75


def serve(
    cfg: GatewayConfig, *, host: str | None = None, port: int | None = None, log_level: str = "info"
) -> None:
    """Serve ``cfg`` with uvicorn until interrupted. Refuses a non-loopback host without keys."""
    import uvicorn

    from probity.serve.app import create_app

    h = host or cfg.host
    cfg.check_bind(h)
    _request_log(log_level)
    # access_log off: uvicorn's access line holds the client address and path only, but our
    # own one-line log (request id, key id, policy, status) is what operators need.
    uvicorn.run(
        create_app(cfg),
        host=h,
        port=cfg.port if port is None else port,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=KEEP_ALIVE_S,
    )


def _request_log(level: str) -> None:
    """One line per request on stderr: request id, endpoint, key id, policy, status, latency
    (never the prompt or the key)."""
    import logging

    logger = logging.getLogger("probity.serve")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level.upper() if level.upper() in logging._nameToLevel else "INFO")


class ServerThread:
    """A uvicorn server for ``app`` on ``127.0.0.1`` and a free port, in a daemon thread.

    Use as a context manager; ``base_url`` is ``http://127.0.0.1:<port>/v1``. Start-up errors
    (a model that does not load) are raised in the caller's thread.
    """

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
    ) -> None:
        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit TCP_NODELAY on Linux; uvicorn does not set it on sockets it
        # is handed, and without it each response waits 40 ms for the client's delayed ACK.
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=KEEP_ALIVE_S,
            backlog=2048,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="probity-gateway", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self._sock])
        except BaseException as exc:
            self._error = exc

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def start(self, timeout: float = 60.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if self._error is not None or not self._thread.is_alive():
                self._sock.close()
                raise ProbityError(f"the gateway failed to start: {self._error}")
            if time.monotonic() > deadline:
                self.stop()
                raise ProbityError(f"the gateway did not start within {timeout:.0f} s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

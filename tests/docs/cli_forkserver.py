"""A warm ``probity`` for the docs runner: import once, fork per command.

Each ``probity`` command a docs example runs would otherwise start Python and import torch,
transformers and the CLI again (seconds each, minutes per page on a busy machine). This server
imports them once and, for each command, forks a child that runs ``probity.cli.main`` with the
command's own argv, working directory, environment and standard streams (passed as file
descriptors over a Unix socket), so what the example sees is what a fresh process would do.
The ``probity`` shim the runner puts on ``PATH`` (``SHIM`` below) is the client; when the shim
dies (a background ``probity serve &`` stopped at the end of a page), its child is killed.

Run as ``python cli_forkserver.py SOCKET``; it prints ``ready`` once listening.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

SHIM = """#!{python}
import json, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect({sock!r})
msg = json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}}).encode()
socket.send_fds(s, [struct.pack("!I", len(msg)) + msg], [0, 1, 2])
code = s.recv(16)
sys.exit(int(code) if code else 1)
"""


def _recv_exact(conn: socket.socket, n: int, first: bytes) -> bytes:
    data = first
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("client closed")
        data += chunk
    return data


def _child(msg: dict, fds: list[int]) -> None:  # pragma: no cover - runs in a forked child
    for target, fd in zip((0, 1, 2), fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(msg["cwd"])
    os.environ.clear()
    os.environ.update(msg["env"])
    # A fresh interpreter puts $PYTHONPATH first on sys.path; so must the warm one (a docs
    # example runs `PYTHONPATH=. probity curate run ...` to import its own user stage).
    extra = [os.path.abspath(p) for p in msg["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:0] = [p for p in extra if p not in sys.path]
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.argv = ["probity", *msg["argv"]]
    code = 1
    try:
        from probity.cli import main

        code = main(msg["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)


def _serve_one(conn: socket.socket) -> None:
    with conn:
        head, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
        (n,) = struct.unpack("!I", head[:4])
        msg = json.loads(_recv_exact(conn, n + 4, head)[4:])
        pid = os.fork()
        if pid == 0:
            conn.close()
            _child(msg, fds)
        for fd in fds:
            os.close(fd)
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                with contextlib.suppress(OSError):
                    conn.sendall(str(code if code >= 0 else 128 - code).encode())
                return
            readable, _, _ = select.select([conn], [], [], 0.05)
            if readable and not conn.recv(1, socket.MSG_PEEK):  # the shim is gone
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
                    time.sleep(0.5)
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return


def main(path: str) -> None:
    # What most commands import; a child inherits it instead of importing it again.
    import probity.cli

    with contextlib.suppress(ImportError):
        import torch  # noqa: F401
        import transformers  # noqa: F401
        from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: F401

        import probity.lm.hf  # noqa: F401
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=_serve_one, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv[1])

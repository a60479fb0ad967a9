"""Run the fenced examples of README.md and docs/*.md exactly as written.

A page's blocks run in order in one temporary working directory with an empty temporary
Probity home, so an earlier block can create the files a later one uses:

- ``bash``/``sh``/``shell`` blocks run as one ``bash`` script each (``set -e -o pipefail``);
  ``console`` blocks run their ``$ `` lines (and their ``\\`` continuations), the other lines
  are the output shown to the reader and are not compared. ``probity`` on ``PATH`` is the
  one installed beside this Python, with this checkout's sources first.
- ``python`` blocks run in this process, in one namespace per page (a later block sees the
  names an earlier one made), compiled with the page's own file name and line numbers so a
  traceback points at the docs line.
- Any block with ``file=NAME`` in its info string (a YAML policy, a job file, a JSONL sample)
  is written to ``NAME`` in the working directory instead of being run.

Markers in the info string (documented in docs/cli.md):

- ``skip-docs-run REASON``: never run here (a GPU, a cluster, a hub download); the reason is
  required and every such block is reported as a skipped test with it.
- ``slow``: runs only when ``PROBITY_DOCS_SLOW=1`` (``make docs-slow``, also run by
  ``make bench``); otherwise reported as a skipped test.
- ``fake-openai``: before the block runs, the project's scripted OpenAI-compatible server
  (``probity.probes.testing.ScriptedServer``) listens on the port of the block's first
  ``http://127.0.0.1:PORT`` address (it stays up for the rest of the page).

Processes a shell block leaves in the background (``probity serve ... &``) are stopped when
the page ends. A failing block raises :class:`DocsBlockError` naming ``FILE:LINE``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHELL = {"bash", "sh", "shell", "console"}
PYTHON = {"python", "py", "python3"}
BLOCK_TIMEOUT_S = 300
_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*(.*)$")
_URL_PORT = re.compile(r"http://127\.0\.0\.1:(\d+)")


class DocsBlockError(AssertionError):
    """A docs example failed; the message starts with ``FILE:LINE``."""


@dataclass(frozen=True)
class Block:
    """One fenced block: ``line`` is the 1-based line of its first content line."""

    page: Path
    line: int
    lang: str
    info: str
    text: str

    @property
    def where(self) -> str:
        return f"{_rel(self.page)}:{self.line}"

    @property
    def file_target(self) -> str | None:
        m = re.search(r"(?:^|\s)file=(\S+)", self.info)
        return m.group(1) if m else None

    @property
    def skip_reason(self) -> str | None:
        """``None`` to run; else why it is not run here (empty when the reason is missing)."""
        m = re.search(r"(?:^|\s)skip-docs-run\b[:\s]*(.*)$", self.info)
        if m:
            return m.group(1).strip()
        if re.search(r"(?:^|\s)slow\b", self.info) and os.environ.get("PROBITY_DOCS_SLOW") != "1":
            return "marked slow: runs under PROBITY_DOCS_SLOW=1 (make docs-slow, make bench)"
        return None

    @property
    def needs_fake_openai(self) -> bool:
        return bool(re.search(r"(?:^|\s)fake-openai\b", self.info))

    @property
    def runnable(self) -> bool:
        return self.file_target is not None or self.lang in SHELL | PYTHON


def _rel(page: Path) -> str:
    try:
        return str(page.relative_to(ROOT))
    except ValueError:
        return str(page)


def pages() -> list[Path]:
    """README.md and every docs/*.md page, in a stable order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def parse_blocks(page: Path, text: str | None = None) -> list[Block]:
    """Every fenced block of a Markdown page, with its info string split into lang + rest."""
    lines = (page.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group(1), m.group(2), m.group(3).strip()
        if fence.startswith("`") and "`" in info:  # CommonMark: not a fence at all
            raise ValueError(f"{_rel(page)}:{i + 1}: a ``` fence's info string may not hold '`'")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        lang, _, rest = info.partition(" ")
        blocks.append(Block(page, i + 2, lang.lower(), rest.strip(), "\n".join(body) + "\n"))
        i = j + 1
    return blocks


def console_script(text: str) -> str:
    """The commands of a ``console`` block (``$ `` lines and their continuations), with output
    lines blanked so that bash's line numbers still match the page."""
    out: list[str] = []
    continuing = False
    for line in text.splitlines():
        if continuing:
            out.append(line)
        elif line.startswith("$ "):
            out.append(line[2:])
        else:
            out.append("")
            continue
        continuing = line.rstrip().endswith("\\")
    return "\n".join(out) + "\n"


@dataclass
class PageRun:
    """The shared state of one page's run: its cwd, its Python namespace, its servers."""

    cwd: Path
    env: dict[str, str]
    namespace: dict[str, object] = field(default_factory=lambda: {"__name__": "__docs__"})
    _groups: list[int] = field(default_factory=list)
    _servers: list[object] = field(default_factory=list)

    def run(self, block: Block) -> None:
        if block.file_target is not None:
            target = self.cwd / block.file_target
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
            return
        if block.needs_fake_openai:
            self._start_fake_openai(block)
        if block.lang in PYTHON:
            self._run_python(block)
        elif block.lang in SHELL:
            self._run_shell(block)

    def _run_python(self, block: Block) -> None:
        # Pad so that line numbers in a traceback are the page's own.
        code = compile("\n" * (block.line - 1) + block.text, str(block.page), "exec")
        old_cwd, old_home = os.getcwd(), os.environ.get("PROBITY_HOME")
        os.chdir(self.cwd)
        os.environ["PROBITY_HOME"] = self.env["PROBITY_HOME"]
        try:
            exec(code, self.namespace)
        except Exception as exc:
            line = _python_failure_line(exc, block)
            raise DocsBlockError(
                f"{_rel(block.page)}:{line}: python block (starting line {block.line}) raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        finally:
            os.chdir(old_cwd)
            if old_home is None:
                os.environ.pop("PROBITY_HOME", None)
            else:
                os.environ["PROBITY_HOME"] = old_home

    def _run_shell(self, block: Block) -> None:
        script = console_script(block.text) if block.lang == "console" else block.text
        # ERR trap: report the failing line; bash counts the prelude's line too.
        prelude = "set -eE -o pipefail; trap 'echo \"docs-runner: line $LINENO\" >&2' ERR\n"
        proc = subprocess.Popen(
            ["bash", "-c", prelude + script],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # background jobs it leaves are stopped with the page
        )
        self._groups.append(proc.pid)
        try:
            out, err = proc.communicate(timeout=BLOCK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._kill(proc.pid)
            raise DocsBlockError(
                f"{block.where}: shell block did not finish in {BLOCK_TIMEOUT_S} s"
            ) from None
        if proc.returncode != 0:
            m = re.findall(r"docs-runner: line (\d+)", err)
            line = block.line + int(m[-1]) - 2 if m else block.line
            tail = "\n".join(out.strip().splitlines()[-8:] + err.strip().splitlines()[-8:])
            raise DocsBlockError(
                f"{_rel(block.page)}:{line}: shell command exited {proc.returncode}:\n"
                f"  {_line_of(block, line)}\n{tail}"
            )

    def _start_fake_openai(self, block: Block) -> None:
        from http.server import ThreadingHTTPServer

        from probity.probes import testing

        m = _URL_PORT.search(block.text)
        port = int(m.group(1)) if m else 0

        class _OnPort(ThreadingHTTPServer):
            # ScriptedServer binds an ephemeral port; the docs name a fixed one.
            def __init__(self, addr, handler):  # type: ignore[no-untyped-def]
                super().__init__((addr[0], port), handler)

        original = testing.ThreadingHTTPServer
        testing.ThreadingHTTPServer = _OnPort  # type: ignore[misc]
        try:
            server = testing.ScriptedServer().start()
        except OSError as exc:
            raise DocsBlockError(f"{block.where}: cannot start the fake server: {exc}") from exc
        finally:
            testing.ThreadingHTTPServer = original  # type: ignore[misc]
        self._servers.append(server)
        self.env["PROBITY_DOCS_BASE_URL"] = server.base_url

    @staticmethod
    def _kill(pgid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)

    def close(self) -> None:
        for pgid in self._groups:
            self._kill(pgid)
        for server in self._servers:
            server.stop()  # type: ignore[attr-defined]


def _line_of(block: Block, line: int) -> str:
    lines = block.text.splitlines()
    k = line - block.line
    return lines[k] if 0 <= k < len(lines) else ""


def _python_failure_line(exc: BaseException, block: Block) -> int:
    tb = exc.__traceback__
    line = block.line
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(block.page):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    return env


@contextlib.contextmanager
def warm_probity(workdir: Path) -> Iterator[Path | None]:
    """Start ``cli_forkserver.py`` and yield a folder holding a ``probity`` shim that runs
    commands in it (``None`` when it cannot start, or with ``PROBITY_DOCS_FORKSERVER=0``:
    the installed ``probity`` is used then)."""
    if os.environ.get("PROBITY_DOCS_FORKSERVER", "1") == "0" or not hasattr(os, "fork"):
        yield None
        return
    from cli_forkserver import SHIM

    workdir.mkdir(parents=True, exist_ok=True)
    sock = workdir / "probity.sock"
    bindir = workdir / "bin"
    bindir.mkdir(exist_ok=True)
    shim = bindir / "probity"
    shim.write_text(SHIM.format(python=sys.executable, sock=str(sock)), encoding="utf-8")
    shim.chmod(0o755)
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("cli_forkserver.py")), str(sock)],
        env=_base_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        ready = proc.stdout.readline().strip() == "ready" if proc.stdout else False
        yield bindir if ready else None
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def page_run(cwd: Path, home: Path, *, bindir: Path | None = None) -> Iterator[PageRun]:
    """A fresh run context: ``cwd`` and ``PROBITY_HOME`` for both shell and Python blocks;
    ``bindir`` (from :func:`warm_probity`) goes first on ``PATH``."""
    env = _base_env()
    env["PROBITY_HOME"] = str(home)
    path = [os.path.dirname(sys.executable), env.get("PATH", "")]
    if bindir is not None:
        path.insert(0, str(bindir))
    env["PATH"] = os.pathsep.join(path)
    run = PageRun(cwd=cwd, env=env)
    try:
        yield run
    finally:
        run.close()

"""Benchmark: the gateway's latency overhead over calling the upstream directly.

An instant OpenAI-compatible upstream (``probity.serve.echo``) and the gateway (``probity
serve``, default policy, upstream backend, audit log on) run as two separate processes on
127.0.0.1. The same chat requests go to the upstream directly ("peer": what a client pays
without Probity) and through the gateway ("ours"), at concurrency 1, 16 and 64; then streaming
time to first token. Afterwards the audit log must hold exactly one verified record per
gateway request and no request may have failed.

    python bench/gateway.py            # full: 300 / 2000 / 3000 requests
    python bench/gateway.py --quick    # 100 / 400 / 640 requests

Traffic stays on loopback and is bounded in count and time (``--max-seconds``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # this checkout's probity, not an installed one
BODY = {
    "model": "echo",
    "max_tokens": 32,
    "messages": [{"role": "user", "content": "Say something about the river today."}],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not come up within {timeout:.0f} s")


async def run_load(
    url: str,
    n: int,
    concurrency: int,
    *,
    stream: bool = False,
    headers: dict[str, str] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Send ``n`` requests, ``concurrency`` at a time; latencies in ms (TTFT when streaming)
    and one reason per failed request (HTTP status or exception type)."""
    lat: list[float] = []
    errors: list[str] = []
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60.0, headers=headers) as client:

        async def one() -> None:
            async with sem:
                t0 = time.perf_counter()
                try:
                    if stream:
                        async with client.stream("POST", url, json={**BODY, "stream": True}) as r:
                            first = None
                            async for line in r.aiter_lines():
                                if (
                                    first is None
                                    and '"content":"' in line.replace(" ", "")
                                    and '"content":""' not in line.replace(" ", "")
                                ):
                                    first = time.perf_counter()
                            if r.status_code != 200 or first is None:
                                errors.append(f"HTTP {r.status_code}")
                                return
                            lat.append((first - t0) * 1000)
                    else:
                        r = await client.post(url, json=BODY)
                        if r.status_code != 200:
                            errors.append(f"HTTP {r.status_code}")
                            return
                        lat.append((time.perf_counter() - t0) * 1000)
                except httpx.HTTPError as exc:
                    errors.append(type(exc).__name__)

        # warm-up (connections, first policy use), not measured
        for _ in range(min(concurrency, 8)):
            await client.post(url, json=BODY)
        await asyncio.gather(*(one() for _ in range(n)))
    return np.asarray(lat), errors


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(a: np.ndarray, q: float) -> float:
    return float(np.percentile(a, q)) if a.size else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer requests")
    ap.add_argument("--policy", default="default", help="policy the gateway applies")
    ap.add_argument("--max-seconds", type=float, default=600.0, help="stop after this long")
    args = ap.parse_args()
    counts = {1: 100, 16: 400, 64: 640} if args.quick else {1: 300, 16: 2000, 64: 3000}
    n_stream = 50 if args.quick else 200

    tmp = Path(tempfile.mkdtemp(prefix="probity-bench-gw-"))
    env = {
        **os.environ,
        "PROBITY_HOME": str(tmp / "home"),
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    up_port, gw_port = free_port(), free_port()
    audit = tmp / "audit.jsonl"
    cfg = {
        "host": "127.0.0.1",
        "port": gw_port,
        "policy": args.policy,
        "log_requests": False,
        "backend": {
            "kind": "upstream",
            "base_url": f"http://127.0.0.1:{up_port}/v1",
            "model": "echo",
        },
        "audit": {"path": str(audit)},
    }
    (tmp / "gateway.yaml").write_text(json.dumps(cfg))  # JSON is YAML
    up = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import uvicorn; from probity.serve.echo import EchoUpstream; "
            f"uvicorn.run(EchoUpstream(), host='127.0.0.1', port={up_port}, log_level='warning', "
            "access_log=False)",
        ],
        env=env,
    )
    gw = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "probity",
            "serve",
            "--config",
            str(tmp / "gateway.yaml"),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    rows = []
    sent_gw = 0
    errs: dict[str, list[str]] = {"gateway": [], "direct": []}
    cpu0: tuple[float, float] | None = None
    started = time.monotonic()
    try:
        wait_ready(f"http://127.0.0.1:{up_port}/v1/models")
        wait_ready(f"http://127.0.0.1:{gw_port}/healthz")
        direct = f"http://127.0.0.1:{up_port}/v1/chat/completions"
        via = f"http://127.0.0.1:{gw_port}/v1/chat/completions"
        for conc, n in counts.items():
            if time.monotonic() - started > args.max_seconds:
                print(f"stopping early: over {args.max_seconds:.0f} s", file=sys.stderr)
                break
            c_up = cpu_seconds(up.pid)
            peer, e1 = asyncio.run(run_load(direct, n, conc))
            c_up = cpu_seconds(up.pid) - c_up
            c_gw = cpu_seconds(gw.pid)
            ours, e2 = asyncio.run(run_load(via, n, conc))
            c_gw = cpu_seconds(gw.pid) - c_gw
            if conc == 16:
                cpu0 = (c_gw / n * 1000, c_up / n * 1000)
            sent_gw += n + min(conc, 8)
            errs["direct"] += e1
            errs["gateway"] += e2
            for q in (50, 99):
                o, p = pct(ours, q), pct(peer, q)
                rows.append((f"chat c={conc} p{q} latency (ms)", o, p, p / o, o - p))
        peer, e1 = asyncio.run(run_load(direct, n_stream, 4, stream=True))
        ours, e2 = asyncio.run(run_load(via, n_stream, 4, stream=True))
        sent_gw += n_stream + 4
        errs["direct"] += e1
        errs["gateway"] += e2
        for q in (50, 99):
            o, p = pct(ours, q), pct(peer, q)
            rows.append((f"stream c=4 p{q} time to first token (ms)", o, p, p / o, o - p))
        metrics = httpx.get(f"http://127.0.0.1:{gw_port}/metrics").text
    finally:
        gw.terminate()
        up.terminate()
        gw.wait(30)
        up.wait(30)

    from probity.guard import AuditLog

    check = AuditLog.verify(audit)
    records = sum(1 for _ in audit.open())
    answered = sum(
        float(ln.rsplit(" ", 1)[1])
        for ln in metrics.splitlines()
        if ln.startswith("probity_requests_total{")
    )
    print("| case | ours (gateway) | peer (direct upstream) | ratio (peer/ours) | overhead (ms) |")
    print("|---|---|---|---|---|")
    for case, o, p, r, d in rows:
        print(f"| {case} | {o:.2f} | {p:.2f} | {r:.3f} | {d:+.2f} |")
    if cpu0 is not None:
        o, p = cpu0
        print(
            f"| server CPU per request, c=16 (ms) | {o:.2f} | {p:.2f} | {p / o:.3f} | "
            f"{o - p:+.2f} |"
        )
    for side in ("gateway", "direct"):
        reasons = ", ".join(f"{r} x{errs[side].count(r)}" for r in sorted(set(errs[side])))
        print(f"| client-side failures, {side} | {len(errs[side])} | {reasons} | | |")
    print(
        f"| audit records / requests the gateway answered / sent | {records} / "
        f"{answered:.0f} / {sent_gw} (chain {'verified' if check.ok else 'BROKEN'}) | | | |"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, httpx {httpx.__version__}; "
        f"policy {args.policy!r}; load average {os.getloadavg()[0]:.1f} at the end"
    )


if __name__ == "__main__":
    main()

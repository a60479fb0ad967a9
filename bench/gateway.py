"""Benchmark: the gateway against LiteLLM's proxy and against calling the upstream directly.

An instant OpenAI-compatible upstream (``probity.serve.echo``), the gateway (``probity serve``:
default policy, an scrypt API key, audit log on) and LiteLLM's proxy (``litellm --config``,
master key, no database) run as separate processes on 127.0.0.1, both proxies in front of the
same upstream. The same chat request goes to each at several concurrencies:

* throughput (requests/s) and server CPU per request (user + system, the proxy's whole process
  tree) for the gateway and LiteLLM; ratio = ours/LiteLLM for throughput and LiteLLM/ours for
  CPU, so > 1 means Probity is better;
* p50/p99 latency overhead over the direct upstream;
* time to first token through the streaming guard vs direct, for a long sentence with no
  full stop and for a block of code, from an upstream that streams one piece every 20 ms;
* CPU per request for wrong API keys (random, and with the real key's ``pbk-<id>-`` prefix)
  vs the right key: no scrypt amplification.

Afterwards the audit log must hold one verified record per gateway request.

    python bench/gateway.py --quick            # short run (about 2-4 minutes on 2 CPUs)
    python bench/gateway.py --litellm PATH      # the `litellm` executable (default: on PATH)

LiteLLM's proxy is the ``bench`` extra's ``litellm[proxy]``; its pins (openai 2.x, rich 13)
clash with Probity's, so it is best installed in its own virtual environment and named with
``--litellm``. Without it the LiteLLM rows are left out and the rest still runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
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
LONG_SENTENCE = (
    "the river that runs past the old mill carries leaves and light and the sound of "
    "water over stones toward the wide grey sea where gulls wait "
) * 2
CODE = "\n".join(
    f"def step_{i}(x: int) -> int:\n    y = x * {i} + {i + 1}\n    return y // 2" for i in range(8)
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 120.0, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2.0, headers=headers).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up within {timeout:.0f} s")


async def run_load(
    url: str,
    n: int,
    concurrency: int,
    *,
    stream: bool = False,
    headers: dict[str, str] | None = None,
) -> tuple[np.ndarray, list[str], float]:
    """Send ``n`` requests, ``concurrency`` at a time. Returns latencies in ms (time to first
    content when streaming), one reason per failed request, and the wall time in seconds."""
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
                                if first is None and line.startswith("data:") and _content(line):
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

        for _ in range(min(concurrency, 8)):  # warm-up (connections, first policy use)
            await client.post(url, json=BODY)
        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        wall = time.perf_counter() - t0
    return np.asarray(lat), errors, wall


def _content(line: str) -> bool:
    try:
        obj = json.loads(line[5:])
    except ValueError:
        return False
    return any((c.get("delta") or {}).get("content") for c in obj.get("choices") or ())


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its descendants so far (Linux /proc)."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(k) for k in kids)
    return total


def pct(a: np.ndarray, q: float) -> float:
    return float(np.percentile(a, q)) if a.size else float("nan")


def start_echo(env: dict[str, str], port: int, reply: str | None = None, delay: float = 0.0):
    code = (
        "import uvicorn; from probity.serve.echo import EchoUpstream; "
        f"uvicorn.run(EchoUpstream(reply={reply!r}, token_delay_s={delay}), host='127.0.0.1', "
        f"port={port}, log_level='warning', access_log=False)"
    )
    return subprocess.Popen([sys.executable, "-c", code], env=env)


def start_gateway(env: dict[str, str], tmp: Path, name: str, port: int, up_port: int, **extra):
    cfg = {
        "host": "127.0.0.1",
        "port": port,
        "log_requests": False,
        "backend": {
            "kind": "upstream",
            "base_url": f"http://127.0.0.1:{up_port}/v1",
            "model": "echo",
        },
        "audit": {"path": str(tmp / f"{name}-audit.jsonl")},
        **extra,
    }
    path = tmp / f"{name}.yaml"
    path.write_text(json.dumps(cfg))  # JSON is YAML
    cmd = [
        sys.executable,
        "-m",
        "probity",
        "serve",
        "--config",
        str(path),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(cmd, env=env)


def start_litellm(exe: str, tmp: Path, port: int, up_port: int, master: str):
    cfg = (
        "model_list:\n  - model_name: echo\n    litellm_params:\n      model: openai/echo\n"
        f"      api_base: http://127.0.0.1:{up_port}/v1\n      api_key: none\n"
        f"general_settings:\n  master_key: {master}\n"
        "litellm_settings:\n  drop_params: true\n  telemetry: false\n"
    )
    (tmp / "litellm.yaml").write_text(cfg)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")} | {
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
    }
    cmd = [exe, "--config", str(tmp / "litellm.yaml"), "--port", str(port), "--num_workers", "1"]
    return subprocess.Popen(
        cmd, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=open(tmp / "litellm.log", "w")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer requests")
    ap.add_argument("--policy", default="default", help="policy the gateway applies")
    ap.add_argument("--litellm", default=shutil.which("litellm"), help="LiteLLM executable")
    ap.add_argument("--concurrency", default="1,16,32,64", help="comma-separated levels")
    args = ap.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    per = 6 if args.quick else 25  # requests per level = per * max(c, 8)

    from probity.serve.auth import hash_api_key, new_api_key

    key = new_api_key("bench")
    gw_auth = {"Authorization": f"Bearer {key}"}
    master = "sk-" + secrets.token_hex(16)
    tmp = Path(tempfile.mkdtemp(prefix="probity-bench-gw-"))
    env = {
        **os.environ,
        "PROBITY_HOME": str(tmp / "home"),
        "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    up_port, slow_port, gw_port, gw2_port, ll_port = (free_port() for _ in range(5))
    keys = [{"id": "bench", "hash": hash_api_key(key, algo="scrypt")}]
    # The failed-auth throttle is lifted so the wrong-key rows measure what a key check costs
    # (the throttle would answer them 429 before any check).
    procs = {
        "echo": start_echo(env, up_port),
        "gateway": start_gateway(
            env,
            tmp,
            "gw",
            gw_port,
            up_port,
            policy=args.policy,
            keys=keys,
            auth={"failures_per_minute": 1_000_000},
        ),
    }
    if args.litellm:
        procs["litellm"] = start_litellm(args.litellm, tmp, ll_port, up_port, master)
    rows: list[tuple[str, float, float, float]] = []
    notes: list[str] = []
    sent_gw = 0
    try:
        wait_ready(f"http://127.0.0.1:{up_port}/v1/models")
        wait_ready(f"http://127.0.0.1:{gw_port}/healthz")
        targets = {
            "direct": (f"http://127.0.0.1:{up_port}/v1/chat/completions", None, "echo"),
            "gateway": (f"http://127.0.0.1:{gw_port}/v1/chat/completions", gw_auth, "gateway"),
        }
        if "litellm" in procs:
            ll_auth = {"Authorization": f"Bearer {master}"}
            wait_ready(f"http://127.0.0.1:{ll_port}/health/liveliness", 180)
            targets["litellm"] = (
                f"http://127.0.0.1:{ll_port}/v1/chat/completions",
                ll_auth,
                "litellm",
            )
        for conc in levels:
            n = per * max(conc, 8)
            res = {}
            for name, (url, hdr, proc) in targets.items():
                c0 = tree_cpu_seconds(procs[proc].pid)
                lat, errs, wall = asyncio.run(run_load(url, n, conc, headers=hdr))
                cpu = (tree_cpu_seconds(procs[proc].pid) - c0) / n * 1000
                res[name] = (lat, errs, n / wall, cpu)
                if name == "gateway":
                    sent_gw += n + min(conc, 8)
                if errs:
                    notes.append(f"{name} c={conc}: {len(errs)} failed ({sorted(set(errs))})")
            g = res["gateway"]
            if "litellm" in res:
                ll = res["litellm"]
                rows.append((f"throughput c={conc} (req/s), vs LiteLLM", g[2], ll[2], g[2] / ll[2]))
                rows.append(
                    (f"server CPU/request c={conc} (ms), vs LiteLLM", g[3], ll[3], ll[3] / g[3])
                )
            d = res["direct"]
            for q in (50, 99):
                o, p = pct(g[0], q), pct(d[0], q)
                rows.append((f"c={conc} p{q} overhead over direct (ms)", o - p, 0.0, float("nan")))
                if "litellm" in res:
                    lo = pct(res["litellm"][0], q) - p
                    rows.append(
                        (f"c={conc} p{q} overhead, vs LiteLLM (ms)", o - p, lo, lo / (o - p))
                    )

        # time to first token through the streaming guard
        for label, reply in (("long sentence", LONG_SENTENCE), ("code", CODE)):
            slow = start_echo(env, slow_port, reply, 0.02)
            gw2 = start_gateway(
                env, tmp, f"gw-{label[:4]}", gw2_port, slow_port, policy=args.policy
            )
            try:
                wait_ready(f"http://127.0.0.1:{slow_port}/v1/models")
                wait_ready(f"http://127.0.0.1:{gw2_port}/healthz")
                d, _, _ = asyncio.run(
                    run_load(f"http://127.0.0.1:{slow_port}/v1/chat/completions", 8, 1, stream=True)
                )
                o, e, _ = asyncio.run(
                    run_load(f"http://127.0.0.1:{gw2_port}/v1/chat/completions", 8, 1, stream=True)
                )
                if e:
                    notes.append(f"TTFT {label}: {len(e)} failed")
                rows.append(
                    (
                        f"TTFT p50, {label} (ms; peer = direct)",
                        pct(o, 50),
                        pct(d, 50),
                        pct(d, 50) / pct(o, 50),
                    )
                )
            finally:
                gw2.terminate()
                slow.terminate()
                gw2.wait(30)
                slow.wait(30)
            time.sleep(0.5)

        # wrong keys cost what right keys cost
        models = f"http://127.0.0.1:{gw_port}/v1/models"

        def cpu_per(keys_: list[str]) -> tuple[float, list[int]]:
            pid = procs["gateway"].pid
            c0 = tree_cpu_seconds(pid)
            codes = [
                httpx.get(models, headers={"Authorization": f"Bearer {k}"}).status_code
                for k in keys_
            ]
            return (tree_cpu_seconds(pid) - c0) / len(keys_) * 1000, codes

        right, _ = cpu_per([key] * 200)
        wrong, codes = cpu_per([f"sk-{secrets.token_hex(20)}" for _ in range(200)])
        prefixed, pcodes = cpu_per([new_api_key("bench") for _ in range(200)])
        rows.append(
            ("CPU/request, wrong random key vs right key (ms)", wrong, right, right / wrong)
        )
        rows.append(
            (
                "CPU/request, wrong key with the real prefix vs right (ms)",
                prefixed,
                right,
                right / prefixed,
            )
        )
        notes.append(
            f"wrong keys: {codes.count(401)} x 401; with the real prefix: {pcodes.count(401)} x "
            "401, one scrypt run each (the default throttle, 30 failures/min per address, caps it)"
        )
        notes.append(
            "TTFT: the upstream streams a piece every 20 ms; the documented worst case through "
            "the guard is window 16 + hold 8 = 24 tokens (480 ms here) plus the scans"
        )
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()

    from probity.guard import AuditLog

    audit = tmp / "gw-audit.jsonl"
    check = AuditLog.verify(audit)
    records = sum(1 for _ in audit.open())
    print("| case | ours (gateway) | peer | ratio (>1 = ours better) |")
    print("|---|---|---|---|")
    for case, o, p, r in rows:
        print(f"| {case} | {o:.2f} | {p:.2f} | {'' if r != r else f'{r:.3f}'} |")
    print(
        f"| audit records / gateway requests sent | {records} / {sent_gw} "
        f"(chain {'verified' if check.ok else 'BROKEN'}) | | |"
    )
    for note in notes:
        print(f"note: {note}")
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"httpx {httpx.__version__}; peer LiteLLM proxy {'at ' + args.litellm if args.litellm else 'not found'}; "
        f"policy {args.policy!r}; load average {os.getloadavg()[0]:.1f} at the end"
    )


if __name__ == "__main__":
    main()

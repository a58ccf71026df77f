"""Load on ``cpt serve``: N submissions and M status reads from C concurrent clients; prints p50/p99
latency per request kind, throughput and errors.

    .venv/bin/python benchmarks/service_load.py [--submissions 200] [--reads 2000] [--clients 20]
                                                [--database postgresql://...]

The server runs with no local worker (``service.local_workers=0``): this measures the API and the
database, not the jobs. Each submission is fully checked, composed and planned (the chain's
fingerprints and cache hits), as any submission is; the reads are ``GET /jobs/{id}`` and ``GET /jobs``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from service_server import Server  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--submissions", type=int, default=200)
    ap.add_argument("--reads", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--database", default="", help="postgresql://... (default: SQLite in the workdir)")
    ns = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "work", "service.local_workers=0", "service.max_queued_per_user=100000",
                        database=ns.database).start()
        try:
            run(server, ns)
        finally:
            server.stop()


def run(server: Server, ns) -> None:
    lat: dict[str, list[float]] = {"submit": [], "get job": [], "list jobs": []}
    errors: dict[str, int] = {k: 0 for k in lat}
    ids: list[str] = []
    lock = threading.Lock()
    work = ["submit"] * ns.submissions + ["read"] * ns.reads
    random.Random(0).shuffle(work)
    work.sort(key=lambda k: k != "submit")  # every client submits before reading, in its own share
    chunks = [work[i::ns.clients] for i in range(ns.clients)]
    seed = iter(range(10**9))

    def client(tasks: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        rng = random.Random(id(tasks))
        for task in tasks:
            if task == "submit":
                with lock:
                    s = next(seed)
                body = json.dumps({"command": "sample", "overrides": ["sample.web_pages=10", "sample.original_docs=20",
                                                                      f"sample.seed={s}"]})
                kind, method, path = "submit", "POST", "/api/v1/jobs"
            else:
                with lock:
                    known = list(ids)
                if known and rng.random() < 0.9:
                    kind, method, path, body = "get job", "GET", f"/api/v1/jobs/{rng.choice(known)}", None
                else:
                    kind, method, path, body = "list jobs", "GET", "/api/v1/jobs?limit=50", None
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
                resp = conn.getresponse()
                payload = resp.read()
                ok = resp.status in (200, 201)
            except (OSError, http.client.HTTPException):
                ok, payload = False, b""
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
            dt = time.perf_counter() - t0
            with lock:
                lat[kind].append(dt)
                if not ok:
                    errors[kind] += 1
                elif kind == "submit":
                    ids.append(json.loads(payload)["id"])

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    db = server.database.split("://")[0] if server.database else "sqlite"
    print(f"service load: {ns.submissions} submissions + {ns.reads} reads from {ns.clients} clients, database {db}, "
          f"{wall:.1f}s wall")
    print(f"{'request':<10} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'mean ms':>9} {'errors':>7}")
    for kind, values in lat.items():
        if values:
            print(f"{kind:<10} {len(values):>6} {percentile(values, 50) * 1e3:>9.1f} {percentile(values, 99) * 1e3:>9.1f} "
                  f"{max(values) * 1e3:>9.1f} {statistics.mean(values) * 1e3:>9.1f} {errors[kind]:>7}")
    print(f"throughput: {(ns.submissions + ns.reads) / wall:.1f} requests/s; errors: {sum(errors.values())}")


if __name__ == "__main__":
    main()

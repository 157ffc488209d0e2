"""Load generator: `python -m bench.loadgen SPEC.json OUT.json`, run as its own process.

An asyncio HTTP/1.1 client on the standard library (no httpx/aiohttp in the
project's venv, and the benchmark must not add a dependency). Each of the
`concurrency` tasks owns one connection, reuses it while the server keeps it
alive (gthread) and reconnects when the server closes it (sync workers answer
`Connection: close`); the connect time then counts in the request's latency,
as a client would see it. Loopback only; every scenario is bounded by a
duration and a request count.

SPEC: {"host": "127.0.0.1", "port": 8000, "clients": [{"session": "...", "token": "..."}],
       "scenarios": [{"name", "method", "path", "auth": "session"|"jwt", "concurrency",
                      "duration", "max_requests", "warmup", "expect": 200,
                      "bodies": "file.json" (optional: request i sends body i as client
                      i % len(clients); the run stops when the bodies run out),
                      "clients_in_order": false (true: request i is client i, so no learner
                      is asked for twice within max_requests <= len(clients)),
                      "fill": false (true: before the warm-up, one unmeasured request per
                      client, in order, so every client's dashboard entry exists),
                      "after_writes": 0 (N > 0: the mixed workload: before each measured
                      request, the same client posts a batch of N events and completes the
                      next of its lessons (client["lessons"], each taken once) through the
                      JSON API, unmeasured, so every measured request follows that learner's
                      writes; the clients are picked among those with lessons left, as long
                      as any are; failed writes are counted in write_errors)}]}

Responses carrying the dashboard's cache header (X-Dashboard-Cache: hit|miss) are
counted, so every dashboard row reports the hit ratio it was measured with.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

CACHE_HEADER = "x-dashboard-cache"
# Upper bound on a fill pass (one request per client), however slow the server is.
FILL_SECONDS = 600


class HTTPError(Exception):
    pass


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    samples: list[str] = field(default_factory=list)  # a few failed responses, for debugging
    bytes: int = 0
    cache: dict[str, int] = field(default_factory=dict)  # X-Dashboard-Cache value -> count
    writes: int = 0
    write_errors: int = 0


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked()
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body, headers

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


def events_body(count: int) -> bytes:
    """A batch of heartbeats from the last minute, as events.js sends while a lesson is open."""
    now = datetime.now(UTC)
    events = [
        {
            "event_id": str(uuid.uuid4()),
            "type": "heartbeat",
            "occurred_at": (now - timedelta(seconds=60 - i)).isoformat().replace("+00:00", "Z"),
            "data": {},
        }
        for i in range(count)
    ]
    return json.dumps({"events": events}, separators=(",", ":")).encode()


async def write_before(
    connection: Connection, *, host: str, port: int, client: dict, events: int,
    outcome: Outcome, measure: bool,
) -> None:  # fmt: skip
    """The mixed workload's writes: an events batch, then the client's next lesson completed
    (taken off its list, so a concurrent loop of the same client takes the one after)."""
    writes = [("/api/v1/learning/events", events_body(events))]
    if client.get("lessons"):
        lesson = client["lessons"].pop(0)
        writes.append((f"/api/v1/learning/lessons/{lesson}/complete", b"{}"))
    for path, body in writes:
        raw = build_request(
            host=host, port=port, method="POST", path=path, auth="jwt", client=client, body=body
        )
        try:
            status, content, _ = await connection.request(raw)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            await connection.close()
            status, content = 0, repr(exc).encode()
        if not measure:
            continue
        outcome.writes += 1
        if status not in (200, 201):
            outcome.write_errors += 1
            if len(outcome.samples) < 3:
                outcome.samples.append(f"write {path} {status}: {content[:300]!r}")


def build_request(
    *, host: str, port: int, method: str, path: str, auth: str, client: dict, body: bytes
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: */*"]
    if auth == "session":
        lines.append(f"Cookie: sessionid={client['session']}")
    elif auth == "jwt":
        lines.append(f"Authorization: Bearer {client['token']}")
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def run_scenario(spec: dict, scenario: dict) -> dict:
    host, port, clients = spec["host"], spec["port"], spec["clients"]
    bodies: list[bytes] | None = None
    if scenario.get("bodies"):
        bodies = [
            json.dumps(b, separators=(",", ":")).encode()
            for b in json.loads(Path(scenario["bodies"]).read_text())["bodies"]
        ]
    expect = scenario.get("expect", 200)
    concurrency = scenario["concurrency"]
    outcome = Outcome()
    counter = 0  # next request index (bodies are handed out in order)
    limit = scenario["max_requests"] if bodies is None else len(bodies)
    in_order = scenario.get("clients_in_order", False)
    after_writes = scenario.get("after_writes", 0)
    if in_order:
        limit = min(limit, len(clients))

    async def worker(
        seed: int, deadline: float, measure: bool, budget: int, ordered: bool = in_order
    ) -> None:
        nonlocal counter
        rng = random.Random(seed)
        connection = Connection(host, port)
        try:
            while time.perf_counter() < deadline and counter < budget:
                index = counter
                counter += 1
                if bodies is not None:
                    client, body = clients[index % len(clients)], bodies[index]
                elif ordered:
                    client, body = clients[index % len(clients)], b""
                else:
                    client, body = rng.choice(clients), b""
                if after_writes:
                    if not client.get("lessons"):
                        # The loop studies: a learner with nothing left to study yields to
                        # one who has (uniform among them), while there is one.
                        studying = [c for c in clients if c.get("lessons")]
                        client = rng.choice(studying) if studying else client
                    await write_before(
                        connection, host=host, port=port, client=client, events=after_writes,
                        outcome=outcome, measure=measure,
                    )  # fmt: skip
                raw = build_request(
                    host=host,
                    port=port,
                    method=scenario["method"],
                    path=scenario["path"],
                    auth=scenario["auth"],
                    client=client,
                    body=body,
                )
                started = time.perf_counter()
                try:
                    status, content, headers = await connection.request(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    await connection.close()
                    status, content, headers = 0, repr(exc).encode(), {}
                elapsed = time.perf_counter() - started
                if not measure:
                    continue
                if status == expect:
                    outcome.latencies.append(elapsed)
                    outcome.bytes += len(content)
                    if CACHE_HEADER in headers:
                        served = headers[CACHE_HEADER]
                        outcome.cache[served] = outcome.cache.get(served, 0) + 1
                else:
                    outcome.errors += 1
                    if len(outcome.samples) < 3:
                        outcome.samples.append(f"{status}: {content[:300]!r}")
        finally:
            await connection.close()

    unmeasured = 0  # requests of the fill and warm-up passes (each loop's writes not counted)
    if scenario.get("fill") and bodies is None:
        deadline = time.perf_counter() + FILL_SECONDS
        await asyncio.gather(
            *(worker(2000 + i, deadline, False, len(clients), True) for i in range(concurrency))
        )
        unmeasured += counter
        counter = 0
    warmup = scenario.get("warmup", 0)
    if warmup and bodies is None and not in_order:
        deadline = time.perf_counter() + 30
        await asyncio.gather(
            *(worker(1000 + i, deadline, False, warmup) for i in range(concurrency))
        )
        unmeasured += counter
        counter = 0
    started = time.perf_counter()
    deadline = started + scenario["duration"]
    await asyncio.gather(*(worker(i, deadline, True, limit) for i in range(concurrency)))
    wall = time.perf_counter() - started
    return {**summarise(scenario, outcome, wall), "unmeasured": unmeasured}


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0-100)."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarise(scenario: dict, outcome: Outcome, wall: float) -> dict:
    ordered = sorted(outcome.latencies)
    ok = len(ordered)
    looked_up = sum(outcome.cache.values())
    return {
        "name": scenario["name"],
        "path": scenario["path"],
        "method": scenario["method"],
        "concurrency": scenario["concurrency"],
        "requests": ok,
        "errors": outcome.errors,
        "error_samples": outcome.samples,
        "seconds": round(wall, 3),
        "rps": round(ok / wall, 1) if wall else 0.0,
        "p50_ms": round(percentile(ordered, 50) * 1000, 1),
        "p95_ms": round(percentile(ordered, 95) * 1000, 1),
        "p99_ms": round(percentile(ordered, 99) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1) if ordered else float("nan"),
        "mean_response_bytes": round(outcome.bytes / ok) if ok else 0,
        "cache_hits": outcome.cache.get("hit", 0),
        "cache_misses": outcome.cache.get("miss", 0),
        "hit_ratio": round(outcome.cache.get("hit", 0) / looked_up, 3) if looked_up else None,
        "writes": outcome.writes,
        "write_errors": outcome.write_errors,
    }


async def main_async(spec: dict) -> list[dict]:
    results = []
    for scenario in spec["scenarios"]:
        result = await run_scenario(spec, scenario)
        print(
            f"  {result['name']:<22} c={result['concurrency']:<3} {result['rps']:>8.1f} req/s  "
            f"p50 {result['p50_ms']:>7.1f}  p99 {result['p99_ms']:>7.1f} ms  "
            f"errors {result['errors']}"
            + (
                f"  cache hits {result['hit_ratio']:.0%}" if result["hit_ratio"] is not None else ""
            ),
            flush=True,
        )
        results.append(result)
    return results


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.loadgen SPEC.json OUT.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    results = asyncio.run(main_async(spec))
    Path(argv[1]).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

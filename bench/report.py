"""`python -m bench.report [RESULT.json]`: a benchmark result as the Markdown of BENCHMARKS.md.

Defaults to bench/results/latest.json, so the figures in BENCHMARKS.md are pasted from
this command's output, never typed by hand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def markdown(r: dict) -> str:
    m, size = r["machine"], r["size"]
    lines = [
        f"Run {r['started_at']} → {r['finished_at']} (UTC), commit `{m['commit']}`, database "
        f"`{r['database']}`: {size['learners']:,} learners, {size['courses']:,} courses, "
        f"{size['events']:,} events, {size['answers']:,} quiz answers. Machine: {m['cpus']} "
        f"cores, {m['memory_gib']} GiB, Python {m['python']}; load average "
        f"{m['load_average_start'][0]} at the start, {m['load_average_end'][0]} at the end. "
        f"Server: `{r.get('server', '-')}`, DEBUG off.",
        "",
    ]
    if r.get("web"):
        lines += [
            "| endpoint | concurrency | req/s | p50 ms | p95 ms | p99 ms | ÷ floor | errors "
            "| cache hits |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for w in r["web"]:
            ratio = f"{w['ratio_to_floor']:.2f}" if w.get("ratio_to_floor") is not None else "floor"
            hits = f"{w['hit_ratio']:.0%}" if w.get("hit_ratio") is not None else "-"
            lines.append(
                f"| {w['name']} `{w['path']}` | {w['concurrency']} | {w['rps']:.1f} | "
                f"{w['p50_ms']} | {w['p95_ms']} | {w['p99_ms']} | {ratio} | {w['errors']} "
                f"| {hits} |"
            )
        lines.append("")
    ingestion = r.get("ingestion")
    if ingestion:
        copy = ingestion["copy"]
        lines += [
            "| ingestion | concurrency | events/s | requests/s | p50 ms | p99 ms | ÷ COPY |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| raw COPY, one stream ({copy['events']:,} rows) | 1 | {copy['events_per_s']:,} "
            "| - | - | - | 1 |",
        ]
        for a in ingestion["api"]:
            lines.append(
                f"| POST /api/v1/learning/events, 500 per request | {a['concurrency']} | "
                f"{a['events_per_s']:,} | {a['rps']} | {a['p50_ms']} | {a['p99_ms']} | "
                f"{a['ratio_to_copy']:.2f} |"
            )
        lines.append("")
    rows = []
    if r.get("warm"):
        w = r["warm"]
        rows.append(
            f"| dashboard warm-up, the beat task's run (every {w['period_s']} s, entries live "
            f"{w['ttl_s']} s), its chunks in {w['celery_workers']} Celery worker processes | "
            f"{w['learners']:,} learners active in {w['active_days']} days in {w['chunks']} "
            f"chunks, {w['seconds']} s = **{w['learners_per_s']} learners/s**, workers' CPU "
            f"{w['worker_cpu_ms_per_learner']} ms per learner; worker RSS {w['worker_rss_mb']} MB |"
        )
    if r.get("weekly"):
        w = r["weekly"]
        rows.append(
            f"| weekly adjustment, one process | {w['learners']:,} learners in {w['seconds']} s "
            f"= **{w['learners_per_s']} learners/s**; peak RSS {w['process']['peak_rss_mb']} MB |"
        )
    if r.get("paths"):
        p = r["paths"]
        rows.append(
            f"| path generation, {len(p['goal_skills'])}-skill goal, {p['catalog_courses']} "
            f"published courses | p50 **{p['p50_ms']} ms**, p99 {p['p99_ms']} ms "
            f"({p['iterations']} runs, {p['path_courses']} courses in the path) |"
        )
    if r.get("seed"):
        s = r["seed"]
        rows.append(
            f"| scale seed (`seed_demo` scale mode) | {s['seconds']} s, peak RSS "
            f"{s['peak_rss_mb']} MB (seeded {s['seeded_at']}) |"
        )
    if r.get("web_worker_rss_mb"):
        rss = ", ".join(map(str, r["web_worker_rss_mb"]))
        rows.append(f"| web workers after the load run | RSS {rss} MB |")
    if rows:
        lines += ["| workload | result |", "| --- | --- |", *rows, ""]
    lines += ["| target | measured | limit | met |", "| --- | ---: | ---: | --- |"]
    for c in r["targets"]:
        sign = "≥" if c["at_least"] else "≤"
        met = "yes" if c["met"] else "**no**"
        lines.append(f"| {c['target']} | {c['value']} | {sign} {c['limit']} | {met} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else RESULTS / "latest.json"
    print(markdown(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""In-process workloads of the benchmark: `python -m bench.workloads COMMAND OUT.json [options]`.

Each runs as its own process against the benchmark database (DATABASE_URL set
by bench.run), so its peak RSS is its own, and writes its figures as JSON:

- clients:  log in random scale learners (a database session and a JWT access
            token each, as the login views would issue them) for the load generator;
- bodies:   event batches for the ingestion run (500 events each, valid catalog ids);
- copy:     the floor of ingestion: a raw COPY of the same rows into the same table;
- cleanup:  delete the benchmark's events again, so reruns start from the same data;
- invalidate: move the clients' data versions on (skillstudio.data_versions), so their
            cached dashboards are never read again and each scenario starts cold;
- warm:     the dashboard warm-up beat task (insights.warm_dashboards) run once as the beat
            runs it: its fan-out in this process, its chunks (every recently active
            learner) in the Celery workers bench.run started; waits for its last chunk;
- weekly:   the weekly adjustment over all due learners, through the Celery chunk task's
            own function, in this one process;
- paths:    learning-path generation for a 5-skill goal over the whole catalogue.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import django

# Scale learners are recognisable by their e-mail domain (catalog.demo_seed).
SCALE_DOMAIN = "scale.skillstudio.test"
EVENTS_PER_BATCH = 500
CLIENT_TOKEN_LIFETIME = timedelta(hours=6)
# Enough for every mixed row of a run to complete lessons not completed before (about 11
# loops per client over the eight rows at 1,000 clients), where the catalogue has them.
LESSONS_PER_CLIENT = 30


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(ordered: list[float], q: float) -> float:
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def make_clients(*, count: int, seed: int) -> dict:
    """Sessions and JWTs for `count` random scale learners (bulk, no password hashing)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.backends import USER_BACKEND
    from accounts.models import User

    ids = list(
        User.objects.filter(email__endswith=f"@{SCALE_DOMAIN}", is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        raise SystemExit("No scale learners in the benchmark database: seed it first.")
    chosen = random.Random(seed).sample(ids, k=min(count, len(ids)))
    users = User.objects.in_bulk(chosen)
    expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    store = SessionStore()
    clients, sessions = [], []
    for pk in chosen:
        user = users[pk]
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: USER_BACKEND,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expires)
        )
        # A real client refreshes its 15-minute access token; the load generator's clients
        # hold one for the whole run instead (at 10x the warm-up and the rows before the
        # mixed ones take longer than 15 minutes). Validating it costs the same.
        token = AccessToken.for_user(user)
        token.set_exp(lifetime=CLIENT_TOKEN_LIFETIME)
        clients.append({"learner_id": pk, "session": key, "token": str(token)})
    Session.objects.bulk_create(sessions)
    lessons = studyable_lessons(learner_ids=chosen, per_learner=LESSONS_PER_CLIENT)
    for client in clients:
        client["lessons"] = lessons[client["learner_id"]]
    return {"clients": clients}


def studyable_lessons(*, learner_ids: list[int], per_learner: int) -> dict[int, list[int]]:
    """Up to `per_learner` lessons each learner has not completed and may study now (the
    lock rule, learning.services.lesson_check_can_study), from the courses they are in, in
    course order: what the mixed workload completes, each once, between an events batch and
    a dashboard view."""
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from accounts.models import User
    from catalog.models import Lesson
    from learning.models import Enrollment, LessonProgress
    from learning.services import lesson_check_can_study

    now = timezone.now()
    found: dict[int, list[int]] = {pk: [] for pk in learner_ids}
    users = User.objects.in_bulk(learner_ids)
    done = set(
        LessonProgress.objects.filter(
            learner_id__in=learner_ids, status=LessonProgress.Status.COMPLETED
        ).values_list("learner_id", "lesson_id")
    )
    courses: dict[int, list[int]] = {pk: [] for pk in learner_ids}
    for learner_id, course_id in Enrollment.objects.filter(
        learner_id__in=learner_ids, status=Enrollment.Status.ACTIVE
    ).values_list("learner_id", "course_id"):
        courses[learner_id].append(course_id)
    for learner_id in learner_ids:
        candidates = (
            Lesson.objects.filter(
                module__course_id__in=courses[learner_id], module__course__status="published"
            )
            .select_related("module__course")
            .order_by("module__course_id", "module__order", "order")[: 5 * per_learner]
        )
        for lesson in candidates:
            if (learner_id, lesson.pk) in done:
                continue
            try:
                lesson_check_can_study(learner=users[learner_id], lesson=lesson, now=now)
            except ValidationError:
                continue
            found[learner_id].append(lesson.pk)
            if len(found[learner_id]) >= per_learner:
                break
    return found


def make_bodies(*, clients: list[dict], batches: int, seed: int, now: datetime) -> dict:
    """`batches` event batches; batch i belongs to learner clients[i % len(clients)]."""
    from catalog.models import Lesson
    from learning.models import LearnerEvent

    rng = random.Random(seed)
    lessons = list(
        Lesson.objects.filter(module__course__status="published").values_list(
            "module__course_id", "id"
        )
    )
    kinds = [
        LearnerEvent.Type.HEARTBEAT,
        LearnerEvent.Type.LESSON_VIEWED,
        LearnerEvent.Type.VIDEO_PLAY,
        LearnerEvent.Type.VIDEO_PAUSE,
        LearnerEvent.Type.PAGE_VIEWED,
    ]
    bodies = []
    for _ in range(batches):
        events = []
        for _ in range(EVENTS_PER_BATCH):
            course_id, lesson_id = rng.choice(lessons)
            kind = rng.choice(kinds)
            occurred = now - timedelta(seconds=rng.uniform(60, 7 * 86400))
            events.append(
                {
                    "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    "type": kind,
                    "occurred_at": occurred.isoformat().replace("+00:00", "Z"),
                    "course_id": course_id,
                    "lesson_id": lesson_id,
                    "data": {"position": rng.randrange(1800)} if kind.startswith("video") else {},
                }
            )
        bodies.append({"events": events})
    return {"bodies": bodies, "clients": len(clients)}


def _rows(bodies: list[dict], clients: list[dict], received: datetime) -> list[tuple]:
    rows = []
    for index, body in enumerate(bodies):
        learner_id = clients[index % len(clients)]["learner_id"]
        for event in body["events"]:
            rows.append(
                (
                    uuid.UUID(event["event_id"]),
                    datetime.fromisoformat(event["occurred_at"]),
                    learner_id,
                    event["type"],
                    event.get("course_id"),
                    event.get("lesson_id"),
                    event.get("assessment_id"),
                    received,
                    json.dumps(event.get("data") or {}, separators=(",", ":")),
                )
            )
    return rows


def copy_floor(*, batches: list[list[dict]], clients: list[dict]) -> dict:
    """COPY exactly the rows the API run stored (same ids, learners, times) in one stream.

    `batches` holds one list of bodies per ingestion run, each mapped to learners as the
    load generator sent it.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from catalog.demo_seed import EVENT_COLUMNS
    from learning.models import LearnerEvent

    received = timezone.now()
    rows = [row for bodies in batches for row in _rows(bodies, clients, received)]
    table = LearnerEvent._meta.db_table
    started = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    elapsed = time.perf_counter() - started
    return {"events": len(rows), "seconds": round(elapsed, 3), "events_per_s": len(rows) / elapsed}


def cleanup(*, body_files: list[Path]) -> dict:
    """Delete the benchmark's events by id (the leading key column), then vacuum the table."""
    from django.db import connection

    from learning.models import LearnerEvent

    ids = [
        event["event_id"]
        for path in body_files
        if path.exists()
        for body in json.loads(path.read_text())["bodies"]
        for event in body["events"]
    ]
    table = LearnerEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE event_id = ANY(%s::uuid[])", [ids])  # noqa: S608
        deleted = cursor.rowcount
        cursor.execute(f"VACUUM (ANALYZE) {table}")
    return {"deleted": deleted}


def invalidate(*, clients: list[dict]) -> dict:
    """What a write by every client would do to the dashboard cache, without the write."""
    from skillstudio.data_versions import learners_changed

    learners_changed(client["learner_id"] for client in clients)  # no transaction: at once
    return {"learners": len(clients)}


def warm_run(*, timeout: float) -> dict:
    """The dashboard warm-up beat task's run, once, as production runs it: the fan-out here
    (what the beat's message does in a worker: one query, then the chunk messages), its
    chunks in the Celery workers bench.run started; timed until its last chunk is done."""
    from insights.dashboard import ACTIVE_DAYS, CACHE_TTL, WARM_PERIOD, warm_run_record
    from insights.tasks import warm_dashboards_task

    started = time.time()
    fan_out = warm_dashboards_task()
    fan_out_s = time.time() - started
    if fan_out["stopped"]:
        raise SystemExit(f"The dashboard warm stopped: {fan_out['stopped']}.")
    record = {"stored": 0, "failed": 0, "finished_at": time.time()}  # nobody to warm
    while fan_out["chunks"]:
        record = warm_run_record(fan_out["run"])
        if record is None:
            raise SystemExit("The dashboard warm run's record expired before it finished.")
        if record["finished_at"] is not None:
            break
        if time.time() - started > timeout:
            raise SystemExit(f"The dashboard warm run did not finish in {timeout} s: {record}")
        time.sleep(0.2)
    seconds = record["finished_at"] - started
    learners = fan_out["learners"]
    return {
        "learners": learners,
        "chunks": fan_out["chunks"],
        "stored": record["stored"],
        "failed": record["failed"],
        "active_days": ACTIVE_DAYS,
        "period_s": WARM_PERIOD,
        "ttl_s": CACHE_TTL,
        "fan_out_s": round(fan_out_s, 2),
        "seconds": round(seconds, 1),
        "learners_per_s": round(learners / seconds, 1) if seconds else None,
    }


def weekly_run(*, limit: int | None, chunk_size: int) -> dict:
    """The weekly adjustment over every due learner, one chunk task call after another.

    The per-week marker is cleared first so that every run of the benchmark does the
    full work (otherwise a second run in the same ISO week would skip everyone). Besides
    the rate it reports the process's CPU time per learner and the SQL statements per
    chunk (counted by a connection wrapper, with DEBUG off).
    """
    from django.db import connection
    from django.utils import timezone

    from accounts.models import LearnerProfile
    from insights import weekly
    from insights.tasks import adjust_learner_chunk

    now = timezone.now()
    # Forget this week's run, so every learner is adjusted again rather than skipped.
    LearnerProfile.objects.exclude(weekly_adjusted_week="").update(weekly_adjusted_week="")
    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    adjusted = failed = chunks = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        for learner_ids in weekly.active_learner_ids(now=now, chunk_size=chunk_size):
            if limit is not None:
                learner_ids = learner_ids[: limit - adjusted - failed]
            report = adjust_learner_chunk(learner_ids=learner_ids, now=now.isoformat())
            adjusted += report["adjusted"]
            failed += report["failed"]
            chunks += 1
            if limit is not None and adjusted + failed >= limit:
                break
            if (adjusted + failed) % 2000 < chunk_size:
                print(f"  weekly: {adjusted + failed:,} learners", flush=True)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    learners = adjusted + failed
    return {
        "learners": learners,
        "adjusted": adjusted,
        "failed": failed,
        "seconds": round(elapsed, 2),
        "learners_per_s": round(learners / elapsed, 1) if elapsed else 0.0,
        "cpu_ms_per_learner": round(cpu / learners * 1000, 2) if learners else 0.0,
        "chunk_size": chunk_size,
        "chunks": chunks,
        "queries_per_chunk": round(statements[0] / chunks, 1) if chunks else 0.0,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def paths_run(*, iterations: int, warmup: int) -> dict:
    """generate_learning_path for one learner's 5-skill goal, each call rolled back.

    The goal is created inside the same outer transaction and rolled back at the end,
    so the benchmark database is left as it was and every call plans the same path.
    """
    from django.db import transaction
    from django.utils import timezone

    from catalog.models import Course, Skill
    from insights.models import LearnerSkillState
    from insights.paths import generate_learning_path
    from learning.services import goal_create

    now = timezone.now()
    state = (
        LearnerSkillState.objects.filter(learner__email__endswith=f"@{SCALE_DOMAIN}")
        .select_related("learner")
        .order_by("learner_id")
        .first()
    )
    if state is None:
        raise SystemExit("No scale learner with skill states: seed the benchmark database.")
    learner = state.learner
    levels = dict(
        LearnerSkillState.objects.filter(learner=learner).values_list("skill__slug", "level")
    )
    slugs = sorted(
        Skill.objects.values_list("slug", flat=True), key=lambda s: (levels.get(s, 0), s)
    )
    targets = dict.fromkeys(slugs[:5], 9)
    timings: list[float] = []
    with transaction.atomic():
        goal = goal_create(
            learner=learner,
            title="Benchmark: five skills",
            target_levels=targets,
            weekly_hours=6,
            now=now,
        )
        for index in range(warmup + iterations):
            with transaction.atomic():
                started = time.perf_counter()
                snapshot = generate_learning_path(goal=goal, now=now)
                elapsed = time.perf_counter() - started
                transaction.set_rollback(True)
            if index >= warmup:
                timings.append(elapsed * 1000)
        transaction.set_rollback(True)
    ordered = sorted(timings)
    return {
        "iterations": iterations,
        "goal_skills": sorted(targets),
        "catalog_courses": Course.objects.published().count(),
        "path_courses": len(snapshot.items),
        "p50_ms": round(percentile(ordered, 50), 2),
        "p99_ms": round(percentile(ordered, 99), 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workloads")
    parser.add_argument(
        "command",
        choices=["clients", "bodies", "copy", "cleanup", "invalidate", "warm", "weekly", "paths"],
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=1000, help="clients / batches / iterations")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clients", type=Path, help="clients JSON (bodies, copy, invalidate)")
    parser.add_argument("--bodies", type=Path, action="append", default=[], help="bodies JSON")
    parser.add_argument("--limit", type=int, help="weekly: stop after this many learners")
    parser.add_argument("--chunk-size", type=int, default=200)
    parser.add_argument(
        "--timeout", type=float, default=3600, help="warm: give up waiting after this many s"
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "skillstudio.settings")
    django.setup()
    from django.utils import timezone

    if args.command == "clients":
        result = make_clients(count=args.count, seed=args.seed)
    elif args.command == "bodies":
        clients = json.loads(args.clients.read_text())["clients"]
        result = make_bodies(
            clients=clients, batches=args.count, seed=args.seed, now=timezone.now()
        )
    elif args.command == "copy":
        clients = json.loads(args.clients.read_text())["clients"]
        batches = [json.loads(path.read_text())["bodies"] for path in args.bodies]
        result = copy_floor(batches=batches, clients=clients)
    elif args.command == "cleanup":
        result = cleanup(body_files=args.bodies)
    elif args.command == "invalidate":
        result = invalidate(clients=json.loads(args.clients.read_text())["clients"])
    elif args.command == "warm":
        result = warm_run(timeout=args.timeout)
    elif args.command == "weekly":
        result = weekly_run(limit=args.limit, chunk_size=args.chunk_size)
    else:
        result = paths_run(iterations=args.count, warmup=5)
    args.out.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

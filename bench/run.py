"""``python -m bench``: generate the synthetic network, then measure import, digests, commands,
broadcast and the nightly re-import, each against its target. Results go to stdout as a table and
to ``bench/results/<date>-<db>.json``.

Everything runs in this process through the real code paths: the importer, the digest builder, the
real Dispatcher (with a recording session: no network), the outbox sender against a local fake Bot
API that limits like Telegram. Run it from the repository root (it borrows the test suite's
recording session and fake Bot API).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.dataset import TODAY, Size, append_day, rewrite_export, write_dataset

ROOT = Path(__file__).resolve().parent.parent
COMMAND_BUDGET_S = 60.0  # per command: a very slow one is measured on fewer calls
TARGETS = {  # issue 15's
    "import_ratio": 0.5,  # of the plain bulk insert's rows per second
    "import_late_growth_mb": 32.0,  # memory must not grow with the file: growth after the first quarter
    "digests_total_s": 3.0,
    "command_p95_ms": 20.0,
    "file_p95_ms": 5000.0,  # /report and /chart: a document or a picture, drawn off the event loop
    "broadcast_ratio": 1.05,
    "reimport_s": 20.0,  # a full export whose files changed but whose rows did not; one that appended a day
}


@dataclass
class Report:
    scale: float
    size: Size
    database: str
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # (what, value, target, verdict)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, what: str, value: str, target: str = "", ok: bool | None = None) -> None:
        verdict = "" if ok is None else ("ok" if ok else "MISSED")
        self.rows.append((what, value, target, verdict))
        print(f"  {what:<44}{value:>22}  {target:<22}{verdict}", flush=True)


# --------------------------------------------------------------------------------------------------
# Measuring helpers
# --------------------------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


class MemoryWatch:
    """Samples this process's resident memory every 20 ms while a block runs."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self.running = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while self.running:
            self.samples.append((time.perf_counter(), rss_mb()))
            time.sleep(0.02)

    def __enter__(self) -> MemoryWatch:
        gc.collect()
        self.running = True
        self.samples.append((time.perf_counter(), rss_mb()))
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.running = False
        self.thread.join()
        self.samples.append((time.perf_counter(), rss_mb()))

    def growth(self) -> tuple[float, float]:
        """(growth in the first quarter of the run, growth after it), in MB."""
        start, base = self.samples[0]
        end = self.samples[-1][0]
        quarter = start + (end - start) / 4
        early = max((rss for t, rss in self.samples if t <= quarter), default=base)
        peak = max(rss for _, rss in self.samples)
        return early - base, max(peak - early, 0.0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------------
# The plainest bulk insert, for comparison
# --------------------------------------------------------------------------------------------------


def read_rows(path: Path) -> tuple[int, list[list[str]]]:
    import csv

    encoding = "utf-8" if path.name == "Master.csv" else "cp1251"
    delimiter = "," if path.name == "Master.csv" else ";"
    with path.open(encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle, delimiter=delimiter))
    if path.name != "Master.csv":
        rows = rows[1:]
    return max(len(r) for r in rows), rows


def plain_sqlite(path: Path, scratch: Path) -> float:
    """sqlite3's executemany in one transaction: read the file and insert its rows as text."""
    start = time.perf_counter()
    width, rows = read_rows(path)
    connection = sqlite3.connect(scratch)
    connection.execute("DROP TABLE IF EXISTS plain")
    connection.execute(f"CREATE TABLE plain ({', '.join(f'c{i} TEXT' for i in range(width))})")
    with connection:
        connection.executemany(f"INSERT INTO plain VALUES ({', '.join('?' * width)})", rows)
    connection.close()
    return time.perf_counter() - start


async def plain_postgres(path: Path, url: str) -> float:
    """asyncpg's copy_records_to_table: read the file and copy its rows as text."""
    import asyncpg

    start = time.perf_counter()
    width, rows = read_rows(path)
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute("DROP TABLE IF EXISTS bench_plain")
        await connection.execute(f"CREATE TABLE bench_plain ({', '.join(f'c{i} TEXT' for i in range(width))})")
        records = [tuple(r) + ("",) * (width - len(r)) for r in rows]
        await connection.copy_records_to_table("bench_plain", records=records)
        await connection.execute("DROP TABLE bench_plain")
    finally:
        await connection.close()
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------


def remove_database_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def prepare_database(url: str, wipe: bool) -> None:
    from sqlalchemy import text

    from db.migrate import upgrade
    from db.models import Base
    from db.session import create_engine

    engine = create_engine(url)
    try:
        if url.startswith("postgresql"):
            async with engine.begin() as conn:
                tables = (await conn.execute(text(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                ))).scalar_one()  # fmt: skip
                if tables and not wipe:
                    raise SystemExit(f"bench: {url} is not empty; give --wipe to let the benchmark empty it")
                await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
        assert Base.metadata.tables
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> Report:
    from bot.settings import load_settings
    from db.importer import import_paths
    from db.session import create_engine, create_session_pool

    scale: float = args.scale
    size = Size.scaled(scale)
    work = Path(args.work)
    exports = work / f"exports-{scale:g}"
    marker = exports / "size.json"
    if not marker.exists() or json.loads(marker.read_text()) != size.as_dict():
        shutil.rmtree(exports, ignore_errors=True)
        print(f"writing the dataset to {exports} ...", flush=True)
        start = time.perf_counter()
        files = write_dataset(exports, size)
        marker.write_text(json.dumps(size.as_dict()))
        (exports / "rows.json").write_text(json.dumps({k: v[1] for k, v in files.items()}))
        print(f"  written in {time.perf_counter() - start:.1f} s", flush=True)
    rows = json.loads((exports / "rows.json").read_text())
    paths = {entity: exports / ("Master.csv" if entity == "pbx" else f"{entity}.csv") for entity in rows}

    url = args.database_url or os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        db_file = work / "bench.db"
        remove_database_files(db_file)
        url = f"sqlite+aiosqlite:///{db_file}"
    database = "postgresql" if url.startswith("postgresql") else "sqlite"
    await prepare_database(url, args.wipe)
    settings = load_settings(database_url=url, bot_token="42:BENCH", timezone="Europe/Moscow", _env_file=None)
    report = Report(scale, size, database)
    report.data.update(rows=rows)
    print(f"\nkpibot bench: {database}, scale {scale:g}, {os.cpu_count()} cores, {rows}\n", flush=True)

    engine = create_engine(url)
    pool = create_session_pool(engine)
    imported_at = datetime(2024, 6, 18, 2, 0)  # 05:00 in Moscow on the benchmark's morning
    try:
        if args.only_reimport:  # the export imported once, unmeasured against the plain insert
            print("1. import (every file at once; steps 2-4 left out)", flush=True)
            seconds = await timed(lambda: import_paths(pool, list(paths.values()), zone=settings.zone, now=imported_at))
            report.data["import_all_at_once_s"] = seconds
            report.add("import of every file at once", f"{seconds:.1f} s")
        # 1. import, file by file, against the plainest bulk insert of the same rows
        else:
            print("1. import", flush=True)
        ratios = []
        for entity, path in paths.items() if not args.only_reimport else ():
            with MemoryWatch() as memory:
                seconds = await timed(lambda p=path: import_paths(pool, [p], zone=settings.zone, now=imported_at))
            early, late = memory.growth()
            if database == "sqlite":
                plain = plain_sqlite(path, work / "plain.db")
            else:
                plain = await plain_postgres(path, url)
            ratio = plain / seconds
            ratios.append(ratio)
            report.data.setdefault("import", {})[entity] = {
                "rows": rows[entity], "seconds": seconds, "rows_per_s": rows[entity] / seconds,
                "plain_seconds": plain, "plain_rows_per_s": rows[entity] / plain, "ratio": ratio,
                "memory_growth_first_quarter_mb": early, "memory_growth_after_mb": late,
            }  # fmt: skip
            report.add(f"import {entity} ({rows[entity]:,} rows)", f"{rows[entity] / seconds:,.0f} rows/s",
                       f"plain {rows[entity] / plain:,.0f}/s", None)  # fmt: skip
            report.add("  ratio to plain bulk insert", f"{ratio:.2f}", f"≥ {TARGETS['import_ratio']:.2f}",
                       ratio >= TARGETS["import_ratio"])  # fmt: skip
            report.add("  memory growth: first quarter / after", f"{early:.0f} / {late:.0f} MB",
                       f"after ≤ {TARGETS['import_late_growth_mb']:.0f} MB",
                       late <= TARGETS["import_late_growth_mb"])  # fmt: skip
        remove_database_files(work / "plain.db")

        # 2. every digest of the morning
        if not args.only_reimport:
            print("2. digests", flush=True)
            digests = await measure_digests(pool, settings, report)

            # 3. commands through the real Dispatcher
            print("3. commands", flush=True)
            await measure_commands(pool, settings, report, args.repeat)

        # 4. broadcast through the sender against a fake Bot API limiting like Telegram
        if not args.skip_broadcast and not args.only_reimport:
            print("4. broadcast", flush=True)
            await measure_broadcast(pool, settings, report, digests)

        # 5. the nightly re-import: the same files, then the export once 1C and the PBX appended a day
        print("5. re-import of unchanged data, and of an export that appended a day", flush=True)
        start = time.perf_counter()
        result = await import_paths(pool, list(paths.values()), zone=settings.zone, now=imported_at + timedelta(days=1))
        seconds = time.perf_counter() - start
        changed = sum(c.added + c.updated + c.removed for c in result.counts.values())
        report.data["reimport"] = {"seconds": seconds, "changed_rows": changed}
        report.add("re-import, the same files", f"{seconds:.1f} s", f"< {TARGETS['reimport_s']:.0f} s",
                   seconds < TARGETS["reimport_s"])  # fmt: skip
        report.add("  rows changed by it", f"{changed}", "0", changed == 0)
        report.add("  files recognised as unchanged", f"{len(result.skipped)} of {len(paths)}")

        appended_folder, appended = append_day(exports, work / f"exports-{scale:g}-next-{database}", size, rows)
        next_paths = [appended_folder / path.name for path in paths.values()]
        start = time.perf_counter()
        result = await import_paths(pool, next_paths, zone=settings.zone, now=imported_at + timedelta(days=2))
        seconds = time.perf_counter() - start
        added = sum(c.added for c in result.counts.values())
        changed = sum(c.updated + c.removed for c in result.counts.values())
        report.data["reimport_appended_day"] = {"seconds": seconds, "appended_rows": appended, "added_rows": added,
                                                "changed_rows": changed}  # fmt: skip
        report.add(f"re-import, a day appended ({sum(appended.values()):,} rows)", f"{seconds:.1f} s",
                   f"< {TARGETS['reimport_s']:.0f} s", seconds < TARGETS["reimport_s"])  # fmt: skip
        report.add("  rows added / changed by it", f"{added} / {changed}", f"{sum(appended.values())} / 0",
                   added == sum(appended.values()) and changed == 0)  # fmt: skip

        # 6. the same rows in files whose bytes all differ: every row read, every row unchanged
        print("6. re-import of an export whose files changed but whose rows did not", flush=True)
        rewritten = rewrite_export(appended_folder, work / f"exports-{scale:g}-quoted-{database}")
        start = time.perf_counter()
        result = await import_paths(pool, [rewritten / path.name for path in paths.values()], zone=settings.zone,
                                    now=imported_at + timedelta(days=2))  # fmt: skip
        seconds = time.perf_counter() - start
        changed = sum(c.added + c.updated + c.removed for c in result.counts.values())
        unchanged = sum(c.unchanged for c in result.counts.values())
        report.data["reimport_files_changed_rows_not"] = {
            "seconds": seconds, "changed_rows": changed, "unchanged_rows": unchanged, "skipped": result.skipped
        }  # fmt: skip
        report.add("re-import, files changed, rows not (every cell quoted)", f"{seconds:.1f} s",
                   f"< {TARGETS['reimport_s']:.0f} s", seconds < TARGETS["reimport_s"])  # fmt: skip
        report.add("  rows changed by it ", f"{changed}", "0", changed == 0 and not result.skipped)
    finally:
        await engine.dispose()
    return report


async def measure_digests(pool: Any, settings: Any, report: Report) -> dict[str, str]:
    from db import queries
    from jobs.digests import build_digest, morning, prepare
    from jobs.morning import keep_for_today

    now = datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0, tzinfo=settings.zone)
    texts: dict[str, str] = {}
    times: list[float] = []
    # the morning job's own step before any digest: the ledger brought to the day and the day's
    # findings stored (what every screen reads all day); measured apart from the digests
    async with pool() as session, session.begin():
        start = time.perf_counter()
        await keep_for_today(session, TODAY, settings, now.astimezone(UTC).replace(tzinfo=None))
        keep_seconds = time.perf_counter() - start
    report.data["morning_keep_s"] = keep_seconds
    report.add("morning job: ledger to the day, findings stored", f"{keep_seconds:.2f} s")
    async with pool() as session, session.begin():
        start = time.perf_counter()
        employees = await queries.list_employees(session, active_only=True)
        context = await morning(session, TODAY, settings, now)
        await prepare(session, context, employees, settings)  # as the morning job: each shared read once
        context_seconds = time.perf_counter() - start
        for employee in employees:
            one = time.perf_counter()
            texts[employee.id] = (await build_digest(session, employee, TODAY, settings, context)).text
            times.append(time.perf_counter() - one)
        total = time.perf_counter() - start
    report.data["digests"] = {
        "employees": len(employees), "total_s": total, "context_s": context_seconds,
        "median_ms": statistics.median(times) * 1000, "p95_ms": percentile(times, 0.95) * 1000,
    }  # fmt: skip
    report.add(f"all {len(employees):,} digests (incl. shared reads)", f"{total:.2f} s",
               f"< {TARGETS['digests_total_s']:.0f} s", total < TARGETS["digests_total_s"])  # fmt: skip
    report.add("  shared reads and discipline findings", f"{context_seconds:.2f} s")
    report.add("  per employee: median / p95", f"{statistics.median(times) * 1000:.1f} / "
               f"{percentile(times, 0.95) * 1000:.1f} ms")  # fmt: skip
    return texts


async def measure_commands(pool: Any, settings: Any, report: Report, repeat: int) -> None:
    import random

    from sqlalchemy import event

    from bot.app import create_bot, create_dispatcher
    from db import queries
    from handlers.middlewares import ThrottleMiddleware
    from tests.telegram import Client, RecordingSession

    now = datetime(TODAY.year, TODAY.month, TODAY.day, 10, 0, tzinfo=settings.zone)
    session = RecordingSession()
    bot = create_bot(settings, session=session)
    dp = create_dispatcher(settings, pool, clock=lambda: now, throttle=ThrottleMiddleware(burst=10**9, rate=10**9))
    async with pool() as db:
        employees = await queries.list_employees(db, active_only=True)
    managers = [e for e in employees if e.role == "manager"]
    supervisors = [e for e in employees if e.role == "supervisor"]
    admin = next(e for e in employees if e.role == "admin")
    team_size = {s.id: sum(1 for m in managers if m.team == s.team) for s in supervisors}
    largest = max(supervisors, key=lambda s: (team_size[s.id], s.id))
    rng = random.Random(7)
    cases: list[tuple[str, list[Any]]] = [
        ("/kpi", managers), ("/debtors", managers), ("/calls", managers),
        (f"/team (largest team, {team_size[largest.id]} managers)", [largest]), ("/team (admin, all)", [admin]),
        ("/report", managers), (f"/report (largest team, {team_size[largest.id]} managers)", [largest]),
        ("/chart", managers),  # a manager's first /chart of the day and import is drawn, a repeat is cached
    ]  # fmt: skip
    report.data["commands"] = {}
    statements = [0]  # SQL statements sent (round trips; a transaction's BEGIN/COMMIT not counted)

    def count(*_: Any) -> None:
        statements[0] += 1

    engine = pool.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    for label, people in cases:
        command = label.split()[0]
        times: list[float] = []
        sent = 0
        budget = time.perf_counter() + COMMAND_BUDGET_S
        for n in range(repeat + 1):
            person = rng.choice(people)
            client = Client(dp, bot, session, person.telegram_id or 0)
            before = statements[0]
            spent = await timed(lambda c=client, text=command: c.send(text))
            if n:  # the first call warms up (and computes the day's findings once)
                times.append(spent * 1000)
                sent += statements[0] - before
            if n >= 3 and time.perf_counter() > budget:  # a slow command: fewer calls, still measured
                break
        p50, p95 = percentile(times, 0.5), percentile(times, 0.95)
        report.data["commands"][label] = {"p50_ms": p50, "p95_ms": p95, "calls": len(times),
                                          "statements_per_call": sent / len(times)}  # fmt: skip
        target = TARGETS["file_p95_ms"] if command in {"/report", "/chart"} else TARGETS["command_p95_ms"]
        report.add(f"{label}: p50 / p95", f"{p50:.1f} / {p95:.1f} ms", f"p95 < {target:.0f} ms", p95 < target)
    event.remove(engine, "before_cursor_execute", count)


async def measure_broadcast(pool: Any, settings: Any, report: Report, digests: dict[str, str]) -> None:
    from bot.app import create_bot
    from bot.settings import load_settings
    from db import queries
    from db.queries.outbox import undelivered_ids
    from jobs.outbox import Message, Sender, deliver, enqueue
    from tests.fake_bot_api import FakeBotApi

    async with pool() as session, session.begin():
        managers = [e for e in await queries.list_employees(session, active_only=True) if e.role == "manager"]
        chosen = managers[:1000]
        messages = [Message(e.id, "digest", TODAY, e.telegram_id or 0, digests[e.id]) for e in chosen]
        await enqueue(session, messages, datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=1))
    api = FakeBotApi(rate=30)
    url = await api.start()
    bot = create_bot(load_settings(database_url=settings.database_url, bot_token="42:BENCH", telegram_api_url=url,
                                   _env_file=None))  # fmt: skip
    try:
        sender = Sender(bot, pool, rate=settings.send_rate, lease_seconds=settings.outbox_lease_seconds,
                        zone=settings.zone)  # fmt: skip
        async with pool() as session:
            ids = await undelivered_ids(session, TODAY)
        start = time.perf_counter()
        outcome = await deliver(sender, ids)
        seconds = time.perf_counter() - start
        left = outcome.pending
    finally:
        await bot.session.close()
        await api.stop()
    floor = len(chosen) / 30
    ratio = seconds / floor
    delivered = len({p["chat_id"] for p in api.sent()})
    report.data["broadcast"] = {
        "messages": len(chosen), "seconds": seconds, "floor_s": floor, "ratio": ratio, "delivered": delivered,
        "refused_429": sum(1 for p in api.refused if p["error_code"] == 429), "left": left, "sent": outcome.sent,
    }  # fmt: skip
    report.add(f"broadcast of {len(chosen):,} digests", f"{seconds:.1f} s", f"floor {floor:.1f} s")
    report.add("  ratio to the Telegram-limited floor", f"{ratio:.3f}", f"≤ {TARGETS['broadcast_ratio']}",
               ratio <= TARGETS["broadcast_ratio"])  # fmt: skip
    refused = report.data["broadcast"]["refused_429"]
    report.add("  delivered exactly once, 429s", f"{delivered}/{len(chosen)}, {refused}", "all, 0",
               delivered == len(chosen) == outcome.sent and not left)  # fmt: skip


def save(report: Report, results: Path) -> Path:
    results.mkdir(parents=True, exist_ok=True)
    path = (
        results / f"{date.today():%Y-%m-%d}-{report.database}{'' if report.scale == 1 else f'-x{report.scale:g}'}.json"
    )
    payload = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": report.database,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "scale": report.scale,
        "size": report.size.as_dict(),
        "targets": TARGETS,
        "results": report.data,
        "table": [{"what": w, "value": v, "target": t, "verdict": o} for w, v, t, o in report.rows],
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="dataset size: 1 = 1,000 managers, 100,000 contracts")
    parser.add_argument("--work", default=str(ROOT / "bench" / "data"), help="where the dataset and SQLite file go")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"), help="where the JSON goes")
    parser.add_argument(
        "--database-url", help="PostgreSQL to measure (default: DATABASE_URL if PostgreSQL, else SQLite)"
    )
    parser.add_argument("--wipe", action="store_true", help="allow emptying a non-empty PostgreSQL database")
    parser.add_argument("--repeat", type=int, default=30, help="calls per command measured")
    parser.add_argument("--skip-broadcast", action="store_true", help="leave out the broadcast (it takes ~36 s)")
    parser.add_argument("--no-save", action="store_true", help="print only, write no JSON")
    parser.add_argument("--only-reimport", action="store_true",
                        help="import every file at once, then only the nightly re-imports (steps 5-6)")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    import logging

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, str(ROOT))  # the recording session and the fake Bot API live with the tests
    report = asyncio.run(run(args))
    missed = [row for row in report.rows if row[3] == "MISSED"]
    if not args.no_save:
        print(f"\nresults: {save(report, Path(args.results))}")
    print(f"{len(missed)} target(s) missed" if missed else "every target met")
    return 0

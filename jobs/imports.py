"""The import job: the watched folder (``IMPORT_DIR``) into the database, with nobody at the keyboard.

The scheduler fires :func:`imports_job` every minute. Each run looks at the folder through a
:class:`SettleWatch`: a file counts once its size and mtime have been still for
``IMPORT_SETTLE_SECONDS`` (1C and a copy over a share write a file in pieces; a half-written file is
never read). When every file has settled and the set differs from the one imported last, the folder
is imported with the same all-or-nothing :func:`db.importer.import_paths` as ``kpibot import``
(byte-identical files are skipped there). At ``IMPORT_TIME`` the night's run happens even if nothing
changed, so a missing export is noticed.

With ``ODATA_URL`` set the same job runs the OData sync (:func:`sync_night`) after the folder: at
the first run at or after ``IMPORT_TIME`` on a working day, and once more at the first run after
``kpibot run`` starts past ``IMPORT_TIME`` (after a deploy or a crash the data catch up). The folder
goes first because the default OData mapping does not sync employees: they come from
``employees.csv`` (in the folder or imported by hand), and the synced contracts and interactions name
them; the PBX's ``Master.csv`` needs only the employees too. A sync retries network faults and 5xx
answers with backoff inside :mod:`db.importer.odata`; the job itself does not try again that day.

Every attempt is recorded in ``import_attempts`` (source ``folder`` or ``odata``; files, rows,
problems, duration). A failed or missing night import of the folder tells the admins once a day
through the outbox (kind ``import``), and a failed sync once a day too (kind ``sync``: the outbox
keeps one message per employee, kind and day, so both reach them when both fail), with the first
problem lines; the data stay as they were. The sync runs before ``DIGEST_TIME``, so its notice does.

:func:`sources` lists what the job imports, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot import texts
from bot.settings import Settings
from db import queries
from db.attempts import FIRST_PROBLEMS, Attempt, night_attempted, record, run_import, run_sync
from db.queries.outbox import release_lease, take_lease
from db.session import SessionPool
from jobs.outbox import Message, enqueue

log = logging.getLogger(__name__)

WATCHED = {".csv", ".xlsx"}  # the files a folder import reads (db.importer.sources.discover)
Stamp = tuple[int, int]  # (size in bytes, mtime in ns)


@dataclass
class SettleWatch:
    """What the folder looked like at the previous checks: a file is settled once its (size, mtime)
    has not changed for ``settle`` seconds of the clock the caller passes (never the wall clock
    itself, so tests run on a fake one)."""

    settle: timedelta
    seen: dict[Path, tuple[Stamp, datetime]] = field(default_factory=dict)  # path -> (stamp, still since)
    imported: frozenset[tuple[Path, Stamp]] | None = None  # the settled set imported last

    def look(self, folder: Path, now: datetime) -> tuple[frozenset[tuple[Path, Stamp]], bool]:
        """The folder's files with their stamps, and whether every one of them has settled."""
        current: dict[Path, Stamp] = {}
        for path in sorted(folder.iterdir()):  # what ``import_paths`` reads of a folder
            if path.name.startswith(".") or path.suffix.lower() not in WATCHED or not path.is_file():
                continue  # .~lock files, partial downloads, subfolders
            try:
                stat = path.stat()
            except OSError:  # removed between listing and stat: it is not there
                continue
            current[path] = (stat.st_size, stat.st_mtime_ns)
        settled = True
        for path, stamp in current.items():
            previous = self.seen.get(path)
            if previous is None or previous[0] != stamp:
                self.seen[path] = (stamp, now)
                settled = settled and self.settle <= timedelta(0)
            elif now - previous[1] < self.settle:
                settled = False
        for path in set(self.seen) - set(current):
            del self.seen[path]
        return frozenset(current.items()), settled


async def tell_admins(pool: SessionPool, day: date, text: str, now_utc: datetime, kind: str = "import") -> int:
    """The notice to every linked admin, once a day per ``kind`` (the outbox's key: employee, kind,
    day): ``import`` for the folder, ``sync`` for the OData sync. The number of messages enqueued."""
    async with pool() as session, session.begin():
        admins = [e for e in await queries.list_employees(session, active_only=True)
                  if e.role == "admin" and e.telegram_id]  # fmt: skip
        return await enqueue(session, [Message(a.id, kind, day, a.telegram_id or 0, text) for a in admins], now_utc)


def fresh(files: frozenset[tuple[Path, Stamp]], now: datetime) -> bool:
    """Whether any file was written in the day before ``now``: the night's export did arrive (1C
    writes its files anew every night, even when the data did not change)."""
    since = (now - timedelta(days=1)).timestamp() * 1e9
    return any(mtime >= since for _, (_, mtime) in files)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


async def import_folder(pool: SessionPool, settings: Settings, watch: SettleWatch, now: datetime) -> Attempt | None:
    """One look at ``IMPORT_DIR`` at ``now`` (local, aware): import it if its settled files changed,
    or at ``IMPORT_TIME`` for the night's run; tell the admins once when the night's run failed or
    found nothing new by ``DIGEST_TIME``. The attempt made, if any."""
    folder = settings.import_dir
    if folder is None:
        return None
    files, settled = watch.look(folder, now)
    today = now.date()
    night_at = datetime.combine(today, settings.import_time, now.tzinfo)
    digest_at = datetime.combine(today, settings.digest_time, now.tzinfo)
    async with pool() as session:
        night_done = now >= night_at and await night_attempted(session, "folder", utc(night_at))
    night_due = night_at <= now < digest_at and not night_done and settings.calendar.is_working_day(today)
    if not settled:
        if night_due and now >= digest_at - timedelta(minutes=1):
            await tell_admins(pool, today, texts.import_missing(folder, unsettled=True), utc(now))
        return None
    if not files:
        if night_due:
            await record(pool, Attempt("folder", False, [], 0, [texts.IMPORT_DIR_EMPTY]), utc(now), 0.0)
            await tell_admins(pool, today, texts.import_missing(folder, unsettled=False), utc(now))
        watch.imported = files
        return None
    if files == watch.imported and not night_due:
        return None
    attempt = await run_import(pool, "folder", [folder], utc(now), zone=settings.zone, pbx_zone=settings.pbx_zone)
    watch.imported = files
    if night_due and not attempt.ok:
        await tell_admins(pool, today, texts.import_failed_notice(attempt.problems, FIRST_PROBLEMS), utc(now))
    elif night_due and not fresh(files, now):
        await tell_admins(pool, today, texts.import_missing(folder, unsettled=False), utc(now))
    log.info("imported %s: %s", folder, "ok" if attempt.ok else f"{len(attempt.problems)} problem(s), nothing written")
    return attempt


@dataclass
class SyncState:
    """What this process remembers of the sync: whether it has run one since it started."""

    ran: bool = False
    backoff: float = 1.0  # seconds of the first retry's wait (tests shorten it)


async def sync_night(pool: SessionPool, settings: Settings, state: SyncState, now: datetime) -> Attempt | None:
    """The night's OData sync at ``now`` (local, aware), recorded as an attempt of source ``odata``.

    Due on a working day from ``IMPORT_TIME`` on, when no sync was attempted since ``IMPORT_TIME``
    today, or when this process has not synced yet (a restart catches up). A failed sync (401, a
    500 that outlasted the retries, a bad value, a broken mapping) writes nothing and tells the
    admins once that day with the first problem lines. ``None`` when nothing was due."""
    if not settings.odata_url:
        return None
    today = now.date()
    night_at = datetime.combine(today, settings.import_time, now.tzinfo)
    if now < night_at or not settings.calendar.is_working_day(today):
        return None
    if state.ran:
        async with pool() as session:
            if await night_attempted(session, "odata", utc(night_at)):
                return None
    state.ran = True
    attempt = await run_sync(pool, settings, utc(now), backoff=state.backoff)
    if attempt.ok:
        log.info("synced 1C over OData: %d row(s) from %s", attempt.rows, ", ".join(attempt.files))
    else:
        log.warning("the OData sync failed, nothing written: %s", attempt.problems[0])
        await tell_admins(pool, today, texts.sync_failed_notice(attempt.problems, FIRST_PROBLEMS), utc(now), "sync")
    return attempt


NIGHT_WAIT = timedelta(minutes=10)  # how long the digests wait for the night's import and sync


async def night_pending(pool: SessionPool, settings: Settings, now: datetime, started: datetime) -> bool:
    """Whether the morning's digests should wait a minute for the night's data: on a working day
    from ``IMPORT_TIME`` on, a configured source (the folder, the sync) has no attempt since then,
    by any instance, and it is less than :data:`NIGHT_WAIT` past ``IMPORT_TIME`` or this process's
    start (``started``), whichever is later (``now``, ``started``: local, aware). After that the
    digests go out on what there is, and the admins have been told what is missing."""
    configured = [name for name, on in (("folder", settings.import_dir is not None),
                                        ("odata", bool(settings.odata_url))) if on]  # fmt: skip
    night_at = datetime.combine(now.date(), settings.import_time, now.tzinfo)
    if not configured or now < night_at or now >= max(night_at, started) + NIGHT_WAIT:
        return False
    if not settings.calendar.is_working_day(now.date()):
        return False
    async with pool() as session:
        for source in configured:
            if not await night_attempted(session, source, utc(night_at)):
                return True
    return False


Importer = Callable[[SessionPool, Settings, datetime], Awaitable[object]]


def sources(settings: Settings, watch: SettleWatch, state: SyncState | None = None) -> list[tuple[str, Importer]]:
    """What the job imports, in order: the watched folder (when ``IMPORT_DIR`` is set), then the
    OData sync (when ``ODATA_URL`` is set); the folder first, because the synced contracts name the
    employees that ``employees.csv`` brings."""
    found: list[tuple[str, Importer]] = []
    if settings.import_dir is not None:
        found.append(("folder", lambda pool, s, now: import_folder(pool, s, watch, now)))
    if settings.odata_url:
        sync = state or SyncState()
        found.append(("odata", lambda pool, s, now: sync_night(pool, s, sync, now)))
    return found


def imports_job(
    pool: SessionPool,
    settings: Settings,
    clock: Callable[[], datetime],
    wake: Callable[[], None],
    state: SyncState | None = None,
) -> Callable[[], Awaitable[None]]:
    """The scheduler's job, every minute: each source in turn; never raise into the scheduler."""
    watch = SettleWatch(timedelta(seconds=settings.import_settle_seconds))
    order = sources(settings, watch, state)

    async def job() -> None:
        for name, importer in order:
            try:
                await importer(pool, settings, clock())
            except Exception:
                log.exception("the %s import failed; the next run (in a minute) tries again", name)
        wake()  # a notice may be waiting

    return job


IMPORTS_LEASE = "imports"  # the watched folder and the OData sync: one instance at a time
LEASE = timedelta(seconds=50)  # taken every minute, renewed every RENEW while an import runs
RENEW = 15.0  # seconds
LOOK_WAIT = 60.0  # seconds the morning job waits at start-up for the import job's first look


class NightImports:
    """``kpibot run``'s import job and the morning job's wait for it, on one instance of several.

    :meth:`run_once` (every minute): of the instances on one database, the one holding the
    ``imports`` lease imports the folder and syncs (:func:`imports_job`), renewing the lease while a
    long sync runs, so no other starts the same. :meth:`morning_may_run`: the morning job waits for
    an import running here and, at start-up, for the first look at the sources; then, while
    :func:`night_pending` (another instance may be importing), it skips its minute.
    ``clock``: local, aware.
    """

    def __init__(self, pool: SessionPool, settings: Settings, clock: Callable[[], datetime],
                 wake: Callable[[], None], instance: str) -> None:  # fmt: skip
        self.pool, self.settings, self.clock, self.instance = pool, settings, clock, instance
        self.configured = settings.import_dir is not None or bool(settings.odata_url)
        self.job = imports_job(pool, settings, clock, wake) if self.configured else None
        self.started = clock()
        self.running = asyncio.Lock()
        self.looked = asyncio.Event()
        if not self.configured:
            self.looked.set()

    async def hold(self) -> bool:
        now = datetime.now(UTC).replace(tzinfo=None)
        async with self.pool() as session, session.begin():
            return await take_lease(session, IMPORTS_LEASE, self.instance, now, now + LEASE)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW)
            with contextlib.suppress(Exception):  # the next minute's run takes it again
                await self.hold()

    async def run_once(self) -> None:
        """The scheduler's minute; never raises into it."""
        try:
            async with self.running:
                self.looked.set()
                if self.job is None:
                    return
                try:
                    held = await self.hold()
                except Exception as error:
                    log.warning("cannot take the imports lease (the next minute tries again): %s", error)
                    return
                if not held:
                    return
                renewing = asyncio.create_task(self._renew())
                try:
                    await self.job()
                finally:
                    renewing.cancel()
        finally:
            self.looked.set()

    async def morning_may_run(self) -> bool:
        """Whether the morning job may run this minute (see the class)."""
        with contextlib.suppress(TimeoutError):  # the import job's first minute starts with this one
            await asyncio.wait_for(self.looked.wait(), LOOK_WAIT)
        async with self.running:
            pass
        if not self.configured:
            return True
        try:
            return not await night_pending(self.pool, self.settings, self.clock(), self.started)
        except Exception as error:  # the database is away: the morning job says so itself
            log.warning("cannot tell whether the night's import is done: %s", error)
            return True

    async def release(self) -> None:
        """On stopping: a restart (this or another instance) imports and syncs at once."""
        async with self.pool() as session, session.begin():
            await release_lease(session, IMPORTS_LEASE, self.instance)

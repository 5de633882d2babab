"""The ``kpibot`` command line. Every command applies the migrations first.

Errors end with one clear line on stderr and a non-zero status, never a traceback:
1 for a failed operation (bad import, unknown employee), 2 for bad settings or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import select
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from bot import texts
from bot.clock import local_of_utc, local_stamp
from bot.rules import Month
from bot.settings import ConfigError, Settings, load_settings
from db import queries
from db.importer import FULL_ENTITIES, MAX_PRINTED_PROBLEMS, ImportFailed, import_paths
from db.importer.sources import Source
from db.migrate import upgrade
from db.session import SessionPool, create_engine, create_session_pool

log = logging.getLogger("kpibot")


class CommandError(Exception):
    """A user-level failure: printed as one line, exit status 1."""


@asynccontextmanager
async def open_database(settings: Settings, *, create: bool = False) -> AsyncIterator[SessionPool]:
    """The migrated database; a SQLite file that is not there is made only with ``create`` (import,
    run, demo), else the command stops saying where it looked."""
    database = sqlite_file(settings.database_url)
    if database is not None and not database.exists():
        if not create:
            raise CommandError(
                f"no database at {database}: import the 1C exports first (kpibot import PATH), "
                "or set DATABASE_URL in .env to the database kpibot run uses"
            )
        database.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.database_url)
    try:
        try:
            await upgrade(engine)
        except (OperationalError, DBAPIError, OSError) as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            shown = make_url(settings.database_url).render_as_string(hide_password=True)
            raise CommandError(f"cannot open the database ({shown}): {reason}") from None
        yield create_session_pool(engine)
    finally:
        await engine.dispose()


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite+aiosqlite:///…`` URL (``None``: another database or in memory)."""
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix) or url[len(prefix) :] in {"", ":memory:"}:
        return None
    return Path(url[len(prefix) :].split("?", 1)[0])


# The years a date or month argument may name: the importer's range (docs/import.md), which every
# calendar computation (the month before, a week back, a working-day count) stays inside.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def parse_day(text: str) -> date:
    """``2019-02-25`` → a date within FIRST_YEAR..LAST_YEAR; ``ArgumentTypeError`` otherwise."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date YYYY-MM-DD") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date between {FIRST_YEAR} and {LAST_YEAR}")
    return day


def local_today(settings: Settings) -> date:
    return datetime.now(settings.zone).date()


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------


def _progress_factory() -> Callable[[Source], Any] | None:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def make(source: Source) -> Any:
        if source.size:
            return tqdm(total=source.size, unit="B", unit_scale=True, desc=source.label, leave=False)
        return tqdm(unit=" rows", desc=source.label, leave=False)

    return make


async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from db.attempts import Attempt, record, rows_of  # every attempt is kept for /status

    started, clock = utc_now(), time.monotonic()
    async with open_database(settings, create=True) as pool:
        try:
            report = await import_paths(
                pool,
                [Path(p) for p in args.paths],
                zone=settings.zone,
                now=utc_now(),
                pbx_zone=settings.pbx_zone,
                full=args.full,
                progress=_progress_factory(),
            )
        except DBAPIError as error:
            # the importer checks every value before writing it, so this is the database itself (gone,
            # full, locked): its own first line, never the statement or its parameters
            reason = str(error.orig or type(error).__name__).strip().splitlines()[0]
            raise CommandError(f"the database stopped the import, nothing was imported: {reason}") from None
        except ImportFailed as failure:
            failed = Attempt("cli", False, [Path(p).name for p in args.paths], 0, failure.problems)
            await record(pool, failed, started, time.monotonic() - clock)
            for line in failure.problems[:MAX_PRINTED_PROBLEMS]:
                print(line, file=sys.stderr)
            hidden = len(failure.problems) - MAX_PRINTED_PROBLEMS
            if hidden > 0:
                print(f"... and {hidden} more problem(s)", file=sys.stderr)
            raise CommandError(f"{len(failure.problems)} problem(s) found; nothing was imported") from None
        await record(pool, Attempt("cli", True, report.files, rows_of(report), []), started, time.monotonic() - clock)
    for note in report.notes:
        print(f"note: {note}")
    print(f"{'entity':<14}{'added':>10}{'updated':>10}{'unchanged':>11}{'removed':>10}")
    for entity, counts in report.counts.items():
        print(f"{entity:<14}{counts.added:>10}{counts.updated:>10}{counts.unchanged:>11}{counts.removed:>10}")
    print(f"imported {len(report.files)} file(s): {', '.join(report.files)}")
    if report.skipped:
        print(f"unchanged since the last import, not read again: {', '.join(report.skipped)}")
    return 0


def _fetch_progress_factory() -> Callable[[str], Any] | None:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def make(entity_set: str) -> Any:
        return tqdm(unit=" entries", desc=entity_set, leave=False)

    return make


async def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from db.importer.odata import ODataError, check_odata, sync_odata
    from db.importer.odata_mapping import MappingError

    if not settings.odata_url:
        raise ConfigError("Setting ODATA_URL is empty: put 1C's http://host/base/odata/standard.odata/ into .env")
    if args.check:
        try:
            lines, ok = await check_odata(settings)
        except ODataError as error:
            raise CommandError(f"cannot check 1C: {error}") from None
        except MappingError as error:
            raise CommandError(f"ODATA_MAPPING: {error}") from None
        for line in lines:
            print(line)
        if not ok:
            raise CommandError("1C lacks what the mapping reads (MISSING above): see docs/odata.md")
        print("everything the mapping reads is published")
        return 0
    try:
        async with open_database(settings) as pool:
            try:
                report = await sync_odata(
                    pool, settings, utc_now(), progress=_fetch_progress_factory(), import_progress=_progress_factory()
                )
            except DBAPIError as error:
                reason = str(error.orig or type(error).__name__).strip().splitlines()[0]
                raise CommandError(f"the database stopped the sync, nothing was imported: {reason}") from None
            except ImportFailed as failure:
                for line in failure.problems[:MAX_PRINTED_PROBLEMS]:
                    print(line, file=sys.stderr)
                hidden = len(failure.problems) - MAX_PRINTED_PROBLEMS
                if hidden > 0:
                    print(f"... and {hidden} more problem(s)", file=sys.stderr)
                raise CommandError(f"{len(failure.problems)} problem(s) found; nothing was imported") from None
    except ODataError as error:
        raise CommandError(f"sync failed, nothing was imported: {error}") from None
    except MappingError as error:
        raise CommandError(f"ODATA_MAPPING: {error}") from None
    for note in report.notes:
        print(f"note: {note}")
    print(f"{'entity':<14}{'added':>10}{'updated':>10}{'unchanged':>11}{'removed':>10}")
    for entity, counts in report.counts.items():
        print(f"{entity:<14}{counts.added:>10}{counts.updated:>10}{counts.unchanged:>11}{counts.removed:>10}")
    print(f"synced {len(report.files)} entity set(s): {', '.join(report.files)}")
    return 0


async def cmd_employees(args: argparse.Namespace, settings: Settings) -> int:
    async with open_database(settings) as pool, pool() as session:
        employees = await queries.list_employees(session)
    if not employees:
        print("no employees yet: import employees.csv first (kpibot import PATH)")
        return 0
    print(f"{'id':<12}{'name':<32}{'role':<14}{'team':<22}telegram")
    for e in employees:
        link = f"linked ({e.telegram_id})" if e.telegram_id else "not linked"
        if not e.active:
            link += ", inactive"
        if e.unreachable_since:
            link += ", blocked the bot"
        print(f"{e.id:<12}{e.name[:31]:<32}{e.role:<14}{e.team[:21]:<22}{link}")
    linked = sum(1 for e in employees if e.telegram_id)
    print(f"{linked} of {len(employees)} linked to Telegram")
    return 0


async def print_digests(
    pool: SessionPool, settings: Settings, today: date, employee_id: str | None, now: datetime | None = None
) -> None:
    """Print the digests of ``today`` as of ``now`` (local; default: that day's digest time, what a
    replay of that morning saw). A preview: it never closes or freezes a month."""
    from jobs.digests import build_digest, morning

    async with pool() as session:
        if employee_id:
            employee = await queries.get_employee(session, employee_id)
            if employee is None:
                raise CommandError(f"no employee with id {employee_id} (see kpibot employees)")
            employees = [employee]
        else:
            employees = await queries.list_employees(session, active_only=True)
        if not employees:
            raise CommandError("no employees yet: import employees.csv first (kpibot import PATH)")
        context = await morning(session, today, settings, now)
        for employee in employees:
            digest = await build_digest(session, employee, today, settings, context)
            role = texts.ROLE_NAMES.get(employee.role, employee.role)
            print(f"══ {employee.name} ({role}, id {employee.id}) — {texts.short_date(today)} ══")
            print(texts.html_to_plain(digest.text))
            print()


async def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    if args.send:
        return await send_digests(args, settings)
    if args.force:
        raise CommandError("--force goes with --send (print the digests without it)")
    now = datetime.now(settings.zone).replace(tzinfo=None)
    today = args.date or now.date()
    async with open_database(settings) as pool:  # a preview: months close in the morning job or close-month
        await print_digests(pool, settings, today, args.employee, None if args.date else now)
    return 0


async def cmd_close_month(args: argparse.Namespace, settings: Settings) -> int:
    """``close-month YYYY-MM [--reopen]``: an admin closes a finished month before its close day
    (freezing its figures as of today), or reopens it (recorded; it is live again until closed)."""
    try:
        month = parse_month_arg(args.month)
    except ValueError as error:  # a bad argument: status 2, as argparse gives the other commands
        print(f"kpibot: {error}", file=sys.stderr)
        return 2
    today = local_today(settings)
    if month >= Month.of(today):
        raise CommandError(f"{month} is not finished yet: only a past month can be closed or reopened")
    async with open_database(settings) as pool, pool() as session, session.begin():
        if args.reopen:
            if not await queries.reopen_month(session, month, utc_now(), "kpibot close-month --reopen"):
                raise CommandError(f"{month} is not closed: nothing to reopen")
            print(f"{month} reopened: computed live until it is closed again (kpibot close-month {month})")
            return 0
        was_closed = await queries.is_closed(session, month)
        frozen = await queries.close_month(session, month, today, settings.kpi_tiers, utc_now(), "kpibot close-month")
    again = " again" if was_closed else ""
    print(f"{month} closed{again} as of {today:%d.%m.%Y}: figures of {frozen} manager(s) frozen")
    return 0


def parse_month_arg(text: str) -> Month:
    """``2026-11`` → ``Month(2026, 11)``; ``ValueError`` with a readable reason otherwise."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        parsed = Month(year, month)
    except ValueError:
        raise ValueError(f"'{text}' is not a month YYYY-MM (e.g. 2026-11)") from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise ValueError(f"'{text}' is not a month between {FIRST_YEAR} and {LAST_YEAR}")
    return parsed


async def send_digests(args: argparse.Namespace, settings: Settings) -> int:
    """``digest --send``: enqueue now (whatever the digest times) and see this run's rows delivered,
    with the day's rows still on their way (a killed run's, for instance).

    The rows are sent by whichever process holds the outbox (this one, or a ``kpibot run`` beside
    it); the command waits until each is sent or failed, or is due later than a minute from now.
    Exit 0 when every reachable employee got their messages (the unreachable are reported, not
    failures); 1 when anything failed otherwise or is still pending.
    """
    from bot.app import create_bot
    from db.queries.outbox import ids_of, undelivered_ids
    from jobs.morning import enqueue_digests
    from jobs.outbox import Sender, deliver

    settings.token()
    now = datetime.now(settings.zone)
    real_today = now.date()
    if args.date is not None:
        now = datetime.combine(args.date, now.timetz())
    today = now.date()
    async with open_database(settings) as pool:
        if args.employee:
            async with pool() as session:
                employee = await queries.get_employee(session, args.employee)
            if employee is None:
                raise CommandError(f"no employee with id {args.employee} (see kpibot employees)")
            if not employee.telegram_id:
                raise CommandError(f"{employee.name} (id {employee.id}) is not linked to Telegram (kpibot invite)")
        result = await enqueue_digests(
            pool, settings, now, employee_id=args.employee, any_time=True, force=args.force,
            close=today == real_today,
        )  # fmt: skip
        if not result.working_day:
            raise CommandError(
                f"{today:%d.%m.%Y} is not a working day (WORK_CALENDAR={settings.work_calendar}); "
                "add --force to send anyway"
            )
        print(f"{result.added} message(s) enqueued for {today:%d.%m.%Y}", flush=True)
        async with pool() as session:  # this run's rows, and the day's still on their way (a killed run's)
            ids = sorted(
                set(await ids_of(session, result.keys)) | set(await undelivered_ids(session, today, args.employee))
            )
        bot = create_bot(settings)
        try:
            sender = Sender(bot, pool, rate=settings.send_rate, lease_seconds=settings.outbox_lease_seconds,
                            zone=settings.zone)  # fmt: skip
            outcome = await deliver(sender, ids)
        finally:
            await bot.session.close()
    line = f"sent {outcome.sent}, unreachable {outcome.unreachable}, failed {outcome.failed}"
    line += f", pending {outcome.pending} of {outcome.total}"
    if outcome.pending:
        line += f" (left to {outcome.sender or 'kpibot run'})"
    print(line)
    if outcome.unreachable:
        print(f"{outcome.unreachable} employee message(s) not delivered: the person blocked the bot or left "
              "Telegram (see kpibot outbox); the admins were told")  # fmt: skip
    return 0 if outcome.complete else 1


OUTBOX_COLUMNS = (("day", 11), ("employee", 28), ("kind", 12), ("status", 9), ("tries", 6), ("sent at", 18))


def fit(text: str, width: int) -> str:
    """``text`` on one line in at most ``width`` characters, cut at a word boundary with "…"."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut and not text[width - 1].isspace():
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:-") + "…"


async def cmd_outbox(args: argparse.Namespace, settings: Settings) -> int:
    async with open_database(settings) as pool, pool() as session:
        rows = await queries.outbox_history(session, args.date)
    if not rows:
        print("the outbox is empty" + (f" for {args.date:%d.%m.%Y}" if args.date else ""))
        return 0
    zone = settings.zone
    print("".join(f"{title:<{width}}" for title, width in OUTBOX_COLUMNS) + "error")
    for row, name in rows:
        sent = local_stamp(row.sent_at, zone) if row.sent_at else ""
        cells = (f"{row.day:%d.%m.%Y}", name, row.kind, row.status, str(row.attempts), sent)
        columns = zip(cells, OUTBOX_COLUMNS, strict=True)
        line = "".join(f"{fit(cell, width - 1):<{width}}" for cell, (_, width) in columns)
        print(line + " ".join((row.error or "").split()))  # one line per row, whatever the error says
    counts: dict[str, int] = {}
    for row, _ in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    print(", ".join(f"{status}: {count}" for status, count in sorted(counts.items())))
    return 0


async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot import demo

    db_path = Path(args.db)
    demo.reset_database(db_path)
    files = demo.write_exports(Path(args.exports))
    demo_settings = load_settings(database_url=f"sqlite+aiosqlite:///{db_path}")
    async with open_database(demo_settings, create=True) as pool:
        try:
            await import_paths(pool, files, zone=demo_settings.zone, now=demo.DEMO_IMPORTED_AT_UTC)
        except ImportFailed as failure:  # pragma: no cover - the demo data is fixed
            raise CommandError("the demo data did not import: " + "; ".join(failure.problems[:5])) from None
        print(f"Demo database: {db_path} (1C exports in {args.exports}/)")
        print(f"Digests as of {texts.short_date(demo.DEMO_TODAY)}:\n")
        await print_digests(pool, demo_settings, demo.DEMO_TODAY, None)
    return 0


def parse_month_argument(text: str) -> Month:
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        parsed = Month(int(year), int(month))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a month YYYY-MM") from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise argparse.ArgumentTypeError(f"'{text}' is not a month between {FIRST_YEAR} and {LAST_YEAR}")
    return parsed


async def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """The 1C report "Расчёт оплат" as XLSX: every active manager, or one team's."""
    from handlers.report import report_file

    today = args.date or local_today(settings)
    month = args.month or Month.of(today)
    if month > Month.of(today):
        raise CommandError(f"the month {month} has not begun on {today:%d.%m.%Y}")
    async with open_database(settings) as pool, pool() as session:
        managers = [e for e in await queries.list_employees(session, active_only=True) if e.role == "manager"]
        if args.team is not None:
            teams = sorted({m.team for m in managers})
            managers = [m for m in managers if m.team.casefold() == args.team.strip().casefold()]
            if not managers:
                known = ", ".join(f"'{t}'" for t in teams) or "none (import employees.csv first)"
                raise CommandError(f"no active managers in team '{args.team}'; the teams are: {known}")
        if not managers:
            raise CommandError("no active managers yet: import employees.csv first (kpibot import PATH)")
        managers.sort(key=lambda m: (m.name, m.id))
        title = f"Команда «{managers[0].team}»" if args.team is not None else "Все команды"
        file = await report_file(session, managers, title, month, today, settings)
    target = Path(args.output) if args.output else Path(file.name)
    try:
        target.write_bytes(file.content)
    except OSError as error:
        raise CommandError(f"cannot write {target}: {error.strerror or error}") from None
    print(f"{target}: {texts.html_to_plain(file.caption).splitlines()[0].removeprefix('📊 ')}")
    return 0


async def cmd_invite(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.invite import invite_link

    async with open_database(settings) as pool:
        async with pool() as session, session.begin():
            employee = await queries.get_employee(session, args.employee_id)
            if employee is None:
                raise CommandError(f"no employee with id {args.employee_id} (see kpibot employees)")
            if not employee.active:
                raise CommandError(f"employee {employee.id} ({employee.name}) is not active")
            invite = await queries.create_invite(session, employee.id, utc_now())
        username = settings.bot_username or await _ask_username(settings)
    expires = local_of_utc(invite.expires_at, settings.zone)
    print(f"Invitation for {employee.name} (id {employee.id}), single use, valid until {expires:%d.%m.%Y %H:%M}:")
    print(invite_link(username, invite.token))
    return 0


async def _ask_username(settings: Settings) -> str:
    from aiogram.exceptions import TelegramAPIError

    from bot.app import create_bot

    bot = create_bot(settings)
    try:
        me = await bot.get_me()
    except (TelegramAPIError, OSError, TimeoutError) as error:
        raise CommandError(f"cannot ask Telegram for the bot's username ({error}); set BOT_USERNAME") from None
    finally:
        await bot.session.close()
    return me.username or ""


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import run_bot

    settings.token()  # a missing token stops start-up with a named setting
    async with open_database(settings, create=True) as pool:
        await run_bot(settings, pool)
    return 0


# --------------------------------------------------------------------------------------------------
# Parser and entry point
# --------------------------------------------------------------------------------------------------

Command = Callable[[argparse.Namespace, Settings], Awaitable[int]]


class FullEntities(argparse.Action):
    """``--full`` takes entity names only, so ``--full contracts PATH`` and ``PATH --full contracts``
    mean the same: what follows the entities is a path, handed back to the positional ``paths``."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: str | None = None
    ) -> None:
        entities: list[str] = list(getattr(namespace, self.dest) or [])
        paths: list[str] = []
        for value in values:
            if not paths and value in FULL_ENTITIES:
                entities.append(value)
            else:
                paths.append(value)
        if not entities:
            parser.error(f"argument --full: '{values[0]}' is not an entity (one of: {', '.join(FULL_ENTITIES)})")
        setattr(namespace, self.dest, entities)
        namespace.full_paths = [*getattr(namespace, "full_paths", []), *paths]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpibot", description="Daily KPI feedback in Telegram for the managers of a 1C support partner."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    imp = commands.add_parser("import", help="import 1C exports and the PBX's Master.csv (files or folders)")
    imp.add_argument("paths", nargs="*", metavar="PATH")
    imp.add_argument(
        "--full",
        nargs="+",
        action=FullEntities,
        default=[],
        metavar="ENTITY",
        help=f"treat these files as the complete set and remove absent rows ({', '.join(FULL_ENTITIES)})",
    )
    imp.set_defaults(handler=cmd_import)

    syn = commands.add_parser("sync", help="read 1C over its standard OData interface (ODATA_URL), all or nothing")
    syn.add_argument(
        "--check", action="store_true", help="list the entity sets and fields the mapping reads and what 1C lacks"
    )
    syn.set_defaults(handler=cmd_sync)

    emp = commands.add_parser("employees", help="who is linked to Telegram and who is not")
    emp.set_defaults(handler=cmd_employees)

    dig = commands.add_parser("digest", help="print each employee's morning message")
    dig.add_argument("--date", type=parse_day, help="the day, YYYY-MM-DD (default: today in TIMEZONE)")
    dig.add_argument("--employee", metavar="ID", help="only this employee")
    dig.add_argument("--send", action="store_true", help="send through Telegram now (the outbox), not print")
    dig.add_argument(
        "--force", action="store_true", help="with --send: resend what was already delivered; send on a day off"
    )
    dig.set_defaults(handler=cmd_digest)

    close = commands.add_parser("close-month", help="close a finished month now (admin), or reopen it")
    close.add_argument("month", metavar="YYYY-MM")
    close.add_argument("--reopen", action="store_true", help="reopen a closed month (recorded); live until closed")
    close.set_defaults(handler=cmd_close_month)

    out = commands.add_parser("outbox", help="who got which message when, and what failed and why")
    out.add_argument("--date", type=parse_day, help="only this day, YYYY-MM-DD")
    out.set_defaults(handler=cmd_outbox)

    rep = commands.add_parser("report", help='the 1C report "Расчёт оплат" as an XLSX file')
    rep.add_argument("--month", type=parse_month_argument, help="the month, YYYY-MM (default: the month of --date)")
    rep.add_argument("--date", type=parse_day, help="the report's day, YYYY-MM-DD (default: today in TIMEZONE)")
    rep.add_argument("--team", metavar="T", help="only this team's managers (default: every team)")
    rep.add_argument("-o", "--output", metavar="FILE", help="where to write it (default: a name with the month)")
    rep.set_defaults(handler=cmd_report)

    run = commands.add_parser("run", help="run the bot: updates (webhook or long polling), morning digests, the outbox")
    run.set_defaults(handler=cmd_run)

    inv = commands.add_parser("invite", help="print a one-time invitation link for an employee")
    inv.add_argument("employee_id", metavar="EMPLOYEE_ID")
    inv.set_defaults(handler=cmd_invite)

    bench = commands.add_parser("bench", help="benchmarks at a large network's size (see python -m bench --help)")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, metavar="...")
    bench.set_defaults(handler=None)

    demo = commands.add_parser("demo", help="build a fresh demo database and print the digests (no token)")
    demo.add_argument("--db", default="kpibot-demo.db", help="the demo SQLite file (replaced)")
    demo.add_argument("--exports", default="demo-exports", help="where to write the demo 1C exports")
    demo.set_defaults(handler=cmd_demo)
    return parser


def _stdout_is_gone() -> bool:
    """True when standard output is a pipe whose reader has closed it (poll reports POLLERR on
    such a pipe, not on a live one); then it is pointed at /dev/null, so the interpreter's own
    flush at exit does not fail again (the recipe of Python's ``signal`` docs, "Note on SIGPIPE")."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        gone = any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no real file descriptor, or no poll()
        return False
    if gone:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return gone


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "import":
        args.paths = [*args.paths, *getattr(args, "full_paths", [])]
        if not args.paths:
            parser.error("import: give at least one PATH (a file or a folder)")
    if args.command == "bench":  # runs its own event loop and settings
        from bench.run import main as bench_main

        return bench_main(args.bench_args)
    try:
        settings = load_settings()
        from bot.app import configure_logging

        configure_logging(settings.log_level)
        handler: Command = args.handler
        status = asyncio.run(handler(args, settings))
        sys.stdout.flush()  # inside the try: a reader that went away is caught below, not at exit
        return status
    except BrokenPipeError as error:
        if _stdout_is_gone():  # `kpibot digest | head`: the reader has what it wanted
            return 1
        print(f"kpibot: unexpected error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except ConfigError as error:
        print(f"kpibot: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"kpibot: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kpibot: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the last line of defence: one line, details in the log
        log.debug("unexpected error", exc_info=True)
        print(f"kpibot: unexpected error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

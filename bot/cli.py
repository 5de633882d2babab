"""The ``kpibot`` command line. Every command applies the migrations first.

Errors end with one clear line on stderr and a non-zero status, never a traceback:
1 for a failed operation (bad import, unknown employee), 2 for bad settings or arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import select
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from bot import arguments, texts
from bot.clock import local_of_utc, local_stamp
from bot.rules import Month
from bot.settings import ConfigError, Settings, default_database_url, load_settings
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
            raise CommandError(texts.cli_no_database(database))
        if not database.parent.is_dir():
            if database != Path(sqlite_file(default_database_url(None)) or ""):
                raise CommandError(texts.cli_no_database_folder(database))  # a typo, not a place to create
            database.parent.mkdir(parents=True, exist_ok=True)  # kpibot's own data folder
    engine = create_engine(settings.database_url)
    try:
        try:
            await upgrade(engine)
        except (OperationalError, DBAPIError, OSError) as error:
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            shown = make_url(settings.database_url).render_as_string(hide_password=True)
            raise CommandError(texts.cli_database_unreachable(shown, reason)) from None
        yield create_session_pool(engine)
    finally:
        await engine.dispose()


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite+aiosqlite:///…`` URL (``None``: another database or in memory)."""
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix) or url[len(prefix) :] in {"", ":memory:"}:
        return None
    return Path(url[len(prefix) :].split("?", 1)[0].removeprefix("file:"))  # also a SQLite URI (uri=true)


YEARS = (arguments.FIRST_YEAR, arguments.LAST_YEAR)  # the bot's bounds: one constant for both


def parse_day(text: str) -> date:
    """``2019-02-25`` → a date within the years the bot's arguments take (``bot.arguments``);
    ``ArgumentTypeError`` saying what is wrong otherwise (``2019-02-29``: no 29 February in 2019)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise argparse.ArgumentTypeError(texts.cli_bad_day(text, "не дата", YEARS))
    try:
        return arguments.parse_day(text, date.today())
    except arguments.BadArgument as error:
        raise argparse.ArgumentTypeError(texts.cli_bad_day(text, error.reason, YEARS)) from None


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
        return tqdm(unit=" строк", desc=source.label, leave=False)

    return make


async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    started, clock = utc_now(), time.monotonic()
    database = sqlite_file(settings.database_url)
    fresh = database is not None and not database.exists()  # made by this import: gone again if it fails
    try:
        report = await _import_into(args, settings, started, clock, keep_failures=not fresh)
    except CommandError:
        if fresh and database is not None:
            for leftover in (database, *(database.with_name(database.name + tail) for tail in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
        raise
    print_counts(report)
    read = [name for name in report.files if name not in report.skipped]
    if read:  # "загружено" names only the files read: the unchanged ones have their own line
        print(texts.cli_imported(read))
    if report.skipped:
        print(texts.cli_skipped(report.skipped))
    return 0


async def _import_into(
    args: argparse.Namespace, settings: Settings, started: datetime, clock: float, *, keep_failures: bool
) -> Any:
    """Run the import of ``kpibot import`` and record the attempt for /status (a failed one only in a
    database that was there before: a failed first import leaves no database behind)."""
    from db.attempts import Attempt, record, rows_of

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
            raise CommandError(texts.cli_database_stopped("загрузку", reason)) from None
        except ImportFailed as failure:
            if keep_failures:
                failed = Attempt("cli", False, [Path(p).name for p in args.paths], 0, failure.problems)
                await record(pool, failed, started, time.monotonic() - clock)
            print_problems(failure.problems)
        await record(pool, Attempt("cli", True, report.files, rows_of(report), []), started, time.monotonic() - clock)
    return report


def print_problems(problems: list[str]) -> NoReturn:
    """An import that failed: its first problems on stderr, ``file:line: column: value: reason``."""
    for line in problems[:MAX_PRINTED_PROBLEMS]:
        print(line, file=sys.stderr)
    hidden = len(problems) - MAX_PRINTED_PROBLEMS
    if hidden > 0:
        print(texts.cli_more_problems(hidden), file=sys.stderr)
    raise CommandError(texts.cli_problems_found(len(problems))) from None


def print_counts(report: Any) -> None:
    """The notes and the table of an import or a sync (an ``ImportReport``)."""
    for note in report.notes:
        print(texts.cli_note(note))
    counts = {e: (c.added, c.updated, c.unchanged, c.removed) for e, c in report.counts.items()}
    for line in texts.cli_import_table(counts):
        print(line)


def _fetch_progress_factory() -> Callable[[str], Any] | None:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def make(entity_set: str) -> Any:
        return tqdm(unit=" записей", desc=entity_set, leave=False)

    return make


async def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    from db.importer.odata import ODataError, check_odata, sync_odata
    from db.importer.odata_mapping import MappingError

    if not settings.odata_url:
        raise ConfigError(texts.CLI_NO_ODATA_URL)
    if args.check:
        try:
            lines, ok = await check_odata(settings)
        except ODataError as error:
            raise CommandError(texts.cli_odata_check_failed(error)) from None
        except MappingError as error:
            raise CommandError(f"ODATA_MAPPING: {error}") from None
        for line in lines:
            print(line)
        if not ok:
            raise CommandError(texts.CLI_ODATA_MISSING)
        print(texts.CLI_ODATA_ALL_PUBLISHED)
        return 0
    try:
        async with open_database(settings) as pool:
            try:
                report = await sync_odata(
                    pool, settings, utc_now(), progress=_fetch_progress_factory(), import_progress=_progress_factory()
                )
            except DBAPIError as error:
                reason = str(error.orig or type(error).__name__).strip().splitlines()[0]
                raise CommandError(texts.cli_database_stopped("синхронизацию", reason)) from None
            except ImportFailed as failure:
                print_problems(failure.problems)
    except ODataError as error:
        raise CommandError(texts.cli_sync_failed(error)) from None
    except MappingError as error:
        raise CommandError(f"ODATA_MAPPING: {error}") from None
    print_counts(report)
    print(texts.cli_synced(report.files))
    return 0


async def cmd_employees(args: argparse.Namespace, settings: Settings) -> int:
    async with open_database(settings) as pool, pool() as session:
        employees = await queries.list_employees(session)
    if not employees:
        print(texts.CLI_NO_EMPLOYEES)
        return 0
    print(texts.cli_employees_header())
    for e in employees:
        print(texts.cli_employee_row(e.id, e.name, e.role, e.team, e.telegram_id, e.active, bool(e.unreachable_since)))
    print(texts.cli_linked(sum(1 for e in employees if e.telegram_id), len(employees)))
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
                raise CommandError(texts.cli_no_employee(employee_id))
            employees = [employee]
        else:
            employees = await queries.list_employees(session, active_only=True)
        if not employees:
            raise CommandError(texts.CLI_NO_EMPLOYEES)
        context = await morning(session, today, settings, now)
        for employee in employees:
            digest = await build_digest(session, employee, today, settings, context)
            print(texts.cli_digest_heading(employee.name, employee.role, employee.id, today))
            print(texts.html_to_plain(digest.text))
            print()


async def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    if args.date is not None and args.date > local_today(settings):  # as the bot refuses a month to come
        raise CommandError(texts.future_day(args.date))
    if args.send:
        return await send_digests(args, settings)
    if args.force:
        raise CommandError(texts.CLI_FORCE_WITHOUT_SEND)
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
        raise CommandError(texts.cli_month_not_finished(str(month)))
    async with open_database(settings) as pool, pool() as session, session.begin():
        if args.reopen:
            if not await queries.reopen_month(session, month, utc_now(), "kpibot close-month --reopen"):
                raise CommandError(texts.cli_month_not_closed(str(month)))
            print(texts.cli_month_reopened(str(month)))
            return 0
        first = await queries.first_data_month(session)
        if first is None or month < first:  # nobody was billed then: nothing to freeze
            raise CommandError(texts.no_data_month(month, first).rstrip("."))
        was_closed = await queries.is_closed(session, month)
        frozen = await queries.close_month(session, month, today, settings.kpi_tiers, utc_now(), "kpibot close-month")
    print(texts.cli_month_closed(str(month), was_closed, today, frozen))
    return 0


def parse_month_arg(text: str) -> Month:
    """``2026-11`` → ``Month(2026, 11)`` within the years the bot's arguments take; ``ValueError``
    with a readable reason otherwise."""
    if not re.fullmatch(r"\d{4}-\d{1,2}", text.strip()):
        raise ValueError(texts.cli_bad_month(text, "не месяц", YEARS))
    try:
        return arguments.parse_month(text, date.today())
    except arguments.BadArgument as error:
        raise ValueError(texts.cli_bad_month(text, error.reason, YEARS)) from None


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
                raise CommandError(texts.cli_no_employee(args.employee))
            if not employee.telegram_id:
                raise CommandError(texts.cli_not_linked(employee.name, employee.id))
        result = await enqueue_digests(
            pool, settings, now, employee_id=args.employee, any_time=True, force=args.force,
            close=today == real_today,
        )  # fmt: skip
        if not result.working_day:
            raise CommandError(texts.cli_not_working_day(today, settings.work_calendar))
        print(texts.cli_enqueued(result.added, today), flush=True)
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
    print(texts.cli_delivery(outcome.sent, outcome.unreachable, outcome.failed, outcome.pending, outcome.total,
                             outcome.sender))  # fmt: skip
    if outcome.unreachable:
        print(texts.cli_unreachable(outcome.unreachable))
    return 0 if outcome.complete else 1


def one_line(text: str) -> str:
    """``text`` as one line a terminal shows as it is: line breaks, tabs and control characters
    (ESC sequences that move the cursor or colour the screen, backspace, bell) become single spaces."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def fit(text: str, width: int) -> str:
    """``text`` on one line in at most ``width`` characters, cut at a word boundary with "…"."""
    text = one_line(text)
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
        print(texts.cli_outbox_empty(args.date))
        return 0
    zone = settings.zone
    print(texts.cli_outbox_header())
    for row, name in rows:
        sent = local_stamp(row.sent_at, zone) if row.sent_at else ""
        status = texts.OUTBOX_STATUS_NAMES.get(row.status, row.status)
        cells = (f"{row.day:%d.%m.%Y}", name, texts.outbox_kind(row.kind), status, str(row.attempts), sent)
        columns = zip(cells, texts.CLI_OUTBOX_COLUMNS, strict=True)
        line = "".join(f"{fit(cell, width - 1):<{width}}" for cell, (_, width) in columns)
        print(line + one_line(row.error or ""))  # one line per row, whatever the error says
    counts: dict[str, int] = {}
    for row, _ in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    print(texts.cli_outbox_counts(counts))
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
            raise CommandError(texts.cli_demo_failed(failure.problems)) from None
        print(texts.cli_demo_database(db_path, args.exports))
        print(texts.cli_demo_digests(demo.DEMO_TODAY))
        await print_digests(pool, demo_settings, demo.DEMO_TODAY, None)
    return 0


def parse_month_argument(text: str) -> Month:
    try:
        return parse_month_arg(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


async def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """The 1C report "Расчёт оплат" as XLSX: every active manager, or one team's."""
    from handlers.report import report_file

    today = args.date or local_today(settings)
    month = args.month or Month.of(today)
    if month > Month.of(today):
        raise CommandError(texts.cli_month_not_begun(str(month), today))
    async with open_database(settings) as pool, pool() as session:
        managers = [e for e in await queries.list_employees(session, active_only=True) if e.role == "manager"]
        if args.team is not None:
            teams = sorted({m.team for m in managers})
            managers = [m for m in managers if m.team.casefold() == args.team.strip().casefold()]
            if not managers:
                raise CommandError(texts.cli_no_team(args.team, teams))
        if not managers:
            raise CommandError(texts.CLI_NO_MANAGERS)
        managers.sort(key=lambda m: (m.name, m.id))
        title = f"Команда «{managers[0].team}»" if args.team is not None else "Все команды"
        file = await report_file(session, managers, title, month, today, settings)
    target = Path(args.output) if args.output else Path(file.name)
    try:
        target.write_bytes(file.content)
    except OSError as error:
        raise CommandError(texts.cli_cannot_write(target, error.strerror or str(error))) from None
    print(f"{target}: {texts.html_to_plain(file.caption).splitlines()[0].removeprefix('📊 ')}")
    return 0


async def cmd_invite(args: argparse.Namespace, settings: Settings) -> int:
    from handlers.invite import invite_link

    async with open_database(settings) as pool:
        async with pool() as session, session.begin():
            employee = await queries.get_employee(session, args.employee_id)
            if employee is None:
                raise CommandError(texts.cli_no_employee(args.employee_id))
            if not employee.active:
                raise CommandError(texts.cli_inactive(employee.name, employee.id))
            invite = await queries.create_invite(session, employee.id, utc_now())
        username = settings.bot_username or await _ask_username(settings)
    expires = local_of_utc(invite.expires_at, settings.zone)
    print(texts.cli_invitation(employee.name, employee.id, expires))
    print(invite_link(username, invite.token))
    return 0


async def _ask_username(settings: Settings) -> str:
    from aiogram.exceptions import TelegramAPIError

    from bot.app import create_bot

    bot = create_bot(settings)
    try:
        me = await bot.get_me()
    except (TelegramAPIError, OSError, TimeoutError) as error:
        raise CommandError(texts.cli_no_username(error)) from None
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
            parser.error(texts.cli_not_an_entity(values[0], FULL_ENTITIES))
        setattr(namespace, self.dest, entities)
        namespace.full_paths = [*getattr(namespace, "full_paths", []), *paths]


def _template_pattern(template: str) -> re.Pattern[str]:
    """argparse's ``%s`` / ``%(name)s`` template as a pattern that reads the values back."""
    parts = re.split(r"(%\((\w+)\)[sr]|%s)", template)
    pattern, names = "", iter(parts)
    for literal in names:
        pattern += re.escape(literal)
        placeholder, name = next(names, None), next(names, None)
        if placeholder is not None:
            pattern += f"(?P<{name}>.+?)" if name else "(?P<_0>.+?)"
    return re.compile(pattern + r"\Z", re.DOTALL)


_ARGPARSE_MESSAGES = [(_template_pattern(en), ru) for en, ru in texts.CLI_ARGPARSE.items() if "%" in en]


def in_russian(message: str) -> str:
    """One of argparse's own English messages in Russian (Python ships no Russian catalogue for
    argparse); a message built from several (``argument --date: …``) is translated part by part,
    and one we do not know is left as it is."""
    for pattern, russian in _ARGPARSE_MESSAGES:
        found = pattern.match(message)
        if found:
            values = {name: in_russian(value) for name, value in found.groupdict().items()}
            return russian % values.pop("_0") if "_0" in values else russian % values
    return texts.CLI_ARGPARSE.get(message, message)


class RussianHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, texts.CLI_USAGE if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """argparse speaking Russian: the help, the headings and the errors (status 2, one line)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", RussianHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = texts.CLI_ARGUMENTS
        self._optionals.title = texts.CLI_OPTIONS
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=texts.CLI_HELP)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {in_russian(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="kpibot", description=texts.CLI_DESCRIPTION)
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="КОМАНДА", title=texts.CLI_COMMANDS, parser_class=Parser
    )
    about, option = texts.CLI_COMMAND_HELP, texts.CLI_OPTION_HELP

    imp = commands.add_parser("import", help=about["import"], description=about["import"])
    imp.add_argument("paths", nargs="*", metavar="ПУТЬ")
    imp.add_argument(
        "--full",
        nargs="+",
        action=FullEntities,
        default=[],
        metavar="ДАННЫЕ",
        help=option["import --full"].format(entities=", ".join(FULL_ENTITIES)),
    )
    imp.set_defaults(handler=cmd_import)

    syn = commands.add_parser("sync", help=about["sync"], description=about["sync"])
    syn.add_argument("--check", action="store_true", help=option["sync --check"])
    syn.set_defaults(handler=cmd_sync)

    emp = commands.add_parser("employees", help=about["employees"], description=about["employees"])
    emp.set_defaults(handler=cmd_employees)

    dig = commands.add_parser("digest", help=about["digest"], description=about["digest"])
    dig.add_argument("--date", type=parse_day, metavar="ГГГГ-ММ-ДД", help=option["digest --date"])
    dig.add_argument("--employee", metavar="ID", help=option["digest --employee"])
    dig.add_argument("--send", action="store_true", help=option["digest --send"])
    dig.add_argument("--force", action="store_true", help=option["digest --force"])
    dig.set_defaults(handler=cmd_digest)

    close = commands.add_parser("close-month", help=about["close-month"], description=about["close-month"])
    close.add_argument("month", metavar="ГГГГ-ММ")
    close.add_argument("--reopen", action="store_true", help=option["close-month --reopen"])
    close.set_defaults(handler=cmd_close_month)

    out = commands.add_parser("outbox", help=about["outbox"], description=about["outbox"])
    out.add_argument("--date", type=parse_day, metavar="ГГГГ-ММ-ДД", help=option["outbox --date"])
    out.set_defaults(handler=cmd_outbox)

    rep = commands.add_parser("report", help=about["report"], description=about["report"])
    rep.add_argument("--month", type=parse_month_argument, metavar="ГГГГ-ММ", help=option["report --month"])
    rep.add_argument("--date", type=parse_day, metavar="ГГГГ-ММ-ДД", help=option["report --date"])
    rep.add_argument("--team", metavar="КОМАНДА", help=option["report --team"])
    rep.add_argument("-o", "--output", metavar="ФАЙЛ", help=option["report --output"])
    rep.set_defaults(handler=cmd_report)

    run = commands.add_parser("run", help=about["run"], description=about["run"])
    run.set_defaults(handler=cmd_run)

    inv = commands.add_parser("invite", help=about["invite"], description=about["invite"])
    inv.add_argument("employee_id", metavar="ID_СОТРУДНИКА")
    inv.set_defaults(handler=cmd_invite)

    bench = commands.add_parser("bench", help=about["bench"], description=about["bench"])
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, metavar="...")
    bench.set_defaults(handler=None)

    demo = commands.add_parser("demo", help=about["demo"], description=about["demo"])
    demo.add_argument("--db", default="kpibot-demo.db", metavar="ФАЙЛ", help=option["demo --db"])
    demo.add_argument("--exports", default="demo-exports", metavar="ПАПКА", help=option["demo --exports"])
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
            parser.error(texts.CLI_IMPORT_NEEDS_PATH)
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
        print(f"kpibot: {texts.cli_unexpected(error)}", file=sys.stderr)
        return 1
    except ConfigError as error:
        print(f"kpibot: {error}", file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"kpibot: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"kpibot: {texts.CLI_INTERRUPTED}", file=sys.stderr)
        return 130
    except Exception as error:  # the last line of defence: one line, details in the log
        log.debug("unexpected error", exc_info=True)
        print(f"kpibot: {texts.cli_unexpected(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

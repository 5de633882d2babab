"""Phone calls as real PBXs write them, through the real importer and the morning digest, on both
databases: the cases of ``cases/realworld`` and ``cases/numbers`` (copied from the shared cases with
their ``expected.md``), re-imports, rotated copies, old keys, and a PBX writing UTC."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.settings import ConfigError, Settings, load_settings
from db.importer import ImportFailed, import_paths
from db.importer.report import Problem
from db.importer.rows import Context, Row, cdr_key, pbx_row
from db.importer.vocabulary import CDR_SHAPES
from db.models import Employee, PbxCall
from db.session import SessionPool
from jobs.digests import build_digest
from tests.factories import EMPLOYEES_HEADER, write_csv
from tests.world import MSK

CASES = Path(__file__).parent / "cases"
IMPORTED = datetime(2026, 11, 30, 3, 0)  # UTC


def case_settings(database_url: str, **overrides: object) -> Settings:
    return load_settings(bot_token="42:TEST", database_url=database_url, digest_time="09:30", **overrides)


async def digest_text(pool: SessionPool, settings: Settings, employee_id: str, day: date) -> str:
    async with pool() as session, session.begin():
        employee = await session.get(Employee, employee_id)
        assert employee is not None
        return (await build_digest(session, employee, day, settings)).text


def discipline_block(text: str) -> str:
    return text.split("Дисциплина</b>", 1)[1].split("Подробнее", 1)[0] if "Дисциплина</b>" in text else ""


async def pbx_rows(pool: SessionPool) -> list[PbxCall]:
    async with pool() as session:
        return list((await session.execute(select(PbxCall).order_by(PbxCall.started_at, PbxCall.id))).scalars())


# --- the cases ---------------------------------------------------------------------------------------------


async def test_case_ring_group_legs_with_one_uniqueid_import_and_nobody_missed_the_call(
    pool: SessionPool, database_url: str
) -> None:
    """realworld/02: Dial(SIP/101&SIP/102), 101 NO ANSWER and 102 ANSWERED 180 s, one uniqueid: both
    rows import, and 101 has no missed call (102 answered it)."""
    folder = CASES / "realworld" / "02-cdr-ringgroup-same-uniqueid"
    await import_paths(pool, [folder / "base"], zone=MSK, now=IMPORTED)
    report = await import_paths(pool, [folder / "Master.csv"], zone=MSK, now=IMPORTED)
    assert report.counts["pbx"].added == 2
    rows = await pbx_rows(pool)
    assert [(r.uniqueid, r.employee_id, r.disposition) for r in rows] == [
        ("1550819700.26", "001", "NO ANSWER"), ("1550819700.26", "002", "ANSWERED")
    ]  # fmt: skip
    settings = case_settings(database_url)
    for employee in ("001", "002"):
        assert "пропущенные" not in await digest_text(pool, settings, employee, date(2019, 2, 25))


async def test_case_voicemail_is_a_missed_call_and_nobodys_conversation(pool: SessionPool, database_url: str) -> None:
    """realworld/05: two clients ring 101, nobody answers, VoiceMail answers (30 s and 6 s); nobody
    calls back. Two missed calls, no abnormal duration."""
    folder = CASES / "realworld" / "05-cdr-voicemail-counts-as-answered"
    await import_paths(pool, [folder / "base"], zone=MSK, now=IMPORTED)
    await import_paths(pool, [folder / "Master.csv"], zone=MSK, now=IMPORTED)
    block = discipline_block(await digest_text(pool, case_settings(database_url), "001", date(2019, 2, 25)))
    assert "пропущенные без перезвона — 2" in block
    assert "аномальной длины" not in block


async def test_case_a_typed_5_second_call_without_a_pbx_counterpart_is_abnormal(
    pool: SessionPool, database_url: str
) -> None:
    """numbers/dur: i1 typed as 5 s at 11:00; 131's only PBX call is at 12:00 (100 s), another
    conversation. One abnormal duration: the typed one."""
    await import_paths(pool, [CASES / "numbers" / "dur"], zone=MSK, now=IMPORTED)
    block = discipline_block(await digest_text(pool, case_settings(database_url), "31", date(2026, 11, 30)))
    assert "звонки аномальной длины — 1" in block
    assert block.count("•") == 1


async def test_case_a_replayed_morning_sees_only_what_was_known_that_morning(
    pool: SessionPool, database_url: str
) -> None:
    """numbers/replay: the digest of 30.11 at 09:30, replayed after i2 (01.12) and i3's completion
    (01.12) were imported: i1 had nothing after it, and i3 was still planned. The data's freshness
    is judged at that morning too: the import of 30.11 06:00, not the one of 01.12."""
    folder = CASES / "numbers" / "replay"
    await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 11, 30, 3, 0))
    await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 12, 1, 15, 0), reread=True)
    text = await digest_text(pool, case_settings(database_url), "31", date(2026, 11, 30))
    block = discipline_block(text)
    assert "без следующего шага — 1" in block
    assert "не выполнены в срок — 1" in block
    assert block.count("•") == 2
    assert text.endswith("<i>данные 1С на 30.11 06:00</i>")
    assert "не обновлялись" not in text


# --- importing legs ------------------------------------------------------------------------------------------


async def test_reimporting_the_same_legs_changes_nothing(pool: SessionPool) -> None:
    folder = CASES / "realworld" / "02-cdr-ringgroup-same-uniqueid"
    await import_paths(pool, [folder / "base"], zone=MSK, now=IMPORTED)
    await import_paths(pool, [folder / "Master.csv"], zone=MSK, now=IMPORTED)
    before = [(r.id, r.started_at, r.billsec) for r in await pbx_rows(pool)]
    again = await import_paths(pool, [folder / "Master.csv"], zone=MSK, now=IMPORTED, reread=True)
    assert (again.counts["pbx"].added, again.counts["pbx"].updated, again.counts["pbx"].unchanged) == (0, 0, 2)
    assert [(r.id, r.started_at, r.billsec) for r in await pbx_rows(pool)] == before


async def test_a_record_in_master_and_its_rotated_copy_is_one_row(pool: SessionPool, tmp_path: Path) -> None:
    """Master.csv beside Master_20261127.csv: the rotated copy repeats the first leg."""
    case = CASES / "realworld" / "02-cdr-ringgroup-same-uniqueid"
    await import_paths(pool, [case / "base"], zone=MSK, now=IMPORTED)
    lines = (case / "Master.csv").read_bytes().splitlines(keepends=True)
    folder = tmp_path / "pbx"
    folder.mkdir()
    (folder / "Master_20261127.csv").write_bytes(lines[0])
    (folder / "Master.csv").write_bytes(b"".join(lines))
    report = await import_paths(pool, [folder], zone=MSK, now=IMPORTED)
    assert len(await pbx_rows(pool)) == 2
    assert report.counts["pbx"].added == 2


async def test_a_row_keyed_by_uniqueid_before_migration_0006_is_replaced_by_its_leg(pool: SessionPool) -> None:
    """Rows imported before 0006 were keyed by uniqueid; the migration kept their uniqueid, and the
    next import of their file writes the legs under their digest keys instead of adding twins."""
    folder = CASES / "realworld" / "02-cdr-ringgroup-same-uniqueid"
    await import_paths(pool, [folder / "base"], zone=MSK, now=IMPORTED)
    async with pool() as session, session.begin():
        session.add(PbxCall(id="1550819700.26", started_at=datetime(2019, 2, 22, 10, 15), duration_s=9, billsec=0,
                            disposition="NO ANSWER", direction="in", employee_id="001",
                            uniqueid="1550819700.26"))  # fmt: skip
    await import_paths(pool, [folder / "Master.csv"], zone=MSK, now=IMPORTED)
    rows = await pbx_rows(pool)
    assert len(rows) == 2 and all(r.id.startswith("cdr-") for r in rows)


async def test_a_pbx_writing_utc_is_converted_to_the_offices_time(pool: SessionPool, tmp_path: Path) -> None:
    """usegmtime=yes: 06:30 UTC on Monday 30.11.2026 is 09:30 in Moscow; 22:10 UTC on Sunday is
    01:10 on Monday."""
    write_csv(tmp_path / "employees.csv", EMPLOYEES_HEADER, [["m1", "Аракелян Наринэ", "manager", "A", "101", "", "1"]])
    write_csv(tmp_path / "Master.csv", None, [
        ["", "79161234567", "101", "from-trunk", '"" <79161234567>', "SIP/trunk-1", "SIP/101-1", "Dial", "SIP/101,30",
         "2026-11-30 06:30:00", "2026-11-30 06:30:05", "2026-11-30 06:31:05", "65", "60", "ANSWERED", "DOCUMENTATION"],
        ["", "79161234567", "101", "from-trunk", '"" <79161234567>', "SIP/trunk-2", "SIP/101-2", "Dial", "SIP/101,30",
         "2026-11-29 22:10:00", "", "2026-11-29 22:10:20", "20", "0", "NO ANSWER", "DOCUMENTATION"],
    ], delimiter=",", quoting=1)  # fmt: skip
    await import_paths(pool, [tmp_path], zone=MSK, now=IMPORTED, pbx_zone=ZoneInfo("UTC"))
    starts = [r.started_at for r in await pbx_rows(pool)]
    assert starts == [datetime(2026, 11, 30, 1, 10), datetime(2026, 11, 30, 9, 30)]
    answered = next(r for r in await pbx_rows(pool) if r.billsec == 60)
    assert answered.answered_at == datetime(2026, 11, 30, 9, 30, 5)
    assert answered.ended_at == datetime(2026, 11, 30, 9, 31, 5)


def test_pbx_timezone_defaults_to_timezone_and_a_bad_one_stops_start_up() -> None:
    assert load_settings(timezone="Asia/Yekaterinburg").pbx_zone == ZoneInfo("Asia/Yekaterinburg")
    assert load_settings(pbx_timezone="UTC").pbx_zone == ZoneInfo("UTC")
    with pytest.raises(ConfigError, match=r"^Настройка PBX_TIMEZONE: неизвестный часовой пояс 'Mars/Base' \(например"):
        load_settings(pbx_timezone="Mars/Base")


async def test_a_broken_leg_still_names_its_line(pool: SessionPool, tmp_path: Path) -> None:
    shutil.copytree(CASES / "realworld" / "02-cdr-ringgroup-same-uniqueid" / "base", tmp_path / "base")
    master = (CASES / "realworld" / "02-cdr-ringgroup-same-uniqueid" / "Master.csv").read_text(encoding="utf-8")
    (tmp_path / "Master.csv").write_text(master.replace('"188","180","ANSWERED"', '"188","180","ANSWERD"'))
    await import_paths(pool, [tmp_path / "base"], zone=MSK, now=IMPORTED)
    with pytest.raises(ImportFailed) as failure:
        await import_paths(pool, [tmp_path / "Master.csv"], zone=MSK, now=IMPORTED)
    assert failure.value.problems == [
        "Master.csv:2: disposition: ANSWERD: must be one of: ANSWERED, BUSY, CONGESTION, FAILED, NO ANSWER"
    ]
    async with pool() as session:
        assert await session.scalar(select(func.count()).select_from(PbxCall)) == 0


@pytest.mark.slow
def test_case_voicemail_repro_through_the_kpibot_command(tmp_path: Path) -> None:
    """realworld/05's repro.sh as a user runs it: import, import Master.csv, replay Monday's digest."""
    from tests.test_cli import kpibot

    folder = CASES / "realworld" / "05-cdr-voicemail-counts-as-answered"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"}
    assert kpibot("import", str(folder / "base"), cwd=tmp_path, env=env).returncode == 0
    imported = kpibot("import", str(folder / "Master.csv"), cwd=tmp_path, env=env)
    assert imported.returncode == 0, imported.stderr
    digest = kpibot("digest", "--date", "2019-02-25", "--employee", "001", cwd=tmp_path, env=env)
    assert digest.returncode == 0, digest.stderr
    assert "пропущенные без перезвона — 2" in digest.stdout
    assert "аномальной длины" not in digest.stdout and "Traceback" not in digest.stderr


def test_a_time_past_the_calendars_end_is_a_problem_not_a_crash() -> None:
    """A year the conversion to office time could push past the calendar is refused before it."""
    cells = ["", "79161234567", "101", "from-trunk", "", "SIP/trunk-1", "SIP/101-1", "Dial", "",
             "9999-12-31 23:00:00", "", "", "1", "0", "NO ANSWER", "DOCUMENTATION"]  # fmt: skip
    problems: list[Problem] = []
    pbx_row(Row("Master.csv", 3, dict(zip(CDR_SHAPES[16], cells, strict=True)), problems),
            Context(zone=MSK, pbx_zone=ZoneInfo("UTC")))  # fmt: skip
    assert [str(p) for p in problems] == ["Master.csv:3: start: 9999-12-31 23:00:00: the year is outside 1900–2999"]


@given(st.sampled_from(sorted(CDR_SHAPES)).flatmap(lambda n: st.lists(st.text(max_size=30), min_size=n, max_size=n)))
def test_any_cdr_record_gives_a_row_or_its_problems_never_an_exception(cells: list[str]) -> None:
    """pbx_row on any text in any shape: a row with its digest key, or problems naming the line."""
    problems: list[Problem] = []
    row = Row("Master.csv", 7, dict(zip(CDR_SHAPES[len(cells)], cells, strict=True)), problems)
    ctx = Context(zone=MSK, extensions={"101": "m1"}, pbx_zone=ZoneInfo("UTC"))
    values = pbx_row(row, ctx)
    assert values["id"] == cdr_key(row.cells) and values["id"].startswith("cdr-") and len(values["id"]) == 36
    assert row.ok == (not problems)
    assert all(p.label == "Master.csv" and p.line == 7 for p in problems)


@pytest.mark.parametrize(
    "clid_field",
    ['"""131"" <131>"', '"\\"131\\" <131>"'],
    ids=["doubled-as-cdr_csv-writes", "backslash-escaped"],
)
async def test_a_quoted_caller_name_reads_the_same_in_either_escape(
    pool: SessionPool, tmp_path: Path, clid_field: str
) -> None:
    """Asterisk's cdr_csv doubles a quote inside a value; exports passed through other tools escape it
    with a backslash. Both are the caller id ``"131" <131>``, not a broken file."""
    write_csv(tmp_path / "employees.csv", EMPLOYEES_HEADER, [["31", "Иванов Пётр", "менеджер", "Т", "131", "", "да"]])
    fields = ['""', '"131"', '"79161234567"', '"from-internal"', clid_field, '"SIP/131-1"', '"SIP/trunk-2"',
              '"Dial"', '"SIP/trunk/79161234567,60"', '"2026-11-27 12:00:00"', '"2026-11-27 12:00:10"',
              '"2026-11-27 12:01:50"', "110", "100", '"ANSWERED"', '"DOCUMENTATION"', '"1.1"', '""']  # fmt: skip
    (tmp_path / "Master.csv").write_text(",".join(fields) + "\n", encoding="utf-8")
    await import_paths(pool, [tmp_path], zone=MSK, now=IMPORTED)
    (call,) = await pbx_rows(pool)
    assert call.clid == '"131" <131>' and call.billsec == 100 and call.employee_id == "31"

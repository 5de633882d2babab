"""A rewritten export whose rows did not change skips its unchanged chunks (docs/import.md, "A
rewritten export: unchanged chunks are skipped"), on SQLite and PostgreSQL: a chunk whose cells are
the ones last imported at the same position is not even mapped to columns, anything else is read
as before with its true lines, and the outcome is always the one of reading every row."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from db.importer import ImportFailed, ImportReport, import_paths
from db.importer import rows as rows_module
from db.models import Base, ImportedChunk, Payment
from db.session import SessionPool
from tests.conftest import truncate_all
from tests.factories import EMPLOYEES_HEADER, small_exports, write_csv
from tests.importing import MSK, NOW, count, problems, run, watch_reads

DOC = Path(__file__).parents[1] / "docs" / "import.md"

TITLE = "Поступления оплат за февраль 2019"
HEADER = ["Номер", "Код договора", "Дата", "Сумма", "Период"]
# ten payments: with chunks of 3 records, chunks [1-3] [4-6] [7-9] [10]
PAYMENTS = [
    [f"ПП-{n}", f"c{n % 3 + 1}", f"{n + 1:02d}.02.2019", f"{n} 000,{n:02d}", "02.2019" if n % 2 else ""]
    for n in range(1, 11)
]
CDR = ["", "101", "+79161234567", "from-internal", '"" <101>', "SIP/101-1", "SIP/trunk-1", "Dial", "",
       "2019-02-20 10:00:00", "2019-02-20 10:00:05", "2019-02-20 10:01:35", "95", "90", "ANSWERED",
       "DOCUMENTATION"]  # fmt: skip


def one_c(path: Path, rows: list[list[str]], *, header: list[str] = HEADER) -> Path:
    """A payments file as 1C writes it: Windows-1251, ";", CR LF, quoted only where needed."""
    with path.open("w", encoding="cp1251", newline="") as handle:
        handle.write(TITLE + "\r\n")
        out = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        out.writerows([header, *rows])
    return path


def rewritten(path: Path, rows: list[list[str]], *, header: list[str] = HEADER) -> Path:
    """The same table saved again: UTF-8, LF, every cell quoted (other bytes, the same cells)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(TITLE + "\n")
        out = csv.writer(handle, delimiter=";", lineterminator="\n", quoting=csv.QUOTE_ALL)
        out.writerows([header, *rows])
    return path


def records(n: int) -> list[list[str]]:
    return [[*CDR[:5], f"SIP/101-{i}", *CDR[6:12], str(90 + i), *CDR[13:]] for i in range(1, n + 1)]


def master(path: Path, rows: list[list[str]], *, line_end: str = "\r\n", quoting: int = csv.QUOTE_ALL) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=quoting, lineterminator=line_end).writerows(rows)
    return path


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows_module, "CHUNK_ROWS", 3)


@pytest.fixture
def mapped(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """``(entity, line)`` of every data record the importer maps to columns (payments and PBX)."""
    return watch_reads(monkeypatch)


async def base(pool: SessionPool, tmp_path: Path) -> Path:
    folder = small_exports(tmp_path / "base")
    (folder / "payments.csv").unlink()
    await run(pool, folder)
    return tmp_path / "payments.csv"


async def amounts(pool: SessionPool) -> dict[str, int]:
    async with pool() as session:
        return {row_id: amount for row_id, amount in await session.execute(select(Payment.id, Payment.amount))}


def counted(report: ImportReport, entity: str = "payments") -> tuple[int, int, int]:
    c = report.counts[entity]
    return c.added, c.updated, c.unchanged


def lines(found: list[tuple[str, int]], entity: str = "payments") -> list[int]:
    return sorted(line for kind, line in found if kind == entity)


async def test_a_rewrite_with_the_same_rows_maps_no_row(
    pool: SessionPool, tmp_path: Path, mapped: list[tuple[str, int]]
) -> None:
    """Every cell quoted, CR LF → LF, Windows-1251 → UTF-8: other bytes, the same cells."""
    path = await base(pool, tmp_path)
    await run(pool, one_c(path, PAYMENTS))
    mapped.clear()
    report = await run(pool, rewritten(path, PAYMENTS))
    assert report.skipped == []  # the bytes differ: the file is read
    assert counted(report) == (0, 0, 10)
    assert mapped == []
    async with pool() as session:
        chunks = (await session.execute(
            select(ImportedChunk.records).where(ImportedChunk.entity == "payments").order_by(ImportedChunk.chunk)
        )).scalars()  # fmt: skip
        assert list(chunks) == [3, 3, 3, 1]


async def test_one_changed_row_reads_its_chunk_alone(
    pool: SessionPool, tmp_path: Path, mapped: list[tuple[str, int]]
) -> None:
    path = await base(pool, tmp_path)
    await run(pool, one_c(path, PAYMENTS))
    changed = [row[:] for row in PAYMENTS]
    changed[4][3] = "5 555,55"  # ПП-5, the second chunk (lines 6-8 of the file)
    mapped.clear()
    report = await run(pool, rewritten(path, changed))
    assert counted(report) == (0, 1, 9)
    assert lines(mapped) == [6, 7, 8]
    assert (await amounts(pool))["ПП-5"] == 555555
    mapped.clear()
    again = await run(pool, one_c(path, changed))  # and back to 1C's bytes: nothing changed
    assert counted(again) == (0, 0, 10)
    assert mapped == []


async def test_an_inserted_row_reads_every_chunk_after_it(
    pool: SessionPool, tmp_path: Path, mapped: list[tuple[str, int]]
) -> None:
    path = await base(pool, tmp_path)
    await run(pool, one_c(path, PAYMENTS))
    inserted = [*PAYMENTS[:4], ["ПП-99", "c1", "15.02.2019", "10,00", ""], *PAYMENTS[4:]]
    mapped.clear()
    report = await run(pool, rewritten(path, inserted))
    assert counted(report) == (1, 0, 10)
    assert lines(mapped) == list(range(6, 14))  # the first chunk (lines 3-5) is skipped
    assert len(await amounts(pool)) == 11
    mapped.clear()
    assert counted(await run(pool, one_c(path, inserted))) == (0, 0, 11)
    assert mapped == []  # the chunks of the file as it is now were remembered


async def test_a_problem_in_a_changed_chunk_names_its_true_line(
    pool: SessionPool, tmp_path: Path, mapped: list[tuple[str, int]]
) -> None:
    """A comment spanning two lines in the first chunk, which is skipped: the lines after it are
    still the file's physical lines."""
    path = await base(pool, tmp_path)
    header = [*HEADER, "Комментарий"]
    commented = [[*row, ""] for row in PAYMENTS]
    commented[1][5] = "оплачено\r\nчастично"  # ПП-2: lines 4-5
    await run(pool, one_c(path, commented, header=header))
    changed = [row[:] for row in commented]
    changed[7][3] = "8 000,085"  # ПП-8: line 11
    mapped.clear()
    assert await problems(pool, rewritten(path, changed, header=header)) == [
        "payments.csv:11: amount: 8 000,085: more than two digits after the decimal separator"
    ]
    assert lines(mapped) == [10, 11, 12]  # the third chunk alone
    assert len(await amounts(pool)) == 10  # nothing written


async def test_an_id_of_a_skipped_chunk_read_again_is_a_repeated_id(
    pool: SessionPool, tmp_path: Path, mapped: list[tuple[str, int]]
) -> None:
    """ПП-2's chunk is skipped, yet the import sees ПП-2 again in a changed chunk: only a whole read
    tells a repeated id (this) from an id that moved, so the file is read whole."""
    path = await base(pool, tmp_path)
    await run(pool, one_c(path, PAYMENTS))
    changed = [row[:] for row in PAYMENTS]
    changed[7][0] = "ПП-2"
    assert await problems(pool, rewritten(path, changed)) == [
        "payments.csv:10: id: ПП-2: duplicate id: this id appears earlier in the import"
    ]
    # an id that moved to another chunk (and changed): read there, the last chunk still skipped
    moved = [*PAYMENTS[:1], *PAYMENTS[2:8], [PAYMENTS[1][0], "c3", "28.02.2019", "1,00", ""], *PAYMENTS[8:]]
    mapped.clear()
    report = await run(pool, rewritten(path, moved))
    assert counted(report) == (0, 1, 9)
    assert lines(mapped) == list(range(3, 12))
    assert (await amounts(pool))["ПП-2"] == 100


async def test_a_new_time_zone_or_extension_reads_every_row(
    pool: SessionPool, tmp_path: Path, mapped: list[tuple[str, int]]
) -> None:
    path = await base(pool, tmp_path)
    await run(pool, one_c(path, PAYMENTS))
    mapped.clear()
    await import_paths(pool, [rewritten(path, PAYMENTS)], zone=ZoneInfo("Asia/Yekaterinburg"), now=NOW)
    assert lines(mapped) == list(range(3, 13))

    folder = tmp_path / "pbx"
    folder.mkdir()
    log = master(folder / "Master.csv", records(7))
    await run(pool, log)
    mapped.clear()
    assert counted(await run(pool, master(log, records(7), line_end="\n")), "pbx") == (0, 0, 7)
    assert mapped == []
    # extension 101 is someone else's now: every record's employee may differ
    write_csv(tmp_path / "employees.csv", EMPLOYEES_HEADER, [
        ["m1", "Аракелян Наринэ", "manager", "A", "105", "", "1"],
        ["m2", "Петров Пётр", "manager", "B", "101", "", "1"],
    ])  # fmt: skip
    await run(pool, tmp_path / "employees.csv")
    mapped.clear()
    await run(pool, master(log, records(7), quoting=csv.QUOTE_MINIMAL))
    assert lines(mapped, "pbx") == list(range(1, 8))


async def test_a_pbx_record_repeated_is_counted_once(
    pool: SessionPool, tmp_path: Path, mapped: list[tuple[str, int]]
) -> None:
    """Asterisk wrote the same record twice (chunks 1 and 3): a whole read counts it once, and so
    does a re-import that would skip both copies."""
    await base(pool, tmp_path)
    calls = records(8)
    calls[7] = calls[1]
    log = master(tmp_path / "Master.csv", calls)
    assert counted(await run(pool, log), "pbx") == (7, 0, 0)
    assert counted(await run(pool, master(log, calls, line_end="\n")), "pbx") == (0, 0, 7)
    one_more = [*calls[:3], records(9)[8], *calls[3:]]
    assert counted(await run(pool, master(log, one_more)), "pbx") == (1, 0, 7)


async def test_the_worked_example(pool: SessionPool, tmp_path: Path, mapped: list[tuple[str, int]],
                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """docs/import.md: chunks of 2 records, five payments; 1C saves the file again with ПП-4 corrected."""
    monkeypatch.setattr(rows_module, "CHUNK_ROWS", 2)
    path = await base(pool, tmp_path)
    night_1 = [
        ["ПП-1", "c1", "01.02.2019", "2 818,50", "02.2019"],
        ["ПП-2", "c2", "04.02.2019", "3 000,00", "02.2019"],
        ["ПП-3", "c3", "05.02.2019", "1 500,00", "02.2019"],
        ["ПП-4", "c1", "11.02.2019", "2 818,50", "02.2019"],
        ["ПП-5", "c2", "12.02.2019", "3 000,00", "02.2019"],
    ]
    await run(pool, one_c(path, night_1))
    night_2 = [row[:] for row in night_1]
    night_2[3][3] = "2 000,00"
    mapped.clear()
    report = await run(pool, rewritten(path, night_2))
    assert lines(mapped) == [5, 6]
    assert counted(report) == (0, 1, 4)
    assert (await amounts(pool))["ПП-4"] == 200000
    assert await count(pool, Payment) == 5
    doc = DOC.read_text(encoding="utf-8")
    for figure in ("lines 5 and 6", "updated 1, unchanged 4", "ПП-4;c1;11.02.2019;2 000,00", "chunks of 2"):
        assert figure in doc, figure


# --------------------------------------------------------------------------------------------------
# The property: whatever the edit, a chunk-skipped re-import ends as reading every row does
# --------------------------------------------------------------------------------------------------

BOOKKEEPING = {"imported_files", "imported_chunks", "import_row_digests", "import_runs", "import_attempts"}

EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("amount"), st.integers(0, 9), st.integers(1, 99_999)),
        st.tuples(st.just("insert"), st.integers(0, 10), st.integers(20, 40)),
        st.tuples(st.just("delete"), st.integers(0, 9), st.just(0)),
        st.tuples(st.just("same id"), st.integers(0, 9), st.integers(0, 9)),
        st.tuples(st.just("bad"), st.integers(0, 9), st.just(0)),
        st.tuples(st.just("swap"), st.integers(0, 9), st.integers(0, 9)),
    ),
    max_size=3,
)


def edited(edits: list[tuple[str, int, int]]) -> list[list[str]]:
    rows = [row[:] for row in PAYMENTS]
    for kind, at, value in edits:
        at = min(at, len(rows) - 1) if kind != "insert" else min(at, len(rows))
        if kind == "amount" and rows:
            rows[at][3] = f"{value // 100},{value % 100:02d}"
        elif kind == "insert":
            rows.insert(at, [f"ПП-{value}", "c2", "20.02.2019", f"{value},00", ""])
        elif kind == "delete" and len(rows) > 1:
            del rows[at]
        elif kind == "same id" and rows:
            rows[at][0] = rows[min(value, len(rows) - 1)][0]
        elif kind == "bad" and rows:
            rows[at][2] = "31.02.2019"
        elif kind == "swap" and rows:
            other = min(value, len(rows) - 1)
            rows[at], rows[other] = rows[other], rows[at]
    return rows


async def dump(pool: SessionPool) -> dict[str, list[str]]:
    tables = {}
    async with pool() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            found = await session.execute(text(f"SELECT * FROM {table.name}"))
            tables[table.name] = sorted(repr(tuple(row)) for row in found)
    return tables


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(EDITS, st.booleans())
def test_after_any_edit_the_database_is_what_reading_every_row_makes(
    database_url: str, tmp_path_factory: Any, edits: list[tuple[str, int, int]], requoted: bool
) -> None:
    """Rows changed, inserted, removed, swapped, given another row's id or a bad value, in one
    rewrite of the file: the chunk-skipping import ends with the same tables (ledgers included), the
    same counts and the same problems as a re-read of every row from the same start."""
    from db.migrate import upgrade
    from db.session import create_engine, create_session_pool

    final = edited(edits)

    async def scenario(folder: Path, whole: bool) -> tuple[Any, dict[str, list[str]]]:
        url = database_url if database_url.startswith("postgresql") else f"sqlite+aiosqlite:///{folder}/kpibot.db"
        engine = create_engine(url)
        try:
            if url.startswith("postgresql"):
                await truncate_all(engine)
            else:
                await upgrade(engine)
            pool = create_session_pool(engine)
            path = await base(pool, folder)
            await run(pool, one_c(path, PAYMENTS))
            (rewritten if requoted else one_c)(path, final)
            try:
                report = await import_paths(pool, [path], zone=MSK, now=NOW, reread=whole)
                outcome: Any = counted(report)
            except ImportFailed as failure:
                outcome = failure.problems
            return outcome, await dump(pool)
        finally:
            await engine.dispose()

    async def both() -> None:  # chunks of 3 records (the autouse fixture)
        chunked = await scenario(tmp_path_factory.mktemp("chunked"), whole=False)
        whole = await scenario(tmp_path_factory.mktemp("whole"), whole=True)
        assert chunked == whole

    asyncio.run(both())


async def test_a_master_csv_read_whole_keeps_digests_the_next_rewrite_can_match(
    pool: SessionPool, tmp_path: Path, mapped: list[tuple[str, int]]
) -> None:
    """A rewrite of Master.csv read whole (a record of a skipped chunk repeated in a later one) keeps
    the digests a first read keeps: the separator is part of them only once the file is being read,
    so the next rewrite still skips the chunks whose records did not change."""
    calls = records(7)  # chunks [1-3] [4-6] [7]
    log = master(tmp_path / "Master.csv", calls)
    await run(pool, log)
    assert counted(await run(pool, master(log, [*calls, calls[0]], line_end="\n")), "pbx") == (0, 0, 7)
    mapped.clear()
    assert counted(await run(pool, master(log, calls, quoting=csv.QUOTE_MINIMAL)), "pbx") == (0, 0, 7)
    assert lines(mapped, "pbx") == [7]


async def test_nights_of_appends_keep_the_chunks_of_the_old_part(
    pool: SessionPool, tmp_path: Path, mapped: list[tuple[str, int]]
) -> None:
    """A file read from where it ended keeps the chunks of its old part; only a last chunk short of
    full may grow, so only it is forgotten: night after night of appends does not wear the
    remembered chunks away, and a rewrite after them still skips the old part."""
    path = await base(pool, tmp_path)
    await run(pool, one_c(path, PAYMENTS[:6]))  # chunks [1-3] [4-6], both full
    for night in (8, 10):  # 1C appended two payments each night
        assert counted(await run(pool, one_c(path, PAYMENTS[:night])))[0] == 2
    mapped.clear()
    assert counted(await run(pool, rewritten(path, PAYMENTS))) == (0, 0, 10)
    assert lines(mapped) == [9, 10, 11, 12]  # chunks [7-9] [10] were appended: read; [1-3] [4-6] skipped

"""The importer's fast paths keep what the slow ones did: a SQLite table's indexes rebuilt after a
first import are the same indexes (and a failed import keeps them), a cell's parse remembered per
column never hides a bad value, a staged date-time is the text SQLAlchemy writes, and the ledger's
bulk rows read back as SQLAlchemy wrote them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Date, DateTime, Table, select, text
from sqlalchemy.dialects import sqlite

from db.importer import import_paths, writer
from db.importer.report import Problem
from db.importer.rows import Memo, Row
from db.importer.values import day
from db.models import LedgerMonthRow, Payment, PbxCall
from db.queries.bulk import insert_rows
from db.session import SessionPool
from tests.factories import INTERACTIONS_HEADER, PAYMENTS_HEADER, small_exports, write_csv
from tests.importing import MSK, count, problems, run


async def _indexes(pool: SessionPool) -> list[tuple[str, str]]:
    async with pool() as session:
        found = await session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        )
        return [(str(name), str(sql)) for name, sql in found]


async def test_a_first_import_rebuilds_sqlites_indexes_as_they_were(
    pool: SessionPool, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps its indexes through an import")
    monkeypatch.setattr(writer, "REBUILD_INDEXES_FROM", 1)
    before = await _indexes(pool)
    assert any(name == "ix_payments_paid_on" for name, _ in before)
    dropped: list[str] = []
    original = writer.Stage._drop_indexes

    async def spy(self: writer.Stage, added: int) -> list[str]:
        statements = await original(self, added)
        dropped.extend(statements)
        return statements

    monkeypatch.setattr(writer.Stage, "_drop_indexes", spy)
    await run(pool, small_exports(tmp_path / "first"))
    assert any("ix_payments_paid_on" in s for s in dropped)  # the path was taken
    assert await _indexes(pool) == before
    async with pool() as session:  # and the index answers
        plan = await session.execute(text("EXPLAIN QUERY PLAN SELECT id FROM payments WHERE paid_on > '2019-01-01'"))
        assert "ix_payments_paid_on" in " ".join(str(r[-1]) for r in plan)


async def test_a_failed_import_after_a_rebuild_keeps_the_indexes_and_the_rows(
    pool: SessionPool, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "REBUILD_INDEXES_FROM", 1)
    before = await _indexes(pool) if database_url.startswith("sqlite") else []
    folder = small_exports(tmp_path / "bad")
    # payments are written (their indexes rebuilt) before the interactions' bad row is read
    write_csv(folder / "interactions.csv", INTERACTIONS_HEADER, [
        ["i1", "звонок", "исходящий", "m1", "", "", "", "", "05.02.2019 10:00", "60", "выполнено", "", ""],
        ["i2", "звонок", "исходящий", "m1", "", "", "", "", "30.02.2019 10:00", "60", "выполнено", "", ""],
    ])  # fmt: skip
    found = await problems(pool, folder)
    assert found == ["interactions.csv:3: done_at: 30.02.2019 10:00: no such date"]
    assert await count(pool, Payment) == 0
    if before:
        assert await _indexes(pool) == before


def test_a_remembered_parse_never_hides_a_bad_cell() -> None:
    found: list[Problem] = []
    memo: Memo = {}
    cells = ["05.01.2019", "31.02.2019", "05.01.2019", "31.02.2019", "", " 05.01.2019 "]
    values = [Row("p.csv", n, {"date": c}, found, memo).get("date", day, required=True) for n, c in enumerate(cells, 2)]
    assert values == [date(2019, 1, 5), None, date(2019, 1, 5), None, None, date(2019, 1, 5)]
    assert [str(p) for p in found] == [
        "p.csv:3: date: 31.02.2019: no such date",
        "p.csv:5: date: 31.02.2019: no such date",
        "p.csv:6: date: : required value is empty",
    ]


def test_a_column_read_by_two_parsers_keeps_them_apart() -> None:
    memo: Memo = {}
    row = Row("x.csv", 2, {"n": "12"}, [], memo)
    assert row.get("n", lambda c: int(str(c))) == 12
    assert row.get("n", lambda c: str(c) + "!") == "12!"  # another parser: its own memory
    assert Row("x.csv", 3, {"n": "12"}, [], memo).get("n", lambda c: int(str(c))) == 12


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 12, 31)))
def test_a_staged_date_time_is_the_text_sqlalchemy_writes(moment: datetime) -> None:
    dialect = sqlite.dialect()
    for kind in (DateTime(), Date()):
        impl = kind.dialect_impl(dialect)
        process = impl.bind_processor(dialect)
        assert process is not None
        convert = writer._converter(process, getattr(impl, "_storage_format", ""))
        assert convert(moment) == process(moment)
        assert convert(moment.date()) == process(moment.date())


async def test_bulk_rows_read_back_as_sqlalchemy_wrote_them(pool: SessionPool) -> None:
    table = LedgerMonthRow.__table__
    assert isinstance(table, Table)
    rows = [(f"c{n}", date(2019, 1 + n % 12, 1), n, n, n, -n, 1) for n in range(30)]
    async with pool() as session, session.begin():
        await insert_rows(await session.connection(), table, [c.name for c in table.columns], rows)
    async with pool() as session:
        back = (await session.execute(select(table).order_by(table.c.contract_id, table.c.month))).all()
        assert sorted(tuple(r) for r in back) == sorted(rows)
        same_month = select(table.c.contract_id).where(table.c.month == date(2019, 2, 1))
        assert sorted((await session.execute(same_month)).scalars()) == ["c1", "c13", "c25"]


async def test_a_record_repeated_inside_one_master_csv_is_one_row(pool: SessionPool, tmp_path: Path) -> None:
    """The upsert skips the per-id choice of a record's first copy when a source repeats none; a
    source that does repeat one still writes it once."""
    case = Path(__file__).parent / "cases" / "realworld" / "02-cdr-ringgroup-same-uniqueid"
    await import_paths(pool, [case / "base"], zone=MSK, now=datetime(2026, 11, 30, 3, 0))
    lines = (case / "Master.csv").read_bytes().splitlines(keepends=True)
    folder = tmp_path / "pbx"
    folder.mkdir()
    (folder / "Master.csv").write_bytes(b"".join([*lines, lines[0]]))
    report = await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 11, 30, 3, 0))
    assert (report.counts["pbx"].added, report.counts["pbx"].unchanged) == (2, 0)
    assert await count(pool, PbxCall) == 2
    (folder / "Master.csv").write_bytes(b"".join(lines))
    again = await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 11, 30, 3, 0), reread=True)
    assert (again.counts["pbx"].added, again.counts["pbx"].unchanged) == (0, 2)


async def _reltuples(pool: SessionPool, table: str) -> float:
    async with pool() as session:
        statement = text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)")
        return float((await session.execute(statement, {"table": table})).scalar_one())


async def test_postgresql_analyses_a_table_an_import_changed_in_bulk_before_the_hook_reads_it(
    pool: SessionPool, database_url: str, tmp_path: Path
) -> None:
    """Autovacuum analyses only after the commit; the ledger's reads inside the import would be
    planned on the statistics of the empty table. 200 payments (> 50 + 10 % of 0) are analysed within
    the import: ``reltuples`` counts them at once. A re-import changing 3 of them (< 50 + 20) leaves
    the statistics alone."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's planner keeps no statistics to go stale")
    folder = small_exports(tmp_path / "first")
    rows = [[f"p{n}", f"c{n % 3 + 1}", "05.01.2019", f"{n},00", ""] for n in range(1, 201)]
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, rows)
    assert await _reltuples(pool, "payments") == -1  # never analysed
    await run(pool, folder)
    assert await _reltuples(pool, "payments") == 200 == await count(pool, Payment)
    assert await _reltuples(pool, "interactions") == -1  # an entity the export did not have
    for row in rows[:3]:
        row[3] = "1,00"
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [*rows, ["p999", "c1", "06.01.2019", "5,00", ""]])
    async with pool() as session, session.begin():  # mark the statistics to see whether they are taken again
        await session.execute(text("UPDATE pg_class SET reltuples = 123 WHERE oid = 'payments'::regclass"))
    await run(pool, folder)
    assert await _reltuples(pool, "payments") == 123 and await count(pool, Payment) == 201

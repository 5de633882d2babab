"""A re-import in time proportional to change: rows whose digest is unchanged are neither built nor
checked again, and the outcome is the same as reading every row (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from db.importer import import_paths
from db.importer.rows import SPECS, Context, Row
from db.models import ImportRowDigest, Payment, PbxCall
from db.session import SessionPool
from tests.conftest import truncate_all
from tests.factories import PAYMENTS_HEADER, small_exports, write_csv
from tests.importing import MSK, NOW, count, problems, run

PAYMENTS = [
    ["p1", "c1", "05.01.2019", "2 818,50", ""],
    ["p2", "c2", "05.02.2019", "3 000,00", "2019-02"],
    ["p3", "c3", "10.01.2019", "1500", "01.2019"],
]


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the payments the importer builds (and checks) from their cells."""
    ids: list[str] = []
    spec = SPECS["payments"]

    def counting(row: Row, ctx: Context) -> dict[str, Any]:
        values = spec.build(row, ctx)
        ids.append(str(values.get("id")))
        return values

    monkeypatch.setitem(SPECS, "payments", replace(spec, build=counting))
    return ids


async def amounts(pool: SessionPool) -> dict[str, int]:
    async with pool() as session:
        return {row_id: amount for row_id, amount in await session.execute(select(Payment.id, Payment.amount))}


async def test_a_reimport_builds_only_new_and_changed_rows(pool: SessionPool, tmp_path: Path, built: list[str]) -> None:
    folder = small_exports(tmp_path)
    await run(pool, folder)
    assert sorted(built) == ["p1", "p2", "p3"]
    built.clear()
    # the next night's export: p2's amount corrected, a day appended, the rest as it was
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [
        PAYMENTS[0], ["p2", "c2", "05.02.2019", "2 500,00", "2019-02"], PAYMENTS[2],
        ["p4", "c1", "26.02.2019", "2 818,50", "02.2019"],
    ])  # fmt: skip
    report = await run(pool, folder / "payments.csv")
    counts = report.counts["payments"]
    assert (counts.added, counts.updated, counts.unchanged) == (1, 1, 2)
    assert sorted(built) == ["p2", "p4"]  # p1 and p3 were read, not built again
    assert await amounts(pool) == {"p1": 281850, "p2": 250000, "p3": 150000, "p4": 281850}
    assert await count(pool, ImportRowDigest) == 3 + 3 + 1  # contracts, payments, the new payment


async def test_a_row_removed_since_it_was_written_is_read_again(pool: SessionPool, tmp_path: Path) -> None:
    folder = small_exports(tmp_path)
    await run(pool, folder)
    async with pool() as session, session.begin():
        await session.execute(delete(Payment).where(Payment.id == "p3"))  # e.g. withdrawn in 1C, since re-posted
    report = await import_paths(pool, [folder / "payments.csv"], zone=MSK, now=NOW, reread=True)
    counts = report.counts["payments"]
    assert (counts.added, counts.updated, counts.unchanged) == (1, 0, 2)
    assert (await amounts(pool))["p3"] == 150000


async def test_a_bad_new_row_leaves_rows_and_digests_as_they_were(pool: SessionPool, tmp_path: Path) -> None:
    folder = small_exports(tmp_path)
    await run(pool, folder)
    digests = await count(pool, ImportRowDigest)
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [
        PAYMENTS[0], ["p2", "c2", "05.02.2019", "2 500,00", "2019-02"], PAYMENTS[2],
        ["p4", "c1", "26.02.2019", "две тысячи", "02.2019"],
    ])  # fmt: skip
    found = await problems(pool, folder / "payments.csv")
    assert len(found) == 1 and found[0].startswith("payments.csv:5: amount: две тысячи: ")
    assert await amounts(pool) == {"p1": 281850, "p2": 300000, "p3": 150000}
    assert await count(pool, ImportRowDigest) == digests
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [
        PAYMENTS[0], ["p2", "c2", "05.02.2019", "2 500,00", "2019-02"], PAYMENTS[2],
        ["p4", "c1", "26.02.2019", "2000", "02.2019"],
    ])  # fmt: skip
    counts = (await run(pool, folder / "payments.csv")).counts["payments"]
    assert (counts.added, counts.updated, counts.unchanged) == (1, 1, 2)  # the failed import left no trace


async def test_a_repeated_id_is_reported_though_its_first_row_is_unchanged(pool: SessionPool, tmp_path: Path) -> None:
    folder = small_exports(tmp_path)
    await run(pool, folder)
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [*PAYMENTS, ["p1", "c2", "06.02.2019", "100", ""]])
    assert await problems(pool, folder / "payments.csv") == [
        "payments.csv:5: id: p1: duplicate id: this id appears earlier in the import"
    ]


async def test_a_new_pbx_timezone_rereads_every_record(pool: SessionPool, tmp_path: Path) -> None:
    await run(pool, small_exports(tmp_path / "base"))
    record = ["", "+79161234567", "101", "from-trunk", "", "SIP/trunk-1", "SIP/101-2", "Dial", "",
              "2019-02-22 10:00:00", "2019-02-22 10:00:05", "2019-02-22 10:00:08", "8", "3", "ANSWERED",
              "DOCUMENTATION"]  # fmt: skip
    master = tmp_path / "pbx" / "Master.csv"
    write_csv(master, None, [record], delimiter=",", quoting=1)
    await import_paths(pool, [master], zone=MSK, now=NOW)
    report = await import_paths(pool, [master], zone=MSK, now=NOW, pbx_zone=ZoneInfo("UTC"), reread=True)
    assert report.counts["pbx"].updated == 1  # the same cells, other values: built again
    async with pool() as session:
        call = (await session.execute(select(PbxCall))).scalar_one()
    assert call.started_at == datetime(2019, 2, 22, 13, 0)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.lists(st.tuples(st.integers(1, 8), st.integers(1, 9_999_99)), max_size=8, unique_by=lambda r: r[0]),
        min_size=1,
        max_size=4,
    )
)
def test_after_any_sequence_of_exports_the_payments_are_the_last_files(
    database_url: str, tmp_path_factory: Any, exports: list[list[tuple[int, int]]]
) -> None:
    """Whatever rows come, go and change from one --full import to the next, the payments held are
    exactly the last file's, the counts add up, and a re-read of every row changes nothing."""
    import asyncio

    from db.migrate import upgrade
    from db.session import create_engine, create_session_pool

    async def scenario() -> None:
        folder = tmp_path_factory.mktemp("exports")
        # a fresh database per example: a new SQLite file, or the PostgreSQL schema emptied
        url = database_url if database_url.startswith("postgresql") else f"sqlite+aiosqlite:///{folder}/kpibot.db"
        engine = create_engine(url)
        try:
            if url.startswith("postgresql"):
                await truncate_all(engine)  # migrated already: emptied, as the fixture does per test
            else:
                await upgrade(engine)
            pool = create_session_pool(engine)
            await run(pool, small_exports(folder))
            before = await amounts(pool)
            for rows in exports:
                if not rows:
                    continue  # --full refuses an empty file
                lines = [
                    [f"p{n}", "c1", "05.01.2019", f"{kopecks // 100}.{kopecks % 100:02d}", ""] for n, kopecks in rows
                ]
                write_csv(folder / "payments.csv", PAYMENTS_HEADER, lines)
                report = await import_paths(pool, [folder / "payments.csv"], zone=MSK, now=NOW, full=("payments",))
                expected = {f"p{n}": kopecks for n, kopecks in rows}
                c = report.counts["payments"]
                assert c.added == len(expected.keys() - before.keys())
                assert c.removed == len(before.keys() - expected.keys())
                assert c.updated == sum(1 for k in expected.keys() & before.keys() if expected[k] != before[k])
                assert c.unchanged == sum(1 for k in expected.keys() & before.keys() if expected[k] == before[k])
                assert await amounts(pool) == expected
                again = await import_paths(pool, [folder / "payments.csv"], zone=MSK, now=NOW, reread=True)
                assert again.counts["payments"].unchanged == len(expected)
                before = expected
            async with pool() as session:
                paid = (await session.execute(select(func.min(Payment.paid_on)))).scalar_one()
            assert paid in (None, date(2019, 1, 5))
        finally:
            await engine.dispose()

    asyncio.run(scenario())


async def test_the_contracts_an_import_touched_are_collected(
    pool: SessionPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db.importer.writer import Staging

    touched: list[set[str]] = []
    finish = Staging.finish

    async def recording(self: Staging) -> None:
        touched.append(set(self.touched_contracts))
        await finish(self)

    monkeypatch.setattr(Staging, "finish", recording)
    folder = small_exports(tmp_path)
    await run(pool, folder)
    assert touched[-1] == {"c1", "c2", "c3"}
    # p2 moves from c2 to c3, p1 is unchanged (skipped by its digest), p3 goes with --full
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [PAYMENTS[0], ["p2", "c3", "05.02.2019", "3000", "2019-02"]])
    await import_paths(pool, [folder / "payments.csv"], zone=MSK, now=NOW, full=("payments",))
    assert touched[-1] == {"c2", "c3"}
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [PAYMENTS[0], ["p2", "c3", "05.02.2019", "3000", "2019-02"]])
    await import_paths(pool, [folder / "payments.csv"], zone=MSK, now=NOW, reread=True)
    assert touched[-1] == set()

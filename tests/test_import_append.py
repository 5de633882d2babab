"""A nightly export that only appended rows is read from where the last one ended (docs/import.md,
"A nightly export that appended rows"), on SQLite and PostgreSQL: only the appended rows are read,
a problem in one names its true line, and anything but a pure append is read whole."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from db.importer import import_paths
from db.models import ImportedFile, Payment, PbxCall
from db.session import SessionPool
from tests.factories import INTERACTIONS_HEADER, small_exports, write_csv
from tests.importing import MSK, NOW, count, problems, run, watch_reads

DOC = Path(__file__).parents[1] / "docs" / "import.md"

# payments.csv as 1C writes it: Windows-1251, ";", CR LF, a title line above the header
TITLE = "Поступления оплат за февраль 2019"
HEADER = "Номер;Код договора;Дата;Сумма;Период"
NIGHT_1 = ["ПП-101;c1;05.02.2019;2 818,50;02.2019", "ПП-102;c2;07.02.2019;3 000,00;02.2019"]
APPENDED = ["ПП-103;c1;26.02.2019;2 818,50;02.2019", "ПП-104;c3;27.02.2019;1 500,00;02.2019"]


def lines_to(path: Path, lines: list[str]) -> Path:
    path.write_bytes("".join(line + "\r\n" for line in lines).encode("cp1251"))
    return path


def append(path: Path, lines: list[str]) -> Path:
    with path.open("ab") as handle:
        handle.write("".join(line + "\r\n" for line in lines).encode("cp1251"))
    return path


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """``(entity, line)`` of every data row the importer reads from a file (payments and PBX)."""
    return watch_reads(monkeypatch)


async def base(pool: SessionPool, tmp_path: Path) -> Path:
    folder = small_exports(tmp_path / "base")
    (folder / "payments.csv").unlink()
    await run(pool, folder)
    return lines_to(tmp_path / "payments.csv", [TITLE, HEADER, *NIGHT_1])


async def remembered(pool: SessionPool, entity: str = "payments") -> tuple[int | None, int | None, int]:
    async with pool() as session:
        last = (await session.execute(select(ImportedFile).where(ImportedFile.entity == entity))).scalar_one()
        return last.size, last.head_size, last.rows


async def amounts(pool: SessionPool) -> dict[str, int]:
    async with pool() as session:
        return {row_id: amount for row_id, amount in await session.execute(select(Payment.id, Payment.amount))}


async def test_the_worked_example(pool: SessionPool, tmp_path: Path, built: list[tuple[str, int]]) -> None:
    path = await base(pool, tmp_path)
    first = await run(pool, path)
    assert first.counts["payments"].added == 2
    night_1_size = len("".join(f"{line}\r\n" for line in [TITLE, HEADER, *NIGHT_1]).encode("cp1251"))
    head_size = len(f"{TITLE}\r\n{HEADER}\r\n".encode("cp1251"))
    assert (night_1_size, head_size) == (151, 73)
    assert await remembered(pool) == (151, 73, 2)

    built.clear()
    report = await run(pool, append(path, APPENDED))
    counts = report.counts["payments"]
    assert (counts.added, counts.updated, counts.unchanged) == (2, 0, 2)
    assert built == [("payments", 5), ("payments", 6)]  # lines 3-4 are not even read
    assert await remembered(pool) == (229, 73, 4)
    assert await amounts(pool) == {"ПП-101": 281850, "ПП-102": 300000, "ПП-103": 281850, "ПП-104": 150000}

    # the third night: 1C appended a row with a third decimal; the problem names the file's line 7
    append(path, ["ПП-105;c2;28.02.2019;3 000,005;02.2019"])
    assert await problems(pool, path) == [
        "payments.csv:7: amount: 3 000,005: more than two digits after the decimal separator"
    ]
    assert await remembered(pool) == (229, 73, 4)  # nothing written, the last file is still night 2's

    doc = DOC.read_text(encoding="utf-8")
    for figure in ("151 bytes", "73 bytes", "added 2, unchanged 2", "`payments.csv:7: amount: 3 000,005:"):
        assert figure in doc, figure


async def test_only_the_appended_rows_of_every_kind_of_file_are_read(
    pool: SessionPool, tmp_path: Path, built: list[tuple[str, int]]
) -> None:
    """A UTF-8 file without a title line, and Asterisk's Master.csv (no header at all)."""
    folder = small_exports(tmp_path / "night")
    master = folder / "Master.csv"
    record = ["", "101", "+79161234567", "from-internal", '"" <101>', "SIP/101-1", "SIP/trunk-1", "Dial", "",
              "2019-02-20 10:00:00", "2019-02-20 10:00:05", "2019-02-20 10:01:35", "95", "90", "ANSWERED",
              "DOCUMENTATION", "1550646000.1", ""]  # fmt: skip

    def records(numbers: range) -> None:
        with master.open("a", encoding="utf-8", newline="") as handle:
            out = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
            for n in numbers:
                out.writerow([*record[:5], f"SIP/101-{n}", *record[6:16], f"1550646000.{n}", ""])

    records(range(1, 4))
    await run(pool, folder)
    built.clear()
    with (folder / "payments.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write("p4;c1;26.02.2019;2 818,50;02.2019\r\n")
    records(range(4, 6))
    report = await run(pool, folder)
    assert sorted(built) == [("payments", 5), ("pbx", 4), ("pbx", 5)]
    assert (report.counts["payments"].added, report.counts["payments"].unchanged) == (1, 3)
    assert (report.counts["pbx"].added, report.counts["pbx"].unchanged) == (2, 3)
    assert await count(pool, PbxCall) == 5
    assert sorted(report.skipped) == ["contracts.csv", "employees.csv"]

    # the PBX is still writing its last line: passed over with a note naming its true line
    built.clear()
    records(range(6, 7))
    with master.open("a", encoding="utf-8", newline="") as handle:
        handle.write('"","101","+7916123')
    report = await run(pool, master)
    assert built == [("pbx", 6)]
    assert report.notes == [
        "Master.csv:7: последнюю строку АТС ещё дописывает (нет перевода строки, does not parse): "
        'пропущена, её прочитает следующая загрузка: "","101","+7916123'
    ]


@pytest.mark.parametrize(
    "night_2",
    [
        pytest.param(
            [TITLE, HEADER, NIGHT_1[0].replace("2 818,50", "2 818,60"), NIGHT_1[1], *APPENDED], id="an old row changed"
        ),
        pytest.param([TITLE, HEADER, NIGHT_1[1], NIGHT_1[0], *APPENDED], id="old rows reordered"),
        pytest.param([TITLE.replace("февраль", "март"), HEADER, *NIGHT_1, *APPENDED], id="the title changed"),
        pytest.param([TITLE, HEADER, NIGHT_1[0]], id="truncated"),
        pytest.param([TITLE, HEADER, NIGHT_1[1], NIGHT_1[0]], id="rewritten, the same length"),
    ],
)
async def test_anything_but_an_append_is_read_whole(
    pool: SessionPool, tmp_path: Path, built: list[tuple[str, int]], night_2: list[str]
) -> None:
    path = await base(pool, tmp_path)
    await run(pool, path)
    built.clear()
    report = await run(pool, lines_to(path, night_2))
    assert sorted(line for _, line in built) == list(range(3, len(night_2) + 1))
    counts = report.counts["payments"]
    assert counts.added + counts.updated + counts.unchanged == len(night_2) - 2


async def test_an_old_part_ending_without_a_line_break_is_read_whole(
    pool: SessionPool, tmp_path: Path, built: list[tuple[str, int]]
) -> None:
    path = await base(pool, tmp_path)
    path.write_bytes(path.read_bytes().rstrip(b"\r\n"))
    await run(pool, path)
    built.clear()
    append(path, ["", *APPENDED])  # the old last line's break comes with the new rows
    report = await run(pool, path)
    assert [line for _, line in built] == [3, 4, 5, 6]
    assert (report.counts["payments"].added, report.counts["payments"].unchanged) == (2, 2)


async def test_reread_and_full_read_every_row(pool: SessionPool, tmp_path: Path, built: list[tuple[str, int]]) -> None:
    path = await base(pool, tmp_path)
    await run(pool, path)
    append(path, APPENDED[:1])
    built.clear()
    await import_paths(pool, [path], zone=MSK, now=NOW, reread=True)
    assert [line for _, line in built] == [3, 4, 5]
    append(path, APPENDED[1:])
    built.clear()
    report = await run(pool, path, full=("payments",))
    assert [line for _, line in built] == [3, 4, 5, 6]
    assert (report.counts["payments"].added, report.counts["payments"].unchanged) == (1, 3)


async def test_a_changed_time_zone_reads_the_file_whole(
    pool: SessionPool, tmp_path: Path, built: list[tuple[str, int]]
) -> None:
    path = await base(pool, tmp_path)
    await run(pool, path)
    built.clear()
    append(path, APPENDED)
    await import_paths(pool, [path], zone=ZoneInfo("Asia/Yekaterinburg"), now=NOW)
    assert [line for _, line in built] == [3, 4, 5, 6]


async def test_an_appended_id_already_in_the_file_is_a_repeated_id_on_its_true_line(
    pool: SessionPool, tmp_path: Path, built: list[tuple[str, int]]
) -> None:
    """Only a whole read tells a repeated id from an update: the importer falls back to it."""
    path = await base(pool, tmp_path)
    await run(pool, path)
    append(path, [APPENDED[0], NIGHT_1[0].replace("2 818,50", "100,00")])
    assert await problems(pool, path) == [
        "payments.csv:6: id: ПП-101: duplicate id: this id appears earlier in the import"
    ]


async def test_an_appended_id_of_another_source_updates_its_row(pool: SessionPool, tmp_path: Path) -> None:
    """p1 came from elsewhere (1C's OData, say): a whole read of this file updates it, so does this."""
    path = await base(pool, tmp_path)
    await run(pool, path)
    async with pool() as session, session.begin():
        session.add(Payment(id="p1", contract_id="c1", paid_on=date(2019, 1, 5), amount=281850, period=None))
    report = await run(pool, append(path, ["p1;c1;05.01.2019;100,00;01.2019"]))
    counts = report.counts["payments"]
    assert (counts.added, counts.updated, counts.unchanged) == (0, 1, 2)
    assert (await amounts(pool))["p1"] == 10000


async def test_the_same_import_twice_after_an_append(pool: SessionPool, tmp_path: Path) -> None:
    path = await base(pool, tmp_path)
    await run(pool, path)
    await run(pool, append(path, APPENDED))
    again = await run(pool, path)
    assert again.skipped == ["payments.csv"]
    assert again.counts["payments"].unchanged == 4
    later = await import_paths(pool, [append(path, ["ПП-106;c2;28.02.2019;10,00;02.2019"])], zone=MSK,
                               now=datetime(2019, 2, 28, 4, 30))  # fmt: skip
    assert (later.counts["payments"].added, later.counts["payments"].unchanged) == (1, 4)
    assert await remembered(pool) == (265, 73, 5)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "koi8_r"])
async def test_a_file_with_a_byte_order_mark_or_another_code_page_is_resumed(
    pool: SessionPool, tmp_path: Path, built: list[tuple[str, int]], encoding: str
) -> None:
    path = await base(pool, tmp_path)
    path.write_bytes("".join(f"{line}\r\n" for line in [TITLE, HEADER, *NIGHT_1]).encode(encoding))
    await run(pool, path)
    built.clear()
    with path.open("ab") as handle:
        handle.write("".join(f"{line}\r\n" for line in APPENDED).encode(encoding.removesuffix("-sig")))
    report = await run(pool, path)
    assert built == [("payments", 5), ("payments", 6)]
    assert (report.counts["payments"].added, report.counts["payments"].unchanged) == (2, 2)
    assert await amounts(pool) == {"ПП-101": 281850, "ПП-102": 300000, "ПП-103": 281850, "ПП-104": 150000}


async def test_a_cell_spanning_lines_in_the_old_part_keeps_the_true_line_of_an_appended_problem(
    pool: SessionPool, tmp_path: Path
) -> None:
    """1C quotes a subject with a line break inside: the old part's line count is physical lines (as
    a whole read counts them), so a problem after the append still names the line a whole read names."""
    await run(pool, small_exports(tmp_path / "base"))
    path = tmp_path / "interactions.csv"
    old = ["i1", "Звонок", "Исходящий", "m1", "k1", "ООО «Ромашка»", "Анна", "", "22.02.2019 10:05", "420",
           "Выполнено", "", "две\r\nстроки"]  # fmt: skip
    write_csv(path, INTERACTIONS_HEADER, [old], encoding="cp1251")
    await run(pool, path)
    bad = [*old[:9], "-5", *old[10:12], "x"]
    with path.open("ab") as handle:
        handle.write(";".join(["i2", *bad[1:]]).encode("cp1251") + b"\r\n")
    expected = ["interactions.csv:4: duration_s: -5: must be at least 0"]
    assert await problems(pool, path) == expected
    async with pool() as session:  # the whole read (no last file) names the same line
        await session.execute(delete(ImportedFile))
        await session.commit()
    assert await problems(pool, path) == expected

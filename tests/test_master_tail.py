"""Asterisk appends to a live ``Master.csv`` while the watched folder is read: a last line still
being written (no line break, and it does not parse or is short) is passed over with a note and read
by the next import; a bad line anywhere else, a finished bad last line, or an unfinished line of any
other file still fails the import. And ``kpibot import`` of a folder without exports names it."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from db.importer import ImportFailed, import_paths
from db.importer.sources import Source, master_rows
from db.models import PbxCall
from db.session import SessionPool
from tests.world import MSK

CASE = Path(__file__).parent / "cases" / "realworld" / "02-cdr-ringgroup-same-uniqueid"
IMPORTED = datetime(2026, 11, 30, 3, 0)  # UTC
LINES = (CASE / "Master.csv").read_bytes().splitlines(keepends=True)  # two finished legs
THIRD = (
    '"","79031112233","74951231234","from-trunk","""Петров"" <79031112233>","SIP/trunk-0000001d",'
    '"SIP/101-0000001e","Dial","SIP/101,30","2019-02-22 11:00:00","2019-02-22 11:00:04","2019-02-22 11:02:04",'
    '"124","120","ANSWERED","DOCUMENTATION","1550822400.27",""\n'
).encode()


async def calls(pool: SessionPool) -> int:
    async with pool() as session:
        return int(await session.scalar(select(func.count()).select_from(PbxCall)) or 0)


def live(tmp_path: Path, *pieces: bytes) -> Path:
    shutil.copytree(CASE / "base", tmp_path / "base", dirs_exist_ok=True)
    (tmp_path / "Master.csv").write_bytes(b"".join(pieces))
    return tmp_path / "Master.csv"


@pytest.mark.parametrize(
    ("cut", "why"),
    [
        (THIRD.index(b"<7903") + 3, "does not parse"),  # inside a quoted value: its quote never closes
        (THIRD.index(b'"2019-02-22 11:00:04"') - 1, "10 fields"),  # right after a comma: a short record
    ],
)
async def test_an_unfinished_last_line_is_skipped_with_a_note_and_read_next_time(
    pool: SessionPool, tmp_path: Path, cut: int, why: str
) -> None:
    master = live(tmp_path, *LINES, THIRD[:cut])
    await import_paths(pool, [tmp_path / "base"], zone=MSK, now=IMPORTED)
    report = await import_paths(pool, [master], zone=MSK, now=IMPORTED)
    assert report.counts["pbx"].added == 2 and await calls(pool) == 2
    (note,) = report.notes
    assert note.startswith(f"Master.csv:3: последнюю строку АТС ещё дописывает (нет перевода строки, {why})")
    master.write_bytes(b"".join([*LINES, THIRD]))  # the PBX finished the line
    again = await import_paths(pool, [master], zone=MSK, now=IMPORTED)
    assert again.counts["pbx"].added == 1 and again.notes == [] and await calls(pool) == 3


async def test_a_finished_last_line_without_a_line_break_is_imported(pool: SessionPool, tmp_path: Path) -> None:
    master = live(tmp_path, *LINES, THIRD.rstrip(b"\n"))
    await import_paths(pool, [tmp_path / "base"], zone=MSK, now=IMPORTED)
    report = await import_paths(pool, [master], zone=MSK, now=IMPORTED)
    assert report.counts["pbx"].added == 3 and report.notes == []


@pytest.mark.parametrize("where", ["middle", "finished last"])
async def test_a_short_line_in_the_middle_or_with_its_line_break_still_fails(
    pool: SessionPool, tmp_path: Path, where: str
) -> None:
    short = THIRD[: THIRD.index(b'"2019-02-22 11:00:04"') - 1] + b"\n"
    pieces = [LINES[0], short, LINES[1].rstrip(b"\n")] if where == "middle" else [*LINES, short]
    master = live(tmp_path, *pieces)
    await import_paths(pool, [tmp_path / "base"], zone=MSK, now=IMPORTED)
    with pytest.raises(ImportFailed) as failure:
        await import_paths(pool, [master], zone=MSK, now=IMPORTED)
    line = 2 if where == "middle" else 3
    assert failure.value.problems == [
        f"Master.csv:{line}: (record): 10 fields: not an Asterisk CDR record (16 to 21 fields)"
    ]
    assert await calls(pool) == 0


async def test_an_unfinished_last_line_of_a_1c_export_is_still_a_problem(pool: SessionPool, tmp_path: Path) -> None:
    """Only Master.csv is appended to while it is read; 1C writes its files whole."""
    live(tmp_path, b"")
    contracts = (tmp_path / "base" / "contracts.csv").read_bytes()
    (tmp_path / "base" / "contracts.csv").write_bytes(contracts.rstrip(b"\r\n") + '\n"c9;"РС'.encode())
    with pytest.raises(ImportFailed) as failure:
        await import_paths(pool, [tmp_path / "base"], zone=MSK, now=IMPORTED)
    assert failure.value.problems[0].startswith("contracts.csv:")


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=len(THIRD) - 1))
def test_master_csv_cut_at_any_byte_of_its_last_line_reads_the_finished_lines_only(cut: int) -> None:
    """Wherever the PBX is in writing the third record, the reader yields the two finished ones and
    either skips the rest with one note or (when what is written already reads as a whole record)
    yields it; it never raises."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Master.csv"
        path.write_bytes(b"".join(LINES) + THIRD[:cut])
        source = Source("Master.csv", "pbx", 0, lambda _p: iter(()), has_header=False, path=path)
        records = list(master_rows(path, source)(None))
    assert [line for line, _ in records[:2]] == [1, 2]
    if cut == 0:
        assert len(records) == 2 and source.notes == []
    elif len(records) == 3:
        assert len(records[2][1]) == 18 and source.notes == []
    else:
        assert len(records) == 2 and len(source.notes) == 1 and source.notes[0].startswith("Master.csv:3: ")


async def test_an_empty_folder_is_named_in_the_problem(pool: SessionPool, tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    with pytest.raises(ImportFailed) as failure:
        await import_paths(pool, [tmp_path / "inbox"], zone=MSK, now=IMPORTED)
    (problem,) = failure.value.problems
    assert problem.startswith(f"{tmp_path / 'inbox'}: в папке нет файлов выгрузки (ожидаются выгрузки CSV или XLSX")
    assert "employees.csv" in problem and "Master.csv" in problem


def test_kpibot_import_of_an_empty_folder_names_it(tmp_path: Path) -> None:
    from tests.test_cli import kpibot

    (tmp_path / "emptydir").mkdir()
    result = kpibot("import", "emptydir", cwd=tmp_path, env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/k.db"})
    assert result.returncode == 1
    assert "emptydir: в папке нет файлов выгрузки" in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("k.db*"))  # a failed first import leaves no database behind


def test_a_failed_import_into_an_existing_database_keeps_it(tmp_path: Path) -> None:
    from tests.test_cli import kpibot

    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/k.db"}
    assert kpibot("import", "nowhere", cwd=tmp_path, env=env).returncode == 1
    assert not (tmp_path / "k.db").exists()
    (tmp_path / "k.db").touch()  # there before: the import's attempt is recorded in it (for /status)
    assert kpibot("import", "nowhere", cwd=tmp_path, env=env).returncode == 1
    assert (tmp_path / "k.db").stat().st_size > 0

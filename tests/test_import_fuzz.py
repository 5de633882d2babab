"""Fuzzing the readers (hypothesis): any bytes, any structure, any cell values, any workbook, any
Master.csv → either rows or ``file:line`` problems, never another exception, never a partial write;
and well-formed values are stored exactly as written (nothing dropped or bent).

The CI run is bounded: ``KPIBOT_FUZZ_EXAMPLES`` examples per kind (150 by default) of seven kinds on
each of the two databases, 2,100 in all; a longer run by hand::

    KPIBOT_FUZZ_EXAMPLES=2000 KPIBOT_TEST_POSTGRES_URL=... .venv/bin/pytest -q tests/test_import_fuzz.py
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from itertools import count as counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select, text

from db.importer import ImportFailed, import_paths
from db.importer.vocabulary import CDR_SHAPES, HEADERS
from db.models import Payment
from db.session import create_engine, create_session_pool
from tests.factories import small_exports

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("KPIBOT_FUZZ_EXAMPLES", "150"))
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2019, 2, 25, 4, 30)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
TABLES = ("employees", "clients", "contracts", "payments", "interactions", "documents", "pbx_calls", "import_runs")
# file:line: column: value: reason — or, for a whole file, file: reason
PROBLEM = re.compile(r"^[^\r\n]+:\d+: [^\r\n]*: [^\r\n]*: [^\r\n]+$|^[^\r\n:]+(\.\w+)?: [^\r\n]+$")


@dataclass
class Tally:
    imported: int = 0
    refused: int = 0


class Harness:
    """One database, its base data imported, and an import per example with the checks."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.numbers = counter()
        self.tally = Tally()
        self.runner = asyncio.Runner()
        self.engine = create_engine(url)
        self.pool = create_session_pool(self.engine)
        self.runner.run(import_paths(self.pool, [small_exports(folder / "base")], zone=MSK, now=NOW))

    def close(self) -> None:
        self.runner.run(self.engine.dispose())
        self.runner.close()

    async def fingerprint(self) -> tuple[int, ...]:
        async with self.engine.connect() as conn:
            counts = [(await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES]
            total = (await conn.execute(select(func.coalesce(func.sum(Payment.amount), 0)))).scalar_one()
        return (*counts, int(total))

    def place(self, files: dict[str, bytes]) -> Path:
        where = self.folder / f"x{next(self.numbers)}"
        where.mkdir()
        for name, data in files.items():
            (where / name).write_bytes(data)
        return where

    def check(self, files: dict[str, bytes], full: tuple[str, ...] = ()) -> list[str] | None:
        """Import ``files``; the problems, or ``None`` when it imported. Fails on anything else."""
        where = self.place(files)
        before = self.runner.run(self.fingerprint())
        try:
            self.runner.run(import_paths(self.pool, [where], zone=MSK, now=NOW, full=full))
        except ImportFailed as failure:
            assert self.runner.run(self.fingerprint()) == before, "a refused import wrote something"
            assert failure.problems
            for line in failure.problems:
                assert PROBLEM.match(line), repr(line)
                assert "SELECT" not in line and "INSERT" not in line and "Traceback" not in line, line
            self.tally.refused += 1
            if os.environ.get("KPIBOT_FUZZ_SHOW"):
                print(*failure.problems[:3], sep="\n")
            return failure.problems
        self.tally.imported += 1
        return None


@contextmanager
def harness(database_url: str, tmp_path: Path) -> Iterator[Harness]:
    h = Harness(database_url, tmp_path)
    try:
        yield h
    finally:
        print(f"\nfuzz {database_url.split(':')[0]}: {h.tally.imported} imported, {h.tally.refused} refused")
        h.close()


# --------------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------------

ENTITY_FILES = ("employees.csv", "contracts.csv", "payments.csv", "interactions.csv", "documents.csv")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1251", "utf-16", "koi8_r", "mac_cyrillic")
HOSTILE_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
LIKELY_CELLS = st.sampled_from([
    "", " ", "m1", "c1", "k1", "p1", "manager", "Менеджер", "да", "нет", "2 818,50", "-1 500,00", "0", "1e5", "12",
    "99999999999999999999", "9" * 400, "05.02.2019", "2019-02-05", "31.02.2019", "05.02.2019 25:99", "01.01.0001",
    "2019-02-05T10:00:00+03:00", "0001-01-01T00:00:00+05:00", "февраль 2019", "ноя.26", "01.0000", "0012-05",
    "звонок", "входящий", "выполнено", '"', '""', "a;b", "a\nb", "\x00", "Итого", "Всего", "\u2028", "\ufeff",
    "x" * 300, "ЖЖЖ" * 100, "1,005", "inf", "nan", "-0", "+5",
])  # fmt: skip
CELLS = st.one_of(LIKELY_CELLS, HOSTILE_TEXT)


def header_names(file: str) -> st.SearchStrategy[str]:
    entity = file.removesuffix(".csv")
    names = [n for column, aliases in HEADERS[entity].items() for n in (column, *aliases)]
    return st.one_of(st.sampled_from(names), st.sampled_from([n.capitalize() for n in names]), HOSTILE_TEXT)


@st.composite
def structured_csv(draw: st.DrawFn) -> tuple[dict[str, bytes], tuple[str, ...]]:
    file = draw(st.sampled_from(ENTITY_FILES))
    header = draw(st.lists(header_names(file), min_size=0, max_size=14))
    rows = draw(st.lists(st.lists(CELLS, max_size=15), max_size=8))
    titles = draw(st.lists(st.lists(HOSTILE_TEXT, max_size=3), max_size=3))
    separator = draw(st.sampled_from([";", ",", "\t"]))
    ending = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    quote_all = draw(st.booleans())

    def line(cells: list[str]) -> str:
        if quote_all:
            return separator.join('"' + c.replace('"', '""') + '"' for c in cells)
        return separator.join(cells)

    body = ending.join(line(r) for r in [*titles, header, *rows]) + draw(st.sampled_from(["", ending]))
    encoding = draw(st.sampled_from(ENCODINGS))
    data = body.encode(encoding, errors="replace" if encoding != "utf-16" else "surrogatepass")
    full = draw(st.sampled_from([(), (file.removesuffix(".csv"),)]))
    return {file: data}, full


@st.composite
def raw_bytes(draw: st.DrawFn) -> dict[str, bytes]:
    file = draw(st.sampled_from([*ENTITY_FILES, "Master.csv", "export.xlsx"]))
    prefix = draw(
        st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"id;contract_id;date;amount\r\n", b"PK\x03\x04"])
    )
    return {file: prefix + draw(st.binary(max_size=1500))}


def xlsx_safe(value: object) -> object:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


XLSX_CELLS = st.one_of(
    st.none(),
    CELLS.map(xlsx_safe),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 1, 1)),
    st.dates(min_value=date(1900, 3, 1)),
    st.times(),
    st.booleans(),
)


@st.composite
def workbook(draw: st.DrawFn) -> dict[str, bytes]:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    entity = draw(st.sampled_from(list(HEADERS)))
    sheet.title = draw(st.sampled_from([entity, "TDSheet", "Лист1"]))
    for _ in range(draw(st.integers(0, 3))):
        sheet.append([draw(XLSX_CELLS)])
    if draw(st.booleans()):  # any header names, any cells
        names = [n for column, aliases in HEADERS[entity].items() for n in (column, *aliases)]
        sheet.append(draw(st.lists(st.sampled_from(names), max_size=12)))
        for row in draw(st.lists(st.lists(XLSX_CELLS, max_size=12), max_size=6)):
            sheet.append(row)
    else:  # every column, plausible cells with a few of any kind: these often import
        columns = draw(st.permutations(list(PLAUSIBLE[entity])))
        sheet.append([draw(st.sampled_from([c, *HEADERS[entity].get(c, ())])) for c in columns])
        for _ in range(draw(st.integers(0, 6))):
            pools = [st.sampled_from(PLAUSIBLE[entity][c]) if draw(st.integers(0, 9)) else XLSX_CELLS for c in columns]
            sheet.append([draw(pool) for pool in pools])
    out = io.BytesIO()
    book.save(out)
    data = bytearray(out.getvalue())
    for _ in range(draw(st.integers(0, 3)) if not draw(st.integers(0, 3)) else 0):  # damage: a flipped byte
        # a fraction of the length: the saved size varies by a byte or two with the time it is saved at
        where = draw(st.integers(0, 9999)) * len(data) // 10000
        data[where] ^= draw(st.integers(1, 255))
    stem = {"employees": "Сотрудники", "contracts": "Договоры", "payments": "Оплаты"}.get(entity, entity)
    return {f"{stem}.xlsx": bytes(data)}


CDR_VALUES = st.sampled_from([
    "", "101", "102", "+79161234567", "84951234567", "from-trunk", "SIP/101-0001", "SIP/trunk-1", "Dial",
    "VoiceMail", "2019-02-22 10:00:00", "2019-02-22 10:00:05", "2019-02-22T10:00:00+00:00", "30", "0", "-1",
    "99999999999", "ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION", "DOCUMENTATION", "1550829600.1",
])  # fmt: skip


@st.composite
def master_csv(draw: st.DrawFn) -> dict[str, bytes]:
    rows = draw(st.lists(st.lists(st.one_of(CDR_VALUES, HOSTILE_TEXT), min_size=14, max_size=22), max_size=6))
    shaped = []
    for number, row in enumerate(rows):
        if len(row) in CDR_SHAPES and draw(st.integers(0, 3)):  # a record in shape, with plausible times
            row[9] = draw(st.sampled_from(["2019-02-22 10:00:00", "22.02.2019 10:00"]))
            row[10] = draw(st.sampled_from(["", "2019-02-22 10:00:05"]))
            row[11] = "2019-02-22 10:00:30"
            row[12], row[13] = draw(st.sampled_from(["30", "0"])), draw(st.sampled_from(["10", "0"]))
            row[14] = draw(st.sampled_from(["ANSWERED", "NO ANSWER", "BUSY"]))
            if len(row) >= 17:
                row[16] = f"1550829600.{number}"  # uniqueid
        shaped.append(",".join('"' + c.replace('"', '""') + '"' for c in row))
    encoding = draw(st.sampled_from(["utf-8", "cp1251"]))
    return {draw(st.sampled_from(["Master.csv", "Master_20261127.csv"])): "\n".join(shaped).encode(encoding, "replace")}


# values a column plausibly holds (the base data's ids among them), so that fuzzed files often import
PLAUSIBLE: dict[str, dict[str, list[str]]] = {
    "employees": {"id": ["m1", "m9", "x"], "name": ["Иван", "Ёлкина Алёна"], "role": ["manager", "Менеджер", "админ"],
                  "team": ["A", ""], "phone_ext": ["101", "", "7"], "telegram_id": ["", "12345", "777"],
                  "active": ["", "да", "0", " "]},
    "contracts": {"id": ["c1", "c9"], "number": ["1", ""], "client_id": ["k1", "k9"], "client": ["ООО «Р»"],
                  "manager_id": ["m1", "m2"], "start": ["01.01.2019", "2019-02-01"], "months": ["", "12"],
                  "monthly_fee": ["1 000,00", "2818.5"], "title": ["ИТС", ""], "closed_on": ["", "01.02.2019"]},
    "payments": {"id": ["p1", "p9", "q"], "contract_id": ["c1", "c2"], "date": ["05.02.2019", "2019-02-06"],
                 "amount": ["100", "-5,50", "1 000,00"], "period": ["", "2019-02", "фев.19", "Март 2019 г."]},
    "interactions": {"id": ["i1", "i2"], "type": ["call", "Звонок", "встреча"], "direction": ["in", "", "Исходящий"],
                     "manager_id": ["m1"], "client_id": ["k1", ""], "client": ["ООО"], "contact": ["Пётр"],
                     "planned_at": ["22.02.2019 10:00", ""], "done_at": ["22.02.2019 10:05", ""],
                     "duration_s": ["30", ""], "status": ["done", "Запланировано", "отменено"], "next_at": [""],
                     "subject": ["x", ""]},
    "documents": {"id": ["d1", "d2"], "type": ["Акт"], "number": ["1"], "date": ["01.02.2019"], "client_id": ["k1"],
                  "client": ["ООО"], "manager_id": ["m1"], "amount": ["100", ""],
                  "original_received": ["да", "нет", ""], "received_on": ["", "05.02.2019"]},
}  # fmt: skip


@st.composite
def plausible_csv(draw: st.DrawFn) -> tuple[dict[str, bytes], tuple[str, ...]]:
    entity = draw(st.sampled_from(list(PLAUSIBLE)))
    columns = draw(st.permutations(list(PLAUSIBLE[entity])))
    columns = columns[: draw(st.integers(len(columns) - 3, len(columns)))]
    header = [draw(st.sampled_from([c, *HEADERS[entity][c]])) if HEADERS[entity].get(c) else c for c in columns]
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        rows.append(
            [draw(st.sampled_from(PLAUSIBLE[entity][c]) if draw(st.integers(0, 9)) else CELLS) for c in columns]
        )
    separator = draw(st.sampled_from([";", ",", "\t"]))
    body = "\r\n".join(separator.join('"' + c.replace('"', '""') + '"' for c in r) for r in [header, *rows])
    encoding = draw(st.sampled_from(ENCODINGS))
    data = (body + "\r\n").encode(encoding, errors="replace" if encoding != "utf-16" else "surrogatepass")
    return {f"{entity}.csv": data}, draw(st.sampled_from([(), (entity,)]))


# amounts as 1C and Excel write them: each style a function of kopecks
MONEY_STYLES: tuple[Callable[[int], str], ...] = (
    lambda k: f"{k // 100},{k % 100:02d}",
    lambda k: f"{k // 100}.{k % 100:02d}",
    lambda k: f"{k // 100:,}".replace(",", "\u00a0") + f",{k % 100:02d}",
    lambda k: f"{k // 100:,}".replace(",", " ") + f",{k % 100:02d} руб.",
    lambda k: f"{k // 100:,}.{k % 100:02d}",
)
MONTH_NAMES = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
               "ноябрь", "декабрь")  # fmt: skip
MONTH_NAMES = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
               "ноябрь", "декабрь")  # fmt: skip
PERIOD_STYLES: tuple[Callable[[date], str], ...] = (
    lambda d: f"{d:%Y-%m}",
    lambda d: f"{d:%m.%Y}",
    lambda d: f"{MONTH_NAMES[d.month - 1]} {d.year} г.",
    lambda d: f"{MONTH_NAMES[d.month - 1][:3]}.{d.year % 100:02d}",
)


@st.composite
def valid_payments(draw: st.DrawFn) -> tuple[dict[str, bytes], list[tuple[str, int, date, date | None]]]:
    rows = []
    lines = ["Номер;Код договора;Дата;Сумма;Период"]
    for n in range(draw(st.integers(1, 6))):
        kopecks = draw(st.integers(1, 10**15)) * draw(st.sampled_from([1, -1]))
        paid_on = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
        period = draw(st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 1)))
        amount = draw(st.sampled_from(MONEY_STYLES))(abs(kopecks))
        shown_period = draw(st.sampled_from(PERIOD_STYLES))(period) if period else ""
        day = draw(st.sampled_from([f"{paid_on:%d.%m.%Y}", f"{paid_on:%Y-%m-%d}", f"{paid_on:%d.%m.%Y} 0:00:00"]))
        payment_id = "".join(draw(st.lists(st.sampled_from(string.ascii_letters + "ПЛАТЁЖ-0123456789"), min_size=1,
                                           max_size=20))) + f"#{n}"  # fmt: skip
        lines.append(f"{payment_id};c1;{day};{'-' if kopecks < 0 else ''}{amount};{shown_period}")
        rows.append((payment_id, kopecks, paid_on, period.replace(day=1) if period else None))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1251", "koi8_r", "mac_cyrillic"]))
    return {"Оплаты.csv": ("\r\n".join(lines) + "\r\n").encode(encoding)}, rows


@st.composite
def valid_payment_workbooks(draw: st.DrawFn) -> tuple[dict[str, bytes], list[tuple[str, int, date, date | None]]]:
    """Payments as Excel holds them: amounts as binary floats (what a typed ``1 234,56`` becomes),
    dates as date cells or bare serials, periods as date cells or 1C's spellings."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "TDSheet"
    sheet.append(["Поступления оплат"])
    sheet.append(["Номер", "Код договора", "Дата", "Сумма", "Период"])
    rows = []
    for n in range(draw(st.integers(1, 6))):
        kopecks = draw(st.integers(1, 10**13)) * draw(st.sampled_from([1, -1]))
        paid_on = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
        period = draw(st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 1)))
        serial = (paid_on - date(1899, 12, 30)).days
        shown_day = draw(st.sampled_from([datetime.combine(paid_on, datetime.min.time()), serial]))
        shown_period = None
        if period:
            shown_period = draw(st.sampled_from([datetime.combine(period, datetime.min.time()),
                                                 draw(st.sampled_from(PERIOD_STYLES))(period)]))  # fmt: skip
        sheet.append([f"ВЗ-{n}", "c1", shown_day, kopecks / 100, shown_period])
        rows.append((f"ВЗ-{n}", kopecks, paid_on, period.replace(day=1) if period else None))
    sheet.append(["Итого", None, None, sum(r[1] for r in rows) / 100, None])
    out = io.BytesIO()
    book.save(out)
    return {"Оплаты.xlsx": out.getvalue()}, rows


# --------------------------------------------------------------------------------------------------
# The properties
# --------------------------------------------------------------------------------------------------


def test_any_bytes_import_or_are_refused_in_lines(database_url: str, tmp_path: Path) -> None:
    with harness(database_url, tmp_path) as h:

        @FUZZ
        @given(raw_bytes())
        def property_(files: dict[str, bytes]) -> None:
            h.check(files)

        property_()


def test_any_csv_structure_and_values_import_or_are_refused_in_lines(database_url: str, tmp_path: Path) -> None:
    with harness(database_url, tmp_path) as h:

        @FUZZ
        @given(structured_csv())
        def property_(case: tuple[dict[str, bytes], tuple[str, ...]]) -> None:
            files, full = case
            h.check(files, full)

        property_()


def test_plausible_files_with_some_bad_values_import_or_are_refused_in_lines(database_url: str, tmp_path: Path) -> None:
    with harness(database_url, tmp_path) as h:

        @FUZZ
        @given(plausible_csv())
        def property_(case: tuple[dict[str, bytes], tuple[str, ...]]) -> None:
            files, full = case
            h.check(files, full)

        property_()


def test_any_workbook_imports_or_is_refused_in_lines(database_url: str, tmp_path: Path) -> None:
    with harness(database_url, tmp_path) as h:

        @FUZZ
        @given(workbook())
        def property_(files: dict[str, bytes]) -> None:
            h.check(files)

        property_()


def test_any_master_csv_imports_or_is_refused_in_lines(database_url: str, tmp_path: Path) -> None:
    with harness(database_url, tmp_path) as h:

        @FUZZ
        @given(master_csv())
        def property_(files: dict[str, bytes]) -> None:
            h.check(files)

        property_()


def test_well_formed_payment_workbooks_are_stored_exactly_as_written(database_url: str, tmp_path: Path) -> None:
    with harness(database_url, tmp_path) as h:

        @FUZZ
        @given(valid_payment_workbooks())
        def property_(case: tuple[dict[str, bytes], list[tuple[str, int, date, date | None]]]) -> None:
            files, expected = case
            assert h.check(files) is None

            async def stored() -> dict[str, tuple[str, int, date, date | None]]:
                async with h.pool() as session:
                    found = await session.execute(select(Payment).where(Payment.id.in_([e[0] for e in expected])))
                    return {p.id: (p.id, p.amount, p.paid_on, p.period) for p in found.scalars()}

            assert h.runner.run(stored()) == {e[0]: e for e in expected}

        property_()


def test_well_formed_payments_are_stored_exactly_as_written(database_url: str, tmp_path: Path) -> None:
    with harness(database_url, tmp_path) as h:

        @FUZZ
        @given(valid_payments())
        def property_(case: tuple[dict[str, bytes], list[tuple[str, int, date, date | None]]]) -> None:
            files, expected = case
            assert h.check(files) is None

            async def stored() -> dict[str, tuple[str, int, date, date | None]]:
                async with h.pool() as session:
                    found = await session.execute(select(Payment).where(Payment.id.in_([e[0] for e in expected])))
                    return {p.id: (p.id, p.amount, p.paid_on, p.period) for p in found.scalars()}

            assert h.runner.run(stored()) == {e[0]: e for e in expected}

        property_()

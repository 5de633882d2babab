"""A synthetic partner network written as the exports 1C and Asterisk write, from a fixed seed.

Default size: 1,000 managers in 50 teams (plus a supervisor per team and an admin), 100,000
contracts, 24 months of history (about 2.4 million payments), 1,000,000 calls and meetings,
200,000 documents and 500,000 PBX records. ``scale`` multiplies every count.
"""

from __future__ import annotations

import csv
import random
import shutil
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.demo import amount_1c as _amount
from bot.demo import date_1c as _day
from bot.rules import Month

TODAY = date(2024, 6, 18)  # a Tuesday: the benchmark's morning
MONTHS = 24
FIRST = Month.of(TODAY).shift(-(MONTHS - 1))
HISTORY_START = datetime.combine(FIRST.first_day(), datetime.min.time())


@dataclass(frozen=True)
class Size:
    managers: int
    teams: int
    contracts: int
    interactions: int
    documents: int
    pbx: int
    months: int = MONTHS

    @classmethod
    def scaled(cls, scale: float) -> Size:
        return cls(
            managers=max(2, round(1000 * scale)),
            teams=max(1, round(50 * scale)),
            contracts=max(10, round(100_000 * scale)),
            interactions=max(20, round(1_000_000 * scale)),
            documents=max(10, round(200_000 * scale)),
            pbx=max(20, round(500_000 * scale)),
        )

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _moment(m: datetime) -> str:
    return f"{m:%d.%m.%Y %H:%M:%S}"


class _Writer:
    def __init__(self, path: Path, header: list[str] | None, encoding: str = "cp1251", delimiter: str = ";") -> None:
        self.handle = path.open("w", encoding=encoding, newline="")
        quoting = csv.QUOTE_ALL if header is None else csv.QUOTE_MINIMAL
        self.writer = csv.writer(self.handle, delimiter=delimiter, quoting=quoting, lineterminator="\r\n")
        if header is not None:
            self.writer.writerow(header)
        self.rows = 0

    def write(self, row: list[object]) -> None:
        self.writer.writerow(row)
        self.rows += 1

    def close(self) -> int:
        self.handle.close()
        return self.rows


def write_dataset(folder: Path, size: Size, seed: int = 2024) -> dict[str, tuple[Path, int]]:
    """Write the exports; returns ``{entity: (path, rows)}`` in import order."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    files: dict[str, tuple[Path, int]] = {}

    managers = [f"M{i:05d}" for i in range(size.managers)]
    team_of = {m: f"Команда {i % size.teams + 1:02d}" for i, m in enumerate(managers)}
    path = folder / "employees.csv"
    out = _Writer(path, ["Код", "Сотрудник", "Роль", "Отдел", "Внутренний номер", "Telegram", "Активен"])
    for i, manager in enumerate(managers):
        out.write(
            [manager, f"Менеджер {i:05d}", "Менеджер", team_of[manager], str(10000 + i), str(10_000_000 + i), "Да"]
        )
    for t in range(size.teams):
        out.write([f"S{t:04d}", f"Руководитель {t + 1:02d}", "Руководитель", f"Команда {t + 1:02d}", "",
                   str(20_000_000 + t), "Да"])  # fmt: skip
    out.write(["A0001", "Администратор", "Администратор", "", "", "30000000", "Да"])
    files["employees"] = (path, out.close())

    path = folder / "contracts.csv"
    out = _Writer(path, ["Код", "Номер", "Код контрагента", "Контрагент", "Код менеджера", "Дата начала",
                         "Срок (мес.)", "Сумма в месяц", "Наименование", "Дата закрытия"])  # fmt: skip
    contracts: list[tuple[str, int, int]] = []  # (id, fee in kopecks, first month index)
    for c in range(size.contracts):
        fee = rng.choice((1500, 2000, 2500, 2818, 3000, 3000, 3000, 4500, 6000, 12000)) * 100
        start = FIRST.shift(0 if rng.random() < 0.9 else rng.randrange(size.months))
        contracts.append((f"C{c:07d}", fee, start.index))
        out.write([f"C{c:07d}", f"РС-{c:07d}", f"K{c:07d}", f"ООО «Клиент {c}»", managers[c % size.managers],
                   _day(start.first_day()), "", _amount(fee), "Регулярное сопровождение 1С", ""])  # fmt: skip
    files["contracts"] = (path, out.close())

    path = folder / "payments.csv"
    out = _Writer(path, ["Номер", "Код договора", "Дата", "Сумма", "Период"])
    current = Month.of(TODAY)
    n = 0
    for contract_id, fee, first in contracts:
        for index in range(first, current.index + 1):
            month = Month.from_index(index)
            if rng.random() < 0.02 or (month == current and rng.random() < 0.3):
                continue  # a debtor, or not paid yet this month
            paid = month.first_day() + timedelta(days=rng.randrange(0, 17 if month == current else 27))
            out.write([f"P{n:08d}", contract_id, _day(paid), _amount(fee), f"{month.month:02d}.{month.year}"])
            n += 1
    files["payments"] = (path, out.close())

    span = (datetime.combine(TODAY, datetime.min.time()) - HISTORY_START).total_seconds()
    path = folder / "interactions.csv"
    out = _Writer(path, ["Код", "Вид", "Направление", "Код менеджера", "Код контрагента", "Контрагент",
                         "Контактное лицо", "Запланировано", "Выполнено", "Длительность (сек)", "Состояние",
                         "Следующий контакт", "Тема"])  # fmt: skip
    for i in range(size.interactions):
        c = rng.randrange(size.contracts)
        at = HISTORY_START + timedelta(seconds=rng.randrange(int(span)))
        at = at.replace(hour=9 + at.hour % 9)
        status = "Выполнено" if rng.random() < 0.9 else rng.choice(("Запланировано", "Отменено"))
        kind = "Звонок" if rng.random() < 0.85 else "Встреча"
        contact = "" if rng.random() < 0.05 else f"Контакт {c}"
        duration = str(rng.choice((8, 45, 120, 300, 600, 2400)) if kind == "Звонок" else 3600)
        following = _moment(at + timedelta(days=rng.randrange(1, 30))) if rng.random() < 0.7 else ""
        done = _moment(at) if status == "Выполнено" else ""
        planned = "" if status == "Выполнено" else _moment(at)
        out.write([f"I{i:08d}", kind, "Исходящий", managers[c % size.managers], f"K{c:07d}", f"ООО «Клиент {c}»",
                   contact, planned, done, duration if done else "", status, following, "сопровождение"])  # fmt: skip
    files["interactions"] = (path, out.close())

    path = folder / "documents.csv"
    out = _Writer(path, ["Код", "Вид документа", "Номер", "Дата", "Код контрагента", "Контрагент", "Код менеджера",
                         "Сумма", "Оригинал получен", "Дата получения"])  # fmt: skip
    for d in range(size.documents):
        c = rng.randrange(size.contracts)
        day = TODAY - timedelta(days=rng.randrange(size.months * 30))
        back = rng.random() < (0.97 if (TODAY - day).days > 30 else 0.5)
        out.write([f"D{d:08d}", "Акт", f"А-{d}", _day(day), f"K{c:07d}", f"ООО «Клиент {c}»",
                   managers[c % size.managers], _amount(contracts[c][1]), "Да" if back else "Нет",
                   _day(day + timedelta(days=10)) if back else ""])  # fmt: skip
    files["documents"] = (path, out.close())

    path = folder / "Master.csv"
    out = _Writer(path, None, encoding="utf-8", delimiter=",")
    for p in range(size.pbx):
        manager = rng.randrange(size.managers)
        ext = str(10000 + manager)
        number = f"+79{rng.randrange(10**9):09d}"
        start = HISTORY_START + timedelta(seconds=rng.randrange(int(span)))
        incoming = rng.random() < 0.5
        answered = rng.random() < 0.85
        billsec = rng.choice((3, 40, 90, 240, 600, 2000)) if answered else 0
        src, dst = (number, ext) if incoming else (ext, number)
        channel, dstchannel = (f"SIP/trunk-{p:08x}", f"SIP/{ext}-{p:08x}") if incoming else (
            f"SIP/{ext}-{p:08x}", f"SIP/trunk-{p:08x}")  # fmt: skip
        answer = start + timedelta(seconds=5) if answered else None
        end = (answer or start) + timedelta(seconds=billsec or 30)
        out.write(["", src, dst, "from-trunk", f'"" <{src}>', channel, dstchannel, "Dial", "",
                   f"{start:%Y-%m-%d %H:%M:%S}", f"{answer:%Y-%m-%d %H:%M:%S}" if answer else "",
                   f"{end:%Y-%m-%d %H:%M:%S}", str(int((end - start).total_seconds())), str(billsec),
                   "ANSWERED" if answered else rng.choice(("NO ANSWER", "BUSY")), "DOCUMENTATION",
                   f"{1700000000 + p}.{p}", ""])  # fmt: skip
    files["pbx"] = (path, out.close())
    return files


def append_day(
    folder: Path, target: Path, size: Size, rows: dict[str, int], seed: int = 2025
) -> tuple[Path, dict[str, int]]:
    """The next night's export: a copy of ``folder`` in ``target`` where 1C and the PBX appended the
    day after :data:`TODAY` to payments, interactions and ``Master.csv`` (employees, contracts and
    documents byte for byte the same). Returns the folder and the rows appended per entity."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in folder.glob("*.csv"):
        shutil.copyfile(path, target / path.name)
    rng = random.Random(seed)
    day = TODAY + timedelta(days=1)
    month = Month.of(day)
    managers = [f"M{i:05d}" for i in range(size.managers)]
    appended: dict[str, int] = {}

    def reopen(name: str, encoding: str = "cp1251", delimiter: str = ";", quoting: int = csv.QUOTE_MINIMAL) -> Any:
        handle = (target / name).open("a", encoding=encoding, newline="")
        return handle, csv.writer(handle, delimiter=delimiter, quoting=quoting, lineterminator="\r\n")

    handle, out = reopen("payments.csv")
    count = 0
    for c in range(size.contracts):
        if rng.random() < 1 / 30:
            fee = rng.choice((1500, 2000, 3000, 4500)) * 100
            out.writerow([f"P{rows['payments'] + count:08d}", f"C{c:07d}", _day(day), _amount(fee),
                          f"{month.month:02d}.{month.year}"])  # fmt: skip
            count += 1
    handle.close()
    appended["payments"] = count

    handle, out = reopen("interactions.csv")
    count = max(1, size.interactions // (size.months * 30))
    for i in range(count):
        c = rng.randrange(size.contracts)
        at = datetime.combine(day, datetime.min.time()) + timedelta(
            hours=9 + rng.randrange(9), minutes=rng.randrange(60)
        )
        out.writerow([f"I{size.interactions + i:08d}", "Звонок", "Исходящий", managers[c % size.managers],
                      f"K{c:07d}", f"ООО «Клиент {c}»", f"Контакт {c}", "", _moment(at), "120", "Выполнено", "",
                      "сопровождение"])  # fmt: skip
    handle.close()
    appended["interactions"] = count

    handle, out = reopen("Master.csv", encoding="utf-8", delimiter=",", quoting=csv.QUOTE_ALL)
    count = max(1, size.pbx // (size.months * 30))
    for p in range(count):
        ext = str(10000 + rng.randrange(size.managers))
        number = f"+79{rng.randrange(10**9):09d}"
        start = datetime.combine(day, datetime.min.time()) + timedelta(hours=9, seconds=rng.randrange(9 * 3600))
        end = start + timedelta(seconds=95)
        out.writerow(["", ext, number, "from-internal", f'"" <{ext}>', f"SIP/{ext}-n{p:07x}", f"SIP/trunk-n{p:07x}",
                      "Dial", "", f"{start:%Y-%m-%d %H:%M:%S}", f"{start + timedelta(seconds=5):%Y-%m-%d %H:%M:%S}",
                      f"{end:%Y-%m-%d %H:%M:%S}", "95", "90", "ANSWERED", "DOCUMENTATION",
                      f"{1800000000 + p}.{p}", ""])  # fmt: skip
    handle.close()
    appended["pbx"] = count
    return target, appended


def rewrite_export(folder: Path, target: Path) -> Path:
    """A copy of the export in ``folder`` whose every file's bytes differ while its rows do not:
    the 1C files as 1C writes them with "quote every value" on (each cell in double quotes), and
    ``Master.csv`` with LF line ends instead of CR LF (a copy that went through a Unix tool). A
    re-import of it must read every row, find every row unchanged and write nothing."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in sorted(folder.glob("*.csv")):
        pbx = path.name == "Master.csv"
        encoding, delimiter = ("utf-8", ",") if pbx else ("cp1251", ";")
        with (
            path.open(encoding=encoding, newline="") as source,
            (target / path.name).open("w", encoding=encoding, newline="") as copy,
        ):
            out = csv.writer(copy, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\n" if pbx else "\r\n")
            out.writerows(csv.reader(source, delimiter=delimiter))
    return target

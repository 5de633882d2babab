"""The demo data: a support department of a 1C partner on Monday, 25 February 2019.

Written as the exports 1C would write (cp1251, ``;``, Russian headers, ``263 492,00`` amounts,
``01.02.2019 0:00:00`` dates) and imported through the real importer, so ``kpibot demo`` exercises
the same path as production. "Аракелян Наринэ" reproduces the source report: base 263 492 ₽,
paid 238 539 ₽ in February 2019 → 90,53 % → KPI 0,2.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from bot.rules import Month

DEMO_TODAY = date(2019, 2, 25)
DEMO_IMPORTED_AT_UTC = datetime(2019, 2, 25, 4, 30)  # 07:30 in Moscow
FIRST_MONTH = Month(2018, 9)
FEBRUARY = Month(2019, 2)

EMPLOYEES = [
    ("000000001", "Аракелян Наринэ", "manager", "Сопровождение", "101"),
    ("000000002", "Иванов Пётр", "manager", "Сопровождение", "102"),
    ("000000003", "Смирнова Ольга", "manager", "Сопровождение", "103"),
    ("000000010", "Кузнецова Марина Сергеевна", "supervisor", "Сопровождение", "110"),
    ("000000099", "Соколов Андрей", "admin", "", ""),
]

CLIENT_STEMS = [
    "Ромашка", "Вектор", "Альфа-Строй", "Техносервис", "Северный ветер", "Гарант", "Меридиан",
    "Домострой", "Лесторг", "Агрокомплекс", "Сибирь-Логистик", "Фарм-Центр", "Уют", "Стройматериалы",
    "Автодом", "Мир окон", "Кондитер", "Электромонтаж", "Рассвет", "Оптима", "Бизнес-Консалт",
    "Транзит", "Пекарня №1", "Белый медведь", "Кедр", "Радуга", "Профиль", "Инвест-Групп", "Фортуна",
    "Полимер", "Теплосеть", "Зелёный сад", "Океан", "Светлый путь", "Монолит", "Старт", "Эталон",
    "Гефест", "Аврора", "Прогресс",
]  # fmt: skip
FORMS = ["ООО", "ИП", "АО", "ООО", "ООО"]


@dataclass
class DemoContract:
    id: str
    client_id: str
    client: str
    manager_id: str
    fee: int  # roubles
    start: date = date(2018, 9, 1)  # FIRST_MONTH
    payments: list[tuple[date, int, str]] = field(default_factory=list)  # (date, kopecks, period)


def _monthly(contract: DemoContract, months: list[Month], day: int = 5) -> None:
    for month in months:
        contract.payments.append((date(month.year, month.month, day), contract.fee * 100, ""))


def _history(before: Month = FEBRUARY) -> list[Month]:
    return [Month.from_index(i) for i in range(FIRST_MONTH.index, before.index)]


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.count = 0

    def next(self) -> tuple[str, str]:
        self.count += 1
        while True:
            stem = self.rng.choice(CLIENT_STEMS)
            name = f"{self.rng.choice(FORMS)} «{stem}»"
            if name not in self.used:
                break
            name = f"{name} {self.count}"
            if name not in self.used:
                break
        self.used.add(name)
        return f"К-{self.count:05d}", name


def _arakelyan(names: _Names, rng: random.Random) -> list[DemoContract]:
    """February 2019: base 263 492 ₽, paid 238 539 ₽ (unpaid 24 953 ₽ = 3 000 + 2 500 + 12 000 + 7 453)."""
    manager = "000000001"
    contracts: list[DemoContract] = []

    def new(fee: int) -> DemoContract:
        client_id, client = names.next()
        contract = DemoContract(f"Д-{len(contracts) + 1:04d}", client_id, client, manager, fee)
        contracts.append(contract)
        return contract

    history = _history()
    awaiting_debtor = new(3000)  # January unpaid (debt), February awaiting
    _monthly(awaiting_debtor, history[:-1])
    awaiting = new(2500)  # February awaiting
    _monthly(awaiting, history)
    old_debtor = new(12000)  # December and January unpaid, February awaiting
    _monthly(old_debtor, history[:-2])
    partial = new(15000)  # February paid in part: 7 547 of 15 000
    _monthly(partial, history)
    partial.payments.append((date(2019, 2, 14), 754700, ""))
    prepaid = new(2200)  # December to February prepaid on 10 December
    _monthly(prepaid, history[:-2])
    prepaid.payments.append((date(2018, 12, 10), 3 * 2200 * 100, ""))
    named_period = new(1800)  # January unpaid, February paid naming its period
    _monthly(named_period, history[:-1])
    named_period.payments.append((date(2019, 2, 8), 180000, "02.2019"))
    yearly = new(4500)  # the whole of 2019 prepaid in January
    _monthly(yearly, history[:-1])
    yearly.payments.append((date(2019, 1, 15), 12 * 4500 * 100, ""))

    special = sum(c.fee for c in contracts)
    small = [rng.randrange(1500, 3001, 100) for _ in range(25)]
    large_budget = 263492 - special - sum(small)
    large = [rng.randrange(8000, 30001, 500) for _ in range(7)]
    large.append(large_budget - sum(large))
    if large[-1] <= 0:  # pragma: no cover - the seed is fixed
        raise RuntimeError("demo fees do not add up")
    for fee in small + large:
        contract = new(fee)
        _monthly(contract, history)
        contract.payments.append((date(2019, 2, rng.randrange(1, 23)), fee * 100, ""))
    return contracts


def _manager(manager: str, count: int, unpaid_share: float, names: _Names, rng: random.Random) -> list[DemoContract]:
    contracts: list[DemoContract] = []
    for index in range(count):
        client_id, client = names.next()
        fee = rng.randrange(1500, 3001, 100) if rng.random() < 0.8 else rng.randrange(5000, 20001, 500)
        contract = DemoContract(f"Д-{manager[-1]}{index + 1:03d}", client_id, client, manager, fee)
        contracts.append(contract)
    base = sum(c.fee for c in contracts)
    order = contracts[:]
    rng.shuffle(order)
    unpaid: set[str] = set()
    unpaid_sum = 0
    for contract in order:
        if unpaid_sum >= unpaid_share * base:
            break
        unpaid.add(contract.id)
        unpaid_sum += contract.fee
    history = _history()
    for number, contract in enumerate(contracts):
        if contract.id in unpaid and number % 3 == 0:
            _monthly(contract, history[:-1])  # a debtor since January
        else:
            _monthly(contract, history)
        if contract.id not in unpaid:
            contract.payments.append((date(2019, 2, rng.randrange(1, 23)), contract.fee * 100, ""))
    return contracts


def demo_contracts(seed: int = 2019) -> list[DemoContract]:
    rng = random.Random(seed)
    names = _Names(rng)
    contracts = _arakelyan(names, rng)
    contracts += _manager("000000002", 32, 0.20, names, rng)
    contracts += _manager("000000003", 30, 0.32, names, rng)
    hostile = contracts[-1]  # a client name that would break HTML if it were not escaped
    hostile.client = "ООО «Рога & Копыта» <b>"
    return contracts


def _amount(kopecks: int) -> str:
    """As 1C writes it: ``263 492,00`` with a no-break space."""
    roubles, kop = divmod(kopecks, 100)
    return f"{roubles:,}".replace(",", "\u00a0") + f",{kop:02d}"


def _date_1c(day: date) -> str:
    return f"{day:%d.%m.%Y} 0:00:00"


def reset_database(db_path: Path) -> None:
    """Remove a previous demo database (and its WAL files)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def write_exports(folder: Path, seed: int = 2019) -> list[Path]:
    """Write the demo exports as 1C would and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    contracts = demo_contracts(seed)

    def write(name: str, header: list[str], rows: list[list[str]]) -> Path:
        path = folder / name
        with path.open("w", encoding="cp1251", newline="") as handle:
            writer = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(rows)
        return path

    employees = write(
        "employees.csv",
        ["Код", "Сотрудник", "Роль", "Отдел", "Внутренний номер", "Активен"],
        [[i, n, {"manager": "Менеджер", "supervisor": "Руководитель", "admin": "Администратор"}[r], t, e, "Да"]
         for i, n, r, t, e in EMPLOYEES],
    )  # fmt: skip
    contract_file = write(
        "contracts.csv",
        ["Код", "Номер", "Код контрагента", "Контрагент", "Код менеджера", "Дата начала", "Срок (мес.)",
         "Сумма в месяц", "Наименование", "Дата закрытия"],
        [[c.id, f"РС-{c.id[2:]}", c.client_id, c.client, c.manager_id, _date_1c(c.start), "",
          _amount(c.fee * 100), "Регулярное сопровождение 1С", ""] for c in contracts],
    )  # fmt: skip
    payment_rows: list[list[str]] = []
    for contract in contracts:
        for number, (day, kopecks, period) in enumerate(sorted(contract.payments), start=1):
            payment_rows.append(
                [f"ПП-{contract.id[2:]}-{number:03d}", contract.id, _date_1c(day), _amount(kopecks), period]
            )
    payments = write("payments.csv", ["Номер", "Код договора", "Дата", "Сумма", "Период"], payment_rows)
    return [employees, contract_file, payments]

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


def amount_1c(kopecks: int) -> str:
    """As 1C writes it: ``263 492,00`` with a no-break space."""
    roubles, kop = divmod(kopecks, 100)
    return f"{roubles:,}".replace(",", "\u00a0") + f",{kop:02d}"


def date_1c(day: date) -> str:
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
        [[c.id, f"РС-{c.id[2:]}", c.client_id, c.client, c.manager_id, date_1c(c.start), "",
          amount_1c(c.fee * 100), "Регулярное сопровождение 1С", ""] for c in contracts],
    )  # fmt: skip
    payment_rows: list[list[str]] = []
    for contract in contracts:
        for number, (day, kopecks, period) in enumerate(sorted(contract.payments), start=1):
            payment_rows.append(
                [f"ПП-{contract.id[2:]}-{number:03d}", contract.id, date_1c(day), amount_1c(kopecks), period]
            )
    payments = write("payments.csv", ["Номер", "Код договора", "Дата", "Сумма", "Период"], payment_rows)
    clients = {m: [(c.client_id, c.client) for c in contracts if c.manager_id == m][:4] for m, *_ in EMPLOYEES}
    interactions = write(
        "interactions.csv",
        ["Код", "Вид", "Направление", "Код менеджера", "Код контрагента", "Контрагент", "Контактное лицо",
         "Запланировано", "Выполнено", "Длительность (сек)", "Состояние", "Следующий контакт", "Тема"],
        _interactions(clients),
    )  # fmt: skip
    documents = write(
        "documents.csv",
        ["Код", "Вид документа", "Номер", "Дата", "Код контрагента", "Контрагент", "Код менеджера", "Сумма",
         "Оригинал получен", "Дата получения"],
        _documents(clients),
    )  # fmt: skip
    master = folder / "Master.csv"
    with master.open("w", encoding="utf-8", newline="") as handle:  # Asterisk cdr_csv: no header, all quoted
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(_pbx())
    return [employees, contract_file, payments, interactions, documents, master]


# The demo's discipline day: Friday 22.02.2019, reported in Monday's digest (23–24.02 are days off).
_FRIDAY = "22.02.2019"


def _interactions(clients: dict[str, list[tuple[str, str]]]) -> list[list[str]]:
    """Аракелян works cleanly, except for one missed call the PBX shows (below); Иванов leaves a call
    undone, types an 8-second call and forgets a contact; Смирнова meets without a contact and plans
    nothing after a call."""
    a, i, s = clients["000000001"], clients["000000002"], clients["000000003"]
    done, planned = "Выполнено", "Запланировано"
    return [
        ["В-001", "Звонок", "Исходящий", "000000001", *a[0], "Петрова Анна", "", f"{_FRIDAY} 10:05", "420", done,
         "01.03.2019 10:00", "продление ИТС"],
        ["В-002", "Встреча", "", "000000001", *a[1], "Ким Олег", "", f"{_FRIDAY} 14:00", "3600", done,
         "28.02.2019 11:00", "обучение ЗУП"],
        ["В-003", "Звонок", "Исходящий", "000000002", *i[0], "Орлов Д.", f"{_FRIDAY} 11:00", "", "", planned, "",
         "счёт за март"],
        ["В-004", "Звонок", "Исходящий", "000000002", *i[1], "Белова Н.", "", f"{_FRIDAY} 12:10", "8", done,
         "26.02.2019 12:00", "напоминание об оплате"],
        ["В-005", "Звонок", "Входящий", "000000002", *i[2], "", "", f"{_FRIDAY} 15:30", "240", done,
         "27.02.2019 10:00", "вопрос по отчётности"],
        ["В-006", "Встреча", "", "000000003", *s[0], "", "", f"{_FRIDAY} 10:00", "5400", done, "04.03.2019 10:00",
         "внедрение"],
        ["В-007", "Звонок", "Исходящий", "000000003", *s[1], "Зайцев П.", "", f"{_FRIDAY} 16:20", "180", done, "",
         "долг за январь"],
    ]  # fmt: skip


def _documents(clients: dict[str, list[tuple[str, str]]]) -> list[list[str]]:
    a, i, s = clients["000000001"], clients["000000002"], clients["000000003"]
    return [
        ["Д-001", "Акт", "А-0128", "28.01.2019 0:00:00", *a[2], "000000001", amount_1c(300000), "Нет", ""],
        ["Д-002", "Акт", "А-0131", "31.01.2019 0:00:00", *a[3], "000000001", amount_1c(290000), "Да", "08.02.2019"],
        ["Д-003", "Акт", "А-0115", "15.01.2019 0:00:00", *i[3], "000000002", amount_1c(450000), "Нет", ""],
        ["Д-004", "Счёт-фактура", "СФ-0218", "18.02.2019 0:00:00", *i[0], "000000002", amount_1c(300000), "Нет", ""],
        ["Д-005", "Акт", "А-0222", "22.02.2019 0:00:00", *s[2], "000000003", amount_1c(280000), "Нет", ""],
    ]  # fmt: skip


def _pbx() -> list[list[str]]:
    """Extension 101 (Аракелян) on Friday, in the 18-field shape: a call answered for 2 minutes, a
    missed call from +7 916 111-22-33 at 14:40 never returned, an outgoing call of 5 minutes."""

    def record(n: int, src: str, dst: str, start: str, answer: str, end: str, billsec: int, status: str) -> list[str]:
        duration = 30 if not answer else billsec + 5
        channel, dstchannel = (f"SIP/{src}-{n:08x}", f"SIP/trunk-{n:08x}") if src == "101" else (
            f"SIP/trunk-{n:08x}", f"SIP/{dst}-{n:08x}")  # fmt: skip
        return ["", src, dst, "from-trunk", f'"" <{src}>', channel, dstchannel, "Dial", "", start, answer, end,
                str(duration), str(billsec), status, "DOCUMENTATION", f"1550822400.{n}", ""]  # fmt: skip

    return [
        record(1, "+79031234567", "101", "2019-02-22 09:40:00", "2019-02-22 09:40:04", "2019-02-22 09:42:09", 125,
               "ANSWERED"),
        record(2, "+79161112233", "101", "2019-02-22 14:40:00", "", "2019-02-22 14:40:30", 0, "NO ANSWER"),
        record(3, "101", "84957654321", "2019-02-22 16:00:00", "2019-02-22 16:00:08", "2019-02-22 16:05:08", 300,
               "ANSWERED"),
    ]  # fmt: skip

"""Writing export files in the shapes 1C and Asterisk write, for tests."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

EMPLOYEES_HEADER = ["id", "name", "role", "team", "phone_ext", "telegram_id", "active"]
CONTRACTS_HEADER = ["id", "number", "client_id", "client", "manager_id", "start", "months", "monthly_fee", "title",
                    "closed_on"]  # fmt: skip
PAYMENTS_HEADER = ["id", "contract_id", "date", "amount", "period"]
INTERACTIONS_HEADER = ["id", "type", "direction", "manager_id", "client_id", "client", "contact", "planned_at",
                       "done_at", "duration_s", "status", "next_at", "subject"]  # fmt: skip
DOCUMENTS_HEADER = ["id", "type", "number", "date", "client_id", "client", "manager_id", "amount",
                    "original_received", "received_on"]  # fmt: skip


def write_csv(
    path: Path,
    header: Sequence[str] | None,
    rows: Sequence[Sequence[object]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ";",
    quoting: int = csv.QUOTE_MINIMAL,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, quoting=quoting, lineterminator="\r\n")
        if header is not None:
            writer.writerow(header)
        writer.writerows([["" if c is None else c for c in row] for row in rows])
    return path


def small_exports(folder: Path) -> Path:
    """Two managers in two teams, a supervisor, an admin, three contracts and a few payments."""
    write_csv(folder / "employees.csv", EMPLOYEES_HEADER, [
        ["m1", "Аракелян Наринэ", "manager", "A", "101", "", "1"],
        ["m2", "Петров Пётр", "manager", "B", "102", "", "1"],
        ["s1", "Кузнецова Марина", "supervisor", "A", "110", "", "1"],
        ["a1", "Соколов Андрей", "admin", "", "", "", "1"],
    ])  # fmt: skip
    write_csv(folder / "contracts.csv", CONTRACTS_HEADER, [
        ["c1", "РС-1", "k1", "ООО «Ромашка»", "m1", "01.01.2019", "", "2 818,50", "ИТС", ""],
        ["c2", "РС-2", "k2", "ИП Смирнов", "m1", "2019-01-01", "12", "3000", "ИТС", ""],
        ["c3", "РС-3", "k3", "АО «Вектор»", "m2", "01.01.2019", "", "1500.00", "ИТС", ""],
    ])  # fmt: skip
    write_csv(folder / "payments.csv", PAYMENTS_HEADER, [
        ["p1", "c1", "05.01.2019", "2 818,50", ""],
        ["p2", "c2", "05.02.2019", "3 000,00", "2019-02"],
        ["p3", "c3", "10.01.2019", "1500", "01.2019"],
    ])  # fmt: skip
    return folder

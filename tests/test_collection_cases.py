"""The collection cases of ../shared/cases/numbers/ (debt, fee-change, renewal-same-month, replay),
each imported as it is shaped and read back through the digest, /debtors and ``kpibot digest``.

The inputs are copied into the test (the cases folder is outside the repository); each test names
the case and its expected value from ``expected.md``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import texts
from bot.keyboards import ScopeView, View
from bot.settings import Settings
from db import queries
from db.importer import import_paths
from db.session import SessionPool
from handlers.screens import contract_screen, debtors_screen
from jobs.digests import build_digest, morning
from tests.test_cli import kpibot

MSK = ZoneInfo("Europe/Moscow")
CONTRACTS = "id;number;client_id;client;manager_id;start;months;monthly_fee;title;closed_on"
EMPLOYEES = "id;name;role;team;phone_ext;telegram_id;active"
PAYMENTS = "id;contract_id;date;amount;period"


def write(folder: Path, name: str, header: str, *lines: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return folder


def employees(folder: Path, *managers: str) -> None:
    write(folder, "employees.csv", EMPLOYEES, "1;Белов Игорь;admin;;100;;1",
          *(f"{m};Менеджер{m} Тест;manager;Север;1{m};;1" for m in managers))  # fmt: skip


async def digest_text(pool: SessionPool, settings: Settings, employee_id: str, day: date) -> str:
    async with pool() as session:
        employee = await queries.get_employee(session, employee_id)
        assert employee is not None
        context = await morning(session, day, settings)
        return texts.html_to_plain((await build_digest(session, employee, day, settings, context)).text)


# --- debt/: a debtor is a client -------------------------------------------------------------------------


def debt_case(folder: Path) -> Path:
    employees(folder, "31")
    write(folder, "contracts.csv", CONTRACTS,
          "K1;Д-1;c1;ООО «Альфа»;31;01.09.2026;12;10000,00;Сопровождение;",
          "K2;Д-2;c1;ООО «Альфа»;31;01.09.2026;12;5000,00;Аренда;")  # fmt: skip
    return write(
        folder, "payments.csv", PAYMENTS, "1;K1;05.09.2026;10000,00;2026-09", "2;K2;05.09.2026;5000,00;2026-09"
    )


async def test_debt_case_one_client_with_two_unpaid_contracts_is_one_debtor(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    await import_paths(pool, [debt_case(tmp_path / "debt")], zone=MSK, now=datetime(2026, 11, 28, 6))
    text = await digest_text(pool, settings, "31", date(2026, 11, 29))
    assert "Долг: 15 000 ₽, 1 должник" in text
    assert "Это закроет: ООО «Альфа» (15 000 ₽)." in text  # the client once, with the sum of its fees
    async with pool() as session:
        manager = await queries.get_employee(session, "31")
        assert manager is not None
        screen = await debtors_screen(session, [manager], "Ваши должники", 0, date(2026, 11, 29), settings,
                                      {"view": View.DEBTORS}, ScopeView)  # fmt: skip
    shown = texts.html_to_plain(screen.text)
    assert "Долг — 15 000 ₽, 1 должник:" in shown
    assert shown.count("ООО «Альфа» — 15 000 ₽, с октября 2026") == 1  # the debt: October of both contracts
    assert "· Д-1 — 10 000 ₽" in shown and "· Д-2 — 5 000 ₽" in shown  # its contracts inside
    assert screen.markup is not None
    buttons = [b.text for row in screen.markup.inline_keyboard for b in row]
    assert buttons[:2] == ["1·Д-1", "1·Д-2"]


def test_debtors_plural_forms_come_from_cldr() -> None:
    assert [texts.debtors_count(n) for n in (1, 2, 5, 11, 21, 22, 25, 111)] == [
        "1 должник", "2 должника", "5 должников", "11 должников", "21 должник", "22 должника", "25 должников",
        "111 должников",
    ]  # fmt: skip


@pytest.mark.slow
def test_debt_case_through_kpibot_digest(tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    imported = kpibot("import", str(debt_case(tmp_path / "debt")), cwd=tmp_path, env=env)
    assert imported.returncode == 0, imported.stderr
    digest = kpibot("digest", "--date", "2026-11-29", "--employee", "31", cwd=tmp_path, env=env)
    assert digest.returncode == 0, digest.stderr
    assert "Долг: 15 000 ₽, 1 должник" in digest.stdout


# --- fee-change/: a new fee applies from the month it arrives in ------------------------------------------


def fee_change_case(folder: Path, fee: str, with_payments: bool) -> Path:
    employees(folder, "36")
    write(folder, "contracts.csv", CONTRACTS, f"E1;Д-E1;cE1;ООО «Клиент E1»;36;01.06.2026;12;{fee};Сопровождение;")
    if with_payments:
        write(folder, "payments.csv", PAYMENTS,
              *(f"{11 + m};E1;05.{m:02d}.2026;10000,00;2026-{m:02d}" for m in range(6, 12)))  # fmt: skip
    return folder


async def test_fee_change_case_keeps_the_finished_months(pool: SessionPool, settings: Settings, tmp_path: Path) -> None:
    await import_paths(pool, [fee_change_case(tmp_path / "import0", "10000,00", True)], zone=MSK,
                       now=datetime(2026, 11, 20, 6))  # fmt: skip
    before = await digest_text(pool, settings, "36", date(2026, 11, 29))
    assert "Сбор за ноябрь 2026: 100,00 % — KPI 0,2" in before
    changed = fee_change_case(tmp_path / "import1", "12000,00", False) / "contracts.csv"  # the same id, 12 000
    await import_paths(pool, [changed], zone=MSK, now=datetime(2026, 11, 28, 6))
    after = await digest_text(pool, settings, "36", date(2026, 11, 29))
    assert "Сбор за ноябрь 2026: 83,33 % — KPI 0,1" in after
    assert "ждём 2 000 ₽" in after
    assert "Долгов нет." in after  # debt 0 ₽: June–October keep their 10 000 ₽
    async with pool() as session:
        october = await queries.collection_of(session, "36", queries.Month(2026, 10), date(2026, 11, 29),
                                              settings.kpi_tiers)  # fmt: skip
        history = await queries.terms_history(session, ["E1"])
    assert (october.collection.base, october.collection.paid, october.collection.debt) == (1000000, 1000000, 0)
    assert [(str(m), fee) for m, fee, _ in history["E1"]] == [("2026-06", 1000000), ("2026-11", 1200000)]
    async with pool() as session:  # the contract card bills each month at its own fee too
        info, manager = await queries.get_contract(session, "E1"), await queries.get_employee(session, "36")
        assert info is not None and manager is not None
        card = texts.html_to_plain((await contract_screen(session, info, manager, date(2026, 11, 29))).text)
    assert "октябрь 2026: 10 000 ₽ / 10 000 ₽ ✅" in card and "ноябрь 2026: 12 000 ₽ / 10 000 ₽ ⏳" in card
    assert "Абонентская плата: 12 000 ₽/мес" in card and "Долга нет." in card


async def test_a_fee_change_imported_in_december_leaves_november_alone(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    await import_paths(pool, [fee_change_case(tmp_path / "import0", "10000,00", True)], zone=MSK,
                       now=datetime(2026, 11, 20, 6))  # fmt: skip
    changed = fee_change_case(tmp_path / "import1", "12000,00", False) / "contracts.csv"
    await import_paths(pool, [changed], zone=MSK, now=datetime(2026, 11, 30, 21, 30))  # 1 December in Moscow
    assert "Сбор за ноябрь 2026: 100,00 % — KPI 0,2" in await digest_text(pool, settings, "36", date(2026, 11, 29))
    december = await digest_text(pool, settings, "36", date(2026, 12, 1))
    assert "База 12 000 ₽ · оплачено 0 ₽ · ждём 12 000 ₽" in december and "Долгов нет." in december


async def test_an_effective_date_column_sets_the_month_of_the_change(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    await import_paths(pool, [fee_change_case(tmp_path / "import0", "10000,00", True)], zone=MSK,
                       now=datetime(2026, 11, 20, 6))  # fmt: skip
    folder = tmp_path / "import1"
    write(folder, "contracts.csv", CONTRACTS + ";Действует с",
          "E1;Д-E1;cE1;ООО «Клиент E1»;36;01.06.2026;12;12000,00;Сопровождение;;15.10.2026")  # fmt: skip
    await import_paths(pool, [folder / "contracts.csv"], zone=MSK, now=datetime(2026, 11, 28, 6))
    text = await digest_text(pool, settings, "36", date(2026, 11, 29))
    assert "Долг: 2 000 ₽, 1 должник" in text  # October at 12 000 ₽, paid 10 000 ₽
    async with pool() as session:
        history = await queries.terms_history(session, ["E1"])
    assert [str(m) for m, _, _ in history["E1"]] == ["2026-06", "2026-10"]


async def test_a_new_manager_takes_the_contract_from_the_month_of_the_change(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    folder = fee_change_case(tmp_path / "import0", "10000,00", True)
    employees(folder, "36", "37")
    await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 11, 20, 6))
    moved = tmp_path / "import1"
    write(moved, "contracts.csv", CONTRACTS, "E1;Д-E1;cE1;ООО «Клиент E1»;37;01.06.2026;12;10000,00;Сопровождение;")
    await import_paths(pool, [moved], zone=MSK, now=datetime(2026, 11, 28, 6))
    async with pool() as session:
        october = await queries.collections(session, ["36", "37"], queries.Month(2026, 10), date(2026, 11, 29),
                                            settings.kpi_tiers)  # fmt: skip
        november = await queries.collections(session, ["36", "37"], queries.Month(2026, 11), date(2026, 11, 29),
                                             settings.kpi_tiers)  # fmt: skip
    assert (october["36"].collection.base, october["37"].collection.base) == (1000000, 0)
    assert (november["36"].collection.base, november["37"].collection.base) == (0, 1000000)
    assert november["37"].collection.paid == 1000000


# --- renewal-same-month/: a month billed once -------------------------------------------------------------


def renewal_case(folder: Path, closed_on: str = "15.11.2026", start: str = "16.11.2026") -> Path:
    employees(folder, "35")
    write(folder, "contracts.csv", CONTRACTS,
          f"D1;Д-D1;cD;ООО «Клиент D1»;35;01.06.2026;12;10000,00;Сопровождение;{closed_on}",
          f"D2;Д-D2;cD;ООО «Клиент D2»;35;{start};12;12000,00;Сопровождение;")  # fmt: skip
    return write(folder, "payments.csv", PAYMENTS,
                 *(f"{m};D1;05.{m:02d}.2026;10000,00;2026-{m:02d}" for m in range(6, 11)),
                 f"11;D2;{start};12000,00;")  # fmt: skip


@pytest.mark.parametrize("closed_on", ["15.11.2026", "16.11.2026"])
async def test_renewal_case_bills_the_month_once(
    pool: SessionPool, settings: Settings, tmp_path: Path, closed_on: str
) -> None:
    await import_paths(pool, [renewal_case(tmp_path / "renewal", closed_on)], zone=MSK, now=datetime(2026, 11, 28, 6))
    text = await digest_text(pool, settings, "35", date(2026, 11, 29))
    assert "Сбор за ноябрь 2026: 100,00 % — KPI 0,2" in text
    assert "База 12 000 ₽ · оплачено 12 000 ₽\n" in text  # nothing awaited
    assert "Долгов нет." in text


async def test_a_contract_closed_at_the_month_end_is_no_renewal(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    folder = renewal_case(tmp_path / "renewal", "31.10.2026", "01.11.2026")
    await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 11, 28, 6))
    async with pool() as session:
        october = await queries.collection_of(session, "35", queries.Month(2026, 10), date(2026, 11, 29),
                                              settings.kpi_tiers)  # fmt: skip
    assert (october.collection.base, october.collection.paid) == (1000000, 1000000)  # D1 billed its October


# --- replay/: a past morning sees what it saw ---------------------------------------------------------------


async def test_replay_case_counts_no_money_and_no_import_from_after_the_day(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "replay"
    employees(folder, "31")
    write(folder, "contracts.csv", CONTRACTS, "K1;Д-1;c1;ООО «Альфа»;31;01.11.2026;12;10000,00;Сопровождение;")
    await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 11, 27, 15))  # Friday 18:00 in Moscow
    later = tmp_path / "later"
    write(later, "payments.csv", PAYMENTS, "1;K1;01.12.2026;10000,00;2026-11")
    await import_paths(pool, [later], zone=MSK, now=datetime(2026, 12, 2, 6))
    replay = await digest_text(pool, settings, "31", date(2026, 11, 30))
    assert "Сбор за ноябрь 2026: 0,00 % — KPI 0" in replay  # the 1 December payment is not known on 30.11
    assert "ждём 10 000 ₽" in replay
    assert "данные 1С на 27.11 18:00" in replay and "не обновлялись" not in replay
    today = await digest_text(pool, settings, "31", date(2026, 12, 2))
    assert "данные 1С на 02.12 09:00" in today and "Долгов нет." in today


async def test_a_replay_of_a_day_before_the_first_import_does_not_call_its_figures_empty(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    """`kpibot digest --date D` for a day before the first import shows the figures of the payments
    dated up to D (imported later): the warning must not say the figures below are empty."""
    folder = tmp_path / "late"
    employees(folder, "31")
    write(folder, "contracts.csv", CONTRACTS, "K1;Д-1;c1;ООО «Альфа»;31;01.11.2026;12;10000,00;Сопровождение;")
    write(folder, "payments.csv", PAYMENTS, "1;K1;05.11.2026;10000,00;2026-11")
    await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 12, 2, 6))  # after the replayed day
    replay = await digest_text(pool, settings, "31", date(2026, 11, 30))
    assert "Сбор за ноябрь 2026: 100,00 %" in replay
    assert "цифры ниже пустые" not in replay
    assert texts.stale_warning(None, imported_later=True) in replay


def test_a_client_with_many_contracts_lists_five_inside_and_counts_the_rest() -> None:
    line = texts.debtor_line(1, "ООО «А»", 700000, None, 0, [(f"Д-{i}", 100000) for i in range(7)])
    assert line.count("\n    · Д-") == texts.CONTRACTS_INSIDE == 5
    assert line.endswith("\n    · и ещё 2 договора")


async def test_two_changes_in_one_month_keep_the_later_and_a_removed_contract_loses_its_history(
    pool: SessionPool, tmp_path: Path
) -> None:
    folder = fee_change_case(tmp_path / "import0", "10000,00", True)
    write(folder, "contracts.csv", CONTRACTS, "E1;Д-E1;cE1;ООО «Клиент E1»;36;01.06.2026;12;10000,00;Сопровождение;",
          "E2;Д-E2;cE2;ООО «Клиент E2»;36;01.10.2026;;5000,00;Аренда;")  # fmt: skip
    await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 11, 20, 6))
    for day, fee in ((28, "12000,00"), (29, "13000,00")):
        changed = write(tmp_path / f"change-{day}", "contracts.csv", CONTRACTS,
                        f"E1;Д-E1;cE1;ООО «Клиент E1»;36;01.06.2026;12;{fee};Сопровождение;")  # fmt: skip
        await import_paths(pool, [changed], zone=MSK, now=datetime(2026, 11, day, 6))
    async with pool() as session:
        history = await queries.terms_history(session, ["E1", "E2"])
    assert [(str(m), fee) for m, fee, _ in history["E1"]] == [("2026-06", 1000000), ("2026-11", 1300000)]
    assert [(str(m), fee) for m, fee, _ in history["E2"]] == [("2026-10", 500000)]
    await import_paths(pool, [changed], zone=MSK, now=datetime(2026, 11, 30, 6), full=["contracts"])  # E2 removed
    async with pool() as session:
        assert set(await queries.terms_history(session, ["E1", "E2"])) == {"E1"}


async def test_a_renewal_counts_even_when_the_successor_has_another_manager(
    pool: SessionPool, settings: Settings, tmp_path: Path
) -> None:
    folder = renewal_case(tmp_path / "renewal")
    employees(folder, "35", "36")
    write(folder, "contracts.csv", CONTRACTS,
          "D1;Д-D1;cD;ООО «Клиент D1»;35;01.06.2026;12;10000,00;Сопровождение;15.11.2026",
          "D2;Д-D2;cD;ООО «Клиент D2»;36;16.11.2026;12;12000,00;Сопровождение;")  # fmt: skip
    await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 11, 28, 6))
    async with pool() as session:
        november = await queries.collections(session, ["35", "36"], queries.Month(2026, 11), date(2026, 11, 29),
                                             settings.kpi_tiers)  # fmt: skip
    assert (november["35"].collection.base, november["36"].collection.base) == (0, 1200000)
    assert november["36"].collection.percent == Decimal("100.00")

"""The collection ledger kept at import (``db.queries.ledger``): after any sequence of imports it
equals a full recomputation by the pure rules, the screens read the same figures from it as from the
rules, and a refund or a fee change rewrites exactly the contracts it touches (with the other
contracts of the same client: a renewal bills a month once across them).

Real imports of real CSV files into a real SQLite file and PostgreSQL; hypothesis draws the sequence.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from bot.rules import (
    DEFAULT_TIERS,
    Month,
    allocate,
    apply_renewals,
    awaiting_by_client,
    ledger_months,
    position,
    position_of_months,
)
from db import queries
from db.importer import import_paths
from db.models import Employee, LedgerContractRow, LedgerMonthRow, LedgerState
from db.queries import ledger
from db.session import SessionPool, create_engine, create_session_pool
from jobs.digests import client_debts
from tests.conftest import truncate_all
from tests.importing import MSK

LEDGER = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
MANAGERS = ("m1", "m2", "m3")
CLIENTS = ("c1", "c2", "c3")
FEES = (500000, 1000000, 1250050)  # kopecks
EMPLOYEES = "id;name;role;team;phone_ext;telegram_id;active"
CONTRACTS = "id;number;client_id;client;manager_id;start;months;monthly_fee;title;closed_on"
PAYMENTS = "id;contract_id;date;amount;period"


def money(kopecks: int) -> str:
    sign = "-" if kopecks < 0 else ""
    return f"{sign}{abs(kopecks) // 100},{abs(kopecks) % 100:02d}"


@dataclass
class ContractModel:
    id: str
    client: str
    manager: str
    start: date
    months: int | None
    fee: int
    closed_on: date | None = None


@dataclass
class PaymentModel:
    id: str
    contract: str
    paid_on: date
    amount: int
    period: Month | None


@dataclass
class World:
    """What 1C holds: the files written for each import are made from it."""

    contracts: dict[str, ContractModel] = field(default_factory=dict)
    payments: dict[str, PaymentModel] = field(default_factory=dict)
    numbers: int = 0

    def number(self) -> str:
        self.numbers += 1
        return str(self.numbers)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "employees.csv").write_text(
            "\n".join([EMPLOYEES, "a1;Админ;admin;;;;1", *(f"{m};Менеджер {m};manager;Север;;;1" for m in MANAGERS)])
            + "\n",
            encoding="utf-8",
        )
        contracts = [
            f"{c.id};Д-{c.id};{c.client};Клиент {c.client};{c.manager};{c.start:%d.%m.%Y};"
            f"{c.months if c.months is not None else ''};{money(c.fee)};Сопровождение;"
            f"{c.closed_on.strftime('%d.%m.%Y') if c.closed_on else ''}"
            for c in self.contracts.values()
        ]
        (folder / "contracts.csv").write_text("\n".join([CONTRACTS, *contracts]) + "\n", encoding="utf-8")
        payments = [
            f"{p.id};{p.contract};{p.paid_on:%d.%m.%Y};{money(p.amount)};{p.period or ''}"
            for p in self.payments.values()
        ]
        (folder / "payments.csv").write_text("\n".join([PAYMENTS, *payments]) + "\n", encoding="utf-8")
        return folder


# --- the steps an import can bring -----------------------------------------------------------------------

FIRST_DAY = date(2026, 1, 12)


@st.composite
def step(draw: st.DrawFn) -> tuple[str, tuple[int, ...]]:
    kind = draw(st.sampled_from(["pay", "pay", "refund", "fee", "manager", "delete", "renew", "contract"]))
    return kind, tuple(draw(st.lists(st.integers(0, 1000), min_size=4, max_size=4)))


def apply(world: World, kind: str, picks: tuple[int, ...], today: date) -> bool:
    """Change ``world`` as 1C would by ``today``; returns whether rows were removed (``--full``)."""
    ids = sorted(world.contracts)
    if kind == "contract" or not ids:
        cid = "K" + world.number()
        start = Month.of(today).shift(-(picks[0] % 5)).first_day()
        world.contracts[cid] = ContractModel(cid, CLIENTS[picks[1] % 3], MANAGERS[picks[2] % 3], start,
                                             (None, 3, 6, 12)[picks[3] % 4], FEES[picks[3] % 3])  # fmt: skip
        return False
    target = world.contracts[ids[picks[0] % len(ids)]]
    if kind in ("pay", "refund"):
        amount = (FEES[picks[1] % 3] * (1 + picks[2] % 3)) // 2
        if kind == "refund":
            amount = -max(100, amount // 3)
        period = Month.of(target.start).shift(picks[3] % 4) if picks[3] % 2 else None
        pid = "P" + world.number()
        world.payments[pid] = PaymentModel(pid, target.id, today - timedelta(days=picks[3] % 20), amount, period)
    elif kind == "fee":
        target.fee = FEES[(FEES.index(target.fee) + 1 + picks[1] % 2) % 3]
    elif kind == "manager":
        target.manager = MANAGERS[(MANAGERS.index(target.manager) + 1 + picks[1] % 2) % 3]
    elif kind == "delete":
        if not any(p.contract != target.id for p in world.payments.values()):
            return False  # --full refuses to empty a table on the strength of an empty file
        del world.contracts[target.id]
        world.payments = {pid: p for pid, p in world.payments.items() if p.contract != target.id}
        return True
    elif kind == "renew":  # closed in this month, the same client's new contract from the same month
        target.closed_on = max(target.start, Month.of(today).first_day() + timedelta(days=picks[1] % 20))
        cid = "K" + world.number()
        world.contracts[cid] = ContractModel(cid, target.client, target.manager, target.closed_on, None,
                                             FEES[picks[2] % 3])  # fmt: skip
    return False


# --- the checks ------------------------------------------------------------------------------------------


async def recomputed(pool: SessionPool) -> tuple[ledger.StoredMonths, dict[str, int], date]:
    """The whole ledger recomputed by the pure rules from what the database holds, as of the ledger's day."""
    async with pool() as session:
        state = await session.get(LedgerState, ledger.STATE_ID)
        assert state is not None
        day = state.as_of
        infos = [info for m in MANAGERS for info in await queries.contracts_of(session, [m])]
        history = await queries.terms_history(session, [i.id for i in infos])
        starts = await queries.contract_starts(session, [i.client_id for i in infos])
        payments = await queries.payments_of_contracts(session, [i.id for i in infos])
    terms = apply_renewals([queries.terms_of(i, history.get(i.id)) for i in infos], starts)
    months: ledger.StoredMonths = {}
    credits: dict[str, int] = {}
    horizon = Month.of(day)
    for t in terms:
        own = [p for p in payments if p.contract_id == t.id and p.paid_on <= day]
        result = allocate(t, own, horizon)
        credits[t.id] = result.credit
        stored = ledger_months(result, horizon)
        months.update({(t.id, m.month.first_day()): (m.base, m.allocated, m.paid, m.unpaid) for m in stored})
        # the stored months read back as the rules' position of every month up to the horizon
        for month in {m.month for m in stored if m.month <= horizon} | {horizon}:
            assert position_of_months(t.id, t.client, stored, month, day) == position(result, month, day)
    return months, credits, day


async def check_ledger(pool: SessionPool) -> None:
    expected_months, expected_credits, day = await recomputed(pool)
    async with pool() as session:
        months, credits = await ledger.stored_ledger(session)
    assert months == expected_months
    assert credits == expected_credits
    # every screen's figures: the ledger's reading equals the rules' reading, month by month
    for month in (Month.of(day), Month.of(day).shift(-1), Month.of(day).shift(-3)):
        async with pool() as session:
            assert await ledger.ledger_serves(session, day)
            from_ledger = await queries.collections(session, list(MANAGERS), month, day, DEFAULT_TIERS)
            await session.execute(delete(LedgerState))  # the ledger no longer answers: the rules compute
            assert not await ledger.ledger_serves(session, day)
            from_rules = await queries.collections(session, list(MANAGERS), month, day, DEFAULT_TIERS)
            team_by_rules = await queries.team_totals(session, list(MANAGERS), month, day, DEFAULT_TIERS)
            await session.rollback()
        async with pool() as session:  # /team's SQL aggregation (today's month) or the same rules
            team = await queries.team_totals(session, list(MANAGERS), month, day, DEFAULT_TIERS)
        assert team == team_by_rules, month
        if month == Month.of(day):  # a morning's many contracts: the whole table read once, the same
            async with pool() as session:
                owned = [(p.contract_id, p.client_id) for m in MANAGERS for p in from_ledger[m].positions]
                by_id = await ledger.positions_from_ledger(session, owned, month, day)
                whole, ledger.CHUNK_WHOLE_TABLE = ledger.CHUNK_WHOLE_TABLE, 0
                try:
                    assert await ledger.positions_from_ledger(session, owned, month, day) == by_id
                finally:
                    ledger.CHUNK_WHOLE_TABLE = whole
            await check_digest_reads(pool, from_ledger, day)
        for m in MANAGERS:
            assert from_ledger[m].collection == from_rules[m].collection, (m, month)
            assert from_ledger[m].contracts == from_rules[m].contracts, (m, month)
            assert sorted(from_ledger[m].positions, key=lambda p: p.contract_id) == sorted(
                from_rules[m].positions, key=lambda p: p.contract_id
            )


async def check_digest_reads(pool: SessionPool, figures: dict[str, queries.ManagerMonth], day: date) -> None:
    """What the morning digests read from the ledger instead of every position (``digest_figures``,
    ``owing_clients``, the debtors kept on ``ledger_state``) equals the positions' reading, by
    manager id and for the whole ledger at once."""
    expected_debts = {m: client_debts(figures[m]) for m in MANAGERS}
    every_owing = {p.client_id for f in figures.values() for p in f.positions if p.debt > 0}
    for whole in (False, True):
        async with pool() as session:
            limit, ledger.WHOLE_MANAGERS = ledger.WHOLE_MANAGERS, (0 if whole else 10**6)
            try:
                light = await ledger.digest_figures(session, list(MANAGERS), day, DEFAULT_TIERS)
                owing = await ledger.owing_clients(session, list(MANAGERS))
                team = await ledger.team_totals_from_ledger(session, list(MANAGERS), day, DEFAULT_TIERS)
            finally:
                ledger.WHOLE_MANAGERS = limit
            state = await ledger.ledger_state(session)
            admin = await session.get(Employee, "a1")
            assert admin is not None
            supervisor = Employee(id="s1", name="С", role="supervisor", team="Север", active=True)  # not stored
            listed = {v.id: await ledger.team_from_ledger(session, v) for v in (admin, supervisor)}
        assert state is not None and state.debtors == len(every_owing)
        assert team.debtors == len(every_owing)
        for members in listed.values():  # /team's one-statement reading: the same totals per manager
            assert sorted(m.manager_id for m in members) == sorted(MANAGERS)
            for m in members:
                c = team.members[m.manager_id]
                assert (m.base, m.paid, m.debt, m.debtors) == (c.base, c.paid, c.debt, c.debtors)
        for m in MANAGERS:
            assert light[m].collection == figures[m].collection, m
            assert light[m].awaiting == awaiting_by_client(figures[m].positions)
            plan = figures[m].collection.next_step
            assert light[m].clients == {c: figures[m].client_names()[c] for c in (plan.client_ids if plan else ())}
            got = [(o.client_id, debt_name(figures[m], o.client_id), o.debt, (day - o.oldest).days) for o in owing[m]]
            assert got == expected_debts[m], m


def debt_name(figure: queries.ManagerMonth, client_id: str) -> str:
    return figure.client_names()[client_id]


async def written_by_last(pool: SessionPool) -> set[str]:
    async with pool() as session:
        state = await session.get(LedgerState, ledger.STATE_ID)
        assert state is not None
        months = select(LedgerMonthRow.contract_id).where(LedgerMonthRow.written == state.writes)
        contracts = select(LedgerContractRow.contract_id).where(LedgerContractRow.written == state.writes)
        return set((await session.execute(months)).scalars()) | set((await session.execute(contracts)).scalars())


class Harness:
    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.runner = asyncio.Runner()
        self.examples = 0

    def run(self, steps: list[tuple[str, tuple[int, ...]]], days: list[int]) -> None:
        self.examples += 1
        folder = self.folder / f"example{self.examples}"
        folder.mkdir(parents=True)
        if self.url.startswith("sqlite"):  # a fresh copy of the migrated template per example
            shutil.copy(self.url.removeprefix("sqlite+aiosqlite:///"), folder / "kpibot.db")
        self.runner.run(self._run(steps, days, folder))

    async def _run(self, steps: list[tuple[str, tuple[int, ...]]], days: list[int], folder: Path) -> None:
        if self.url.startswith("sqlite"):
            engine = create_engine(f"sqlite+aiosqlite:///{folder / 'kpibot.db'}")
        else:
            engine = create_engine(self.url)
            await truncate_all(engine)
        pool = create_session_pool(engine)
        try:
            world = World()
            today = FIRST_DAY
            for n, ((kind, picks), gap) in enumerate(zip(steps, days, strict=False)):
                today += timedelta(days=gap)
                removed = apply(world, kind, picks, today)
                now = datetime.combine(today, datetime.min.time()) + timedelta(hours=6)  # 09:00 in Moscow
                full = ("contracts", "payments") if removed else ()
                await import_paths(pool, [world.write(folder / f"import{n}")], zone=MSK, now=now, full=full)
                await check_ledger(pool)
            if not world.contracts:
                return
            # a refund on one contract rewrites that contract (and its client's other contracts) only
            ids = sorted(world.contracts)
            target = world.contracts[ids[len(steps) % len(ids)]]
            siblings = {c.id for c in world.contracts.values() if c.client == target.client}
            refund = folder / "refund"
            refund.mkdir()
            (refund / "payments.csv").write_text(
                f"{PAYMENTS}\nR{world.number()};{target.id};{today:%d.%m.%Y};-100,00;\n", encoding="utf-8"
            )
            now = datetime.combine(today, datetime.min.time()) + timedelta(hours=7)
            await import_paths(pool, [refund / "payments.csv"], zone=MSK, now=now)
            assert target.id in await written_by_last(pool) <= siblings
            await check_ledger(pool)
            # a fee change likewise
            target.fee = FEES[(FEES.index(target.fee) + 1) % 3]
            fee = folder / "fee"
            fee.mkdir()
            (fee / "contracts.csv").write_text(
                f"{CONTRACTS}\n{target.id};Д-{target.id};{target.client};Клиент {target.client};{target.manager};"
                f"{target.start:%d.%m.%Y};{target.months if target.months is not None else ''};{money(target.fee)};"
                f"Сопровождение;{target.closed_on.strftime('%d.%m.%Y') if target.closed_on else ''}\n",
                encoding="utf-8",
            )
            await import_paths(pool, [fee / "contracts.csv"], zone=MSK, now=now + timedelta(minutes=5))
            assert target.id in await written_by_last(pool) <= siblings
            await check_ledger(pool)
        finally:
            await engine.dispose()


@contextlib.contextmanager
def harness(url: str, folder: Path) -> Iterator[Harness]:
    h = Harness(url, folder)
    try:
        yield h
    finally:
        h.runner.close()


def test_the_stored_ledger_equals_a_full_recomputation_after_any_imports(
    database_url: str, sqlite_template: Path, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{sqlite_template}" if database_url.startswith("sqlite") else database_url
    with harness(url, tmp_path) as h:

        @LEDGER
        @given(
            st.lists(step(), min_size=1, max_size=6),
            st.lists(st.sampled_from([0, 1, 2, 9, 24]), min_size=6, max_size=6),
        )
        def property_(steps: list[tuple[str, tuple[int, ...]]], days: list[int]) -> None:
            h.run(steps, days)

        property_()


async def test_a_replay_reads_the_rules_and_writes_nothing(pool: SessionPool, tmp_path: Path) -> None:
    world = World()
    apply(world, "contract", (1, 0, 0, 1), date(2026, 3, 10))
    apply(world, "pay", (0, 1, 1, 0), date(2026, 3, 10))
    await import_paths(pool, [world.write(tmp_path / "a")], zone=MSK, now=datetime(2026, 3, 10, 6))
    async with pool() as session:
        before = await ledger.stored_ledger(session)
        state = await session.get(LedgerState, ledger.STATE_ID)
        assert state is not None and state.as_of == date(2026, 3, 10)
        # a day before the ledger's, and a month later: the rules answer, nothing is written
        assert not await ledger.ledger_serves(session, date(2026, 3, 9))
        assert not await ledger.ledger_serves(session, date(2026, 4, 1))
        await queries.collections(session, list(MANAGERS), Month(2026, 3), date(2026, 3, 9), DEFAULT_TIERS)
        assert not session.dirty and not session.new
        await session.commit()
    async with pool() as session:
        assert await ledger.stored_ledger(session) == before


async def test_a_payment_dated_after_the_ledger_day_sends_reads_to_the_rules_until_kept(
    pool: SessionPool, tmp_path: Path
) -> None:
    world = World()
    apply(world, "contract", (0, 0, 0, 1), date(2026, 3, 10))
    apply(world, "pay", (0, 1, 1, 0), date(2026, 3, 10))
    world.payments["late"] = PaymentModel("late", next(iter(world.contracts)), date(2026, 3, 12), 100000, None)
    await import_paths(pool, [world.write(tmp_path / "a")], zone=MSK, now=datetime(2026, 3, 10, 6))
    async with pool() as session:
        assert await ledger.ledger_serves(session, date(2026, 3, 11))
        assert not await ledger.ledger_serves(session, date(2026, 3, 12))  # the late payment counts on the 12th
    async with pool() as session, session.begin():
        update = await ledger.keep_ledgers(session, date(2026, 3, 12), datetime(2026, 3, 12, 6))
    assert (update.as_of, update.contracts, update.full) == (date(2026, 3, 12), 1, False)
    async with pool() as session:
        assert await ledger.ledger_serves(session, date(2026, 3, 12))
    async with pool() as session, session.begin():
        update = await ledger.keep_ledgers(session, date(2026, 4, 1), datetime(2026, 4, 1, 6))
    assert update.full  # a new month moves the horizon: every contract
    await check_ledger(pool)


async def test_the_documented_refund_example_is_what_the_ledger_stores(pool: SessionPool, tmp_path: Path) -> None:
    """``docs/collection.md``, "Where the ledger is kept"."""
    world = World()
    world.contracts["R1"] = ContractModel("R1", "c1", "m1", date(2026, 9, 1), None, 100000)
    world.payments["p1"] = PaymentModel("p1", "R1", date(2026, 9, 10), 350000, None)
    world.payments["p2"] = PaymentModel("p2", "R1", date(2026, 11, 12), -200000, None)
    await import_paths(pool, [world.write(tmp_path / "a")], zone=MSK, now=datetime(2026, 11, 20, 6))
    async with pool() as session:
        months, credits = await ledger.stored_ledger(session)
        figure = await queries.collection_of(session, "m1", Month(2026, 11), date(2026, 11, 20), DEFAULT_TIERS)
        kept = await session.get(LedgerContractRow, "R1")
        assert kept is not None  # November's position, kept on the contract's row (migration 0013)
        assert (kept.base, kept.paid, kept.debt, kept.oldest_unpaid) == (100000, 0, 50000, date(2026, 10, 1))
        team = await ledger.team_totals_from_ledger(session, ["m1"], date(2026, 11, 20), DEFAULT_TIERS)
        assert (team.members["m1"].base, team.members["m1"].debt, team.debtors) == (100000, 50000, 1)
    assert months == {
        ("R1", date(2026, 9, 1)): (100000, 100000, 100000, 0),
        ("R1", date(2026, 10, 1)): (100000, 50000, 50000, 50000),
        ("R1", date(2026, 11, 1)): (100000, 0, 0, 100000),
    }
    assert credits == {"R1": 0}
    c = figure.collection
    assert (c.base, c.paid, c.awaiting, c.debt) == (100000, 0, 100000, 50000)

"""A real-shaped phone day through the real importer and the morning, on both databases.

The office is in Moscow; its Asterisk has ``usegmtime=yes`` (PBX_TIMEZONE=UTC) and ``newcdrcolumns``
(the 21-field Master.csv with uniqueid, linkedid and sequence). The digest of Tuesday 01.12.2026 at
09:30 reports Monday 30.11. Extensions: Аракелян (m1) 101, Петров (m2) 102, Сидорова (m3) 103.
Moscow times below; the file holds them 3 hours earlier.

- A 10:00, ring group Dial(SIP/101&SIP/102) from …01: 101 NO ANSWER, 102 ANSWERED 120 s, one
  uniqueid → nothing (102 answered; 101's leg is nobody's missed call).
- B 11:00, ring group from …02: 101 and 102 both NO ANSWER, never returned → missed: m1 and m2.
- B' 13:00, …02 again, into queue 400 with no agent: Queue ANSWERED 60 s, no dstchannel → nothing
  (nobody's call, and not a return of B).
- C 12:00, queue from …03: Local/101 NO ANSWER, Local/103 answered; the Queue row and the agent's
  row, 10 s each, one linkedid → duration: m3, 10 s, once.
- E 14:00, …05 to 101, answered 30 s, blind transfer to 102, answered 600 s (same uniqueid) → nothing.
- F 15:00, …06 to 101 NO ANSWER, then VoiceMail ANSWERED 8 s; m1 calls back at 17:00, 45 s, and
  types it into 1C as 10 s at 17:01 (i1) → nothing: returned within 4 h, VoiceMail is nobody's
  conversation, and i1 is judged by its 45 billed seconds.
- G 16:00, …07 to 102 BUSY, then VoiceMail 5 s, never returned → missed: m2.
- H 16:30, 103 calls …08, ANSWERED 7 s; 1C i3 typed as 60 s at 16:31 → duration: m3, 7 s, once.
- I 02:00 Monday, …09 to 102 NO ANSWER (23:00 UTC on Sunday in the file) → missed: m2.
- J 00:30 Tuesday, …10 to 101 NO ANSWER (21:30 UTC on Monday in the file) → nothing (Tuesday's).
- 1C i2 18:00, m2's call typed as 5 s, no PBX call of 102 near it → duration: m2, 5 s.

Hand count: m1 — missed 1; m2 — missed 3, duration 1; m3 — duration 2. Seven findings.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.settings import Settings, load_settings
from db.importer import import_paths
from db.models import Employee, FindingRow
from db.session import SessionPool
from jobs.digests import build_digest, store_findings
from tests.factories import EMPLOYEES_HEADER, INTERACTIONS_HEADER, write_csv
from tests.world import MSK

TUESDAY = date(2026, 12, 1)
UTC_OFFSET = timedelta(hours=3)


def leg(uid: str, src: str, dst: str, channel: str, dstchannel: str, lastapp: str, start: str, seconds: int,
        billsec: int, disposition: str, *, linkedid: str = "", sequence: int = 1) -> list[str]:  # fmt: skip
    """One 21-field record; ``start`` is Moscow time, written in UTC as the PBX does."""
    began = datetime.fromisoformat(start) - UTC_OFFSET
    answered = began + timedelta(seconds=seconds - billsec) if billsec else None
    ended = began + timedelta(seconds=seconds)
    stamp = "%Y-%m-%d %H:%M:%S"
    return ["", src, dst, "from-trunk" if src.startswith("7") else "from-internal", f'"{src}" <{src}>', channel,
            dstchannel, lastapp, "", began.strftime(stamp), answered.strftime(stamp) if answered else "",
            ended.strftime(stamp), str(seconds), str(billsec), disposition, "DOCUMENTATION", uid, "", "",
            linkedid or uid, str(sequence)]  # fmt: skip


def phone_day(folder: Path) -> Path:
    write_csv(folder / "employees.csv", EMPLOYEES_HEADER, [
        ["m1", "Аракелян Наринэ", "manager", "A", "101", "", "1"],
        ["m2", "Петров Пётр", "manager", "A", "102", "", "1"],
        ["m3", "Сидорова Елена", "manager", "A", "103", "", "1"],
        ["s1", "Кузнецова Марина", "supervisor", "A", "", "", "1"],
    ])  # fmt: skip
    write_csv(folder / "interactions.csv", INTERACTIONS_HEADER, [
        ["i1", "Звонок", "Исходящий", "m1", "k6", "ООО «Шестая»", "Шестаков", "", "30.11.2026 17:01", "10",
         "Выполнено", "07.12.2026 10:00", "перезвон"],
        ["i2", "Звонок", "Исходящий", "m2", "k2", "ООО «Вторая»", "Вторых", "", "30.11.2026 18:00", "5", "Выполнено",
         "07.12.2026 10:00", "сверка"],
        ["i3", "Звонок", "Исходящий", "m3", "k8", "ООО «Восьмая»", "Восьмов", "", "30.11.2026 16:31", "60",
         "Выполнено", "07.12.2026 10:00", "счёт"],
    ])  # fmt: skip
    rows = [
        leg("1764486000.1", "79160000001", "600", "SIP/trunk-01", "SIP/101-02", "Dial", "2026-11-30 10:00:00", 25, 0,
            "NO ANSWER"),
        leg("1764486000.1", "79160000001", "600", "SIP/trunk-01", "SIP/102-03", "Dial", "2026-11-30 10:00:00", 128,
            120, "ANSWERED", sequence=2),
        leg("1764489600.4", "79160000002", "600", "SIP/trunk-04", "SIP/101-05", "Dial", "2026-11-30 11:00:00", 30, 0,
            "NO ANSWER"),
        leg("1764489600.4", "79160000002", "600", "SIP/trunk-04", "SIP/102-06", "Dial", "2026-11-30 11:00:00", 30, 0,
            "NO ANSWER", sequence=2),
        leg("1764493200.7", "79160000003", "400", "SIP/trunk-07", "Local/103@from-queue-0001;1", "Queue",
            "2026-11-30 12:00:00", 25, 10, "ANSWERED"),
        leg("1764493202.8", "79160000003", "101", "Local/101@from-queue-0002;2", "SIP/101-08", "Dial",
            "2026-11-30 12:00:02", 10, 0, "NO ANSWER", linkedid="1764493200.7"),
        leg("1764493212.9", "79160000003", "103", "Local/103@from-queue-0001;2", "SIP/103-09", "Dial",
            "2026-11-30 12:00:12", 13, 10, "ANSWERED", linkedid="1764493200.7"),
        leg("1764496800.10", "79160000002", "400", "SIP/trunk-10", "", "Queue", "2026-11-30 13:00:00", 61, 60,
            "ANSWERED"),
        leg("1764500400.11", "79160000005", "101", "SIP/trunk-11", "SIP/101-12", "Dial", "2026-11-30 14:00:00", 35,
            30, "ANSWERED"),
        leg("1764500400.11", "79160000005", "102", "SIP/trunk-11", "SIP/102-13", "Dial", "2026-11-30 14:00:35", 605,
            600, "ANSWERED", sequence=2),
        leg("1764504000.14", "79160000006", "101", "SIP/trunk-14", "SIP/101-15", "Dial", "2026-11-30 15:00:00", 20, 0,
            "NO ANSWER"),
        leg("1764504020.16", "79160000006", "101", "SIP/trunk-14", "", "VoiceMail", "2026-11-30 15:00:20", 8, 8,
            "ANSWERED"),
        leg("1764511200.17", "101", "89160000006", "SIP/101-17", "SIP/trunk-18", "Dial", "2026-11-30 17:00:00", 50,
            45, "ANSWERED"),
        leg("1764507600.19", "79160000007", "102", "SIP/trunk-19", "SIP/102-20", "Dial", "2026-11-30 16:00:00", 1, 0,
            "BUSY"),
        leg("1764507601.21", "79160000007", "102", "SIP/trunk-19", "", "VoiceMail", "2026-11-30 16:00:01", 5, 5,
            "ANSWERED"),
        leg("1764509400.22", "103", "+79160000008", "SIP/103-22", "SIP/trunk-23", "Dial", "2026-11-30 16:30:00", 12,
            7, "ANSWERED"),
        leg("1764457200.24", "79160000009", "102", "SIP/trunk-24", "SIP/102-25", "Dial", "2026-11-30 02:00:00", 20, 0,
            "NO ANSWER"),
        leg("1764541800.26", "79160000010", "101", "SIP/trunk-26", "SIP/101-27", "Dial", "2026-12-01 00:30:00", 20, 0,
            "NO ANSWER"),
    ]  # fmt: skip
    write_csv(folder / "Master.csv", None, rows, delimiter=",", quoting=1)
    return folder


def day_settings(database_url: str) -> Settings:
    return load_settings(bot_token="42:TEST", database_url=database_url, digest_time="09:30", pbx_timezone="UTC")


async def test_the_phone_day_gives_the_hand_counted_findings(
    pool: SessionPool, database_url: str, tmp_path: Path
) -> None:
    settings = day_settings(database_url)
    folder = phone_day(tmp_path / "exports")
    await import_paths(pool, [folder], zone=MSK, now=datetime(2026, 12, 1, 3, 0), pbx_zone=ZoneInfo("UTC"))
    texts = {}
    async with pool() as session, session.begin():
        for manager in ("m1", "m2", "m3"):
            employee = await session.get(Employee, manager)
            assert employee is not None
            texts[manager] = (await build_digest(session, employee, TUESDAY, settings)).text
        # a digest only reads: the day the morning job has not stored yet is computed in memory
        assert (await session.execute(select(FindingRow.id).where(FindingRow.day == TUESDAY))).first() is None
        await store_findings(session, TUESDAY, settings)  # the morning job's step
        for manager in ("m1", "m2", "m3"):
            employee = await session.get(Employee, manager)
            assert employee is not None
            assert (await build_digest(session, employee, TUESDAY, settings)).text == texts[manager]
        stored = (await session.execute(select(FindingRow).where(FindingRow.day == TUESDAY))).scalars()
        found = sorted((f.manager_id, f.rule, f.value, f.source, f.at.strftime("%H:%M")) for f in stored)
    assert found == [
        ("m1", "missed", 4, "pbx", "11:00"),
        ("m2", "duration", 5, "1c", "18:00"),
        ("m2", "missed", 4, "pbx", "02:00"),
        ("m2", "missed", 4, "pbx", "11:00"),
        ("m2", "missed", 4, "pbx", "16:00"),
        ("m3", "duration", 7, "pbx", "16:31"),
        ("m3", "duration", 10, "pbx", "12:00"),
    ]
    assert "• пропущенные без перезвона — 1\n" in texts["m1"] and "длины" not in texts["m1"]
    assert "• звонки аномальной длины — 1\n• пропущенные без перезвона — 3\n" in texts["m2"]
    assert "• звонки аномальной длины — 2\n" in texts["m3"] and "пропущенные" not in texts["m3"]

"""The discipline rules (``bot.rules``), each at its boundaries, plus properties over random input."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.rules import (
    Activity,
    Finding,
    Paper,
    PhoneCall,
    Rule,
    Thresholds,
    abnormal_durations,
    counts_by_rule,
    day_period,
    discipline,
    every_day,
    missed_not_returned,
    no_contact,
    no_follow_up,
    not_done,
    original_escalated,
    original_overdue,
    originals_missing,
    phone_key,
)

LIMITS = Thresholds()  # 20 s, 1800 s, 4 h, 5 days, 30 days
DAY = date(2019, 2, 25)  # Monday: its digest reports Friday 22nd up to Sunday
PERIOD = day_period(date(2019, 2, 22), DAY)
FRIDAY = datetime(2019, 2, 22, 10, 0)
NOW = datetime(2019, 2, 25, 9, 0)


def call(id: str = "i1", *, seconds: int | None = 60, contact: str = "Петров И.", status: str = "done",
         at: datetime = FRIDAY, client: str = "k1", manager: str = "m1", next_at: datetime | None = None,
         kind: str = "call") -> Activity:  # fmt: skip
    done = at if status == "done" else None
    planned = at if status != "done" else None
    return Activity(id, kind, manager, client, f"Клиент {client}", contact, planned, done, seconds, status, next_at)


def pbx(id: str, *, at: datetime = FRIDAY, direction: str = "in", disposition: str = "ANSWERED", billsec: int = 60,
        number: str = "+7 916 123-45-67", employee: str = "m1", dstchannel: str = "SIP/101-00000001",
        lastapp: str = "Dial") -> PhoneCall:  # fmt: skip
    """One leg, bridged to a phone (``dstchannel``) by Dial unless told otherwise."""
    return PhoneCall(id, employee, direction, at, disposition, billsec, number, dstchannel, lastapp)


# --- 1. planned but not done ---------------------------------------------------------------------------


def test_planned_and_not_done_in_the_period_is_a_finding() -> None:
    activities = [
        call("late", status="planned"),
        call("meeting", status="planned", kind="meeting"),
        call("cancelled", status="cancelled"),
        call("done"),
        call("today", status="planned", at=datetime(2019, 2, 25, 8, 0)),  # not before today
        call("older", status="planned", at=datetime(2019, 2, 21, 23, 59)),  # reported the day before
    ]
    assert [f.subject_id for f in not_done(activities, PERIOD)] == ["late", "meeting"]


# --- 2. abnormal duration ------------------------------------------------------------------------------


def test_call_duration_boundaries_19_20_1800_1801() -> None:
    activities = [call(f"s{s}", seconds=s) for s in (19, 20, 1800, 1801)]
    found = abnormal_durations(activities, [], PERIOD, LIMITS)
    assert [(f.subject_id, f.value) for f in found] == [("s19", 19), ("s1801", 1801)]


def test_pbx_billed_seconds_judge_the_pbx_calls_and_an_unmatched_typed_call_keeps_its_own() -> None:
    hour = timedelta(hours=1)
    activities = [call("typed", seconds=5, at=FRIDAY + 5 * hour)]  # typed into 1C; no PBX call near 15:00
    calls = [
        pbx("hung-up", billsec=3),
        pbx("fine", billsec=20, at=FRIDAY + hour, number="1"),
        pbx("long", billsec=1801, direction="out", at=FRIDAY + 2 * hour),
        pbx("missed", billsec=0, disposition="NO ANSWER", at=FRIDAY + 3 * hour, number="2"),  # not a conversation
    ]
    found = abnormal_durations(activities, calls, PERIOD, LIMITS)
    assert [(f.subject_id, f.value, f.source) for f in found] == [
        ("typed", 5, "1c"), ("hung-up", 3, "pbx"), ("long", 1801, "pbx")
    ]  # fmt: skip
    other = abnormal_durations([call("typed", seconds=5, manager="m2")], calls, PERIOD, LIMITS)
    assert [f.subject_id for f in other] == ["typed", "hung-up", "long"]  # m2's call: m1's PBX calls are not it


@given(st.integers(min_value=0, max_value=10_000))
def test_duration_finding_exactly_outside_the_limits(seconds: int) -> None:
    found = abnormal_durations([call(seconds=seconds)], [], PERIOD, LIMITS)
    assert bool(found) == (seconds < 20 or seconds > 1800)


# --- 3. no contact -------------------------------------------------------------------------------------


def test_done_call_or_meeting_without_a_contact() -> None:
    activities = [
        call("empty", contact=""),
        call("spaces", contact="   ", kind="meeting"),
        call("named"),
        call("planned", contact="", status="planned"),
    ]
    assert [f.subject_id for f in no_contact(activities, PERIOD)] == ["empty", "spaces"]


# --- 4. no follow-up -----------------------------------------------------------------------------------


def test_follow_up_boundaries() -> None:
    minute = timedelta(minutes=1)
    lonely = call("lonely", client="k1")
    with_next = call("next", client="k2", next_at=FRIDAY + timedelta(days=3))
    followed = call("followed", client="k3")
    plan = call("plan", client="k3", status="planned", at=FRIDAY + minute)  # planned one minute later
    same_minute = call("same", client="k4")
    twin = call("twin", client="k4", status="planned", at=FRIDAY)  # not later
    colleague = call("colleague-first", client="k5")
    by_colleague = call("by-colleague", client="k5", manager="m2", at=FRIDAY + timedelta(hours=2))
    cancelled = call("cancelled-first", client="k6")
    dropped = call("dropped", client="k6", status="cancelled", at=FRIDAY + timedelta(days=1))
    meeting = call("meeting", client="k7", kind="meeting")  # the rule is about calls
    activities = [lonely, with_next, followed, plan, same_minute, twin, colleague, by_colleague, cancelled, dropped,
                  meeting]  # fmt: skip
    found = [f.subject_id for f in no_follow_up(activities, PERIOD)]
    # "twin" is planned, not done (only rule 1 could report it); the colleague's own call has nothing after it
    assert found == ["lonely", "same", "by-colleague", "cancelled-first"]


# --- 5. missed and not returned ------------------------------------------------------------------------


def test_callback_within_four_hours_boundaries() -> None:
    missed = pbx("missed", disposition="NO ANSWER", billsec=0, number="+79161234567")

    def judged(after: timedelta, **kwargs: object) -> list[Finding]:
        values: dict[str, object] = {"direction": "out", "number": "89161234567", **kwargs}
        back = pbx("back", at=FRIDAY + after, **values)  # type: ignore[arg-type]
        return missed_not_returned([missed, back], PERIOD, NOW, 4)

    assert judged(timedelta(hours=3, minutes=59)) == []
    assert judged(timedelta(hours=4)) == []  # inclusive
    late = judged(timedelta(hours=4, minutes=1))
    assert [(f.subject_id, f.value, f.client) for f in late] == [("missed", 4, "+79161234567")]
    assert judged(timedelta(hours=1), disposition="NO ANSWER", billsec=0) != []  # tried, not reached: not returned
    assert judged(timedelta(hours=1), direction="in") == []  # the client got through later: returned
    assert missed_not_returned([missed], PERIOD, FRIDAY + timedelta(hours=3), 4) == []  # still in the window


def test_busy_and_failed_count_as_missed_but_congestion_and_outgoing_do_not() -> None:
    """CONGESTION: the PBX found no way to the phone, so no manager's phone rang."""
    calls = [
        pbx("busy", disposition="BUSY", billsec=0, number="1"),
        pbx("failed", disposition="FAILED", billsec=0, number="2"),
        pbx("congestion", disposition="CONGESTION", billsec=0, number="3"),
        pbx("out", disposition="NO ANSWER", billsec=0, direction="out", number="4"),
    ]
    assert [f.subject_id for f in missed_not_returned(calls, PERIOD, NOW, 4)] == ["busy", "failed"]


def test_phone_numbers_match_in_every_spelling() -> None:
    assert phone_key("+7 (916) 123-45-67") == phone_key("89161234567") == phone_key("9161234567") == "9161234567"


@given(st.integers(min_value=1, max_value=600))
def test_missed_finding_exactly_when_the_callback_is_later_than_the_window(minutes: int) -> None:
    missed = pbx("missed", disposition="NO ANSWER", billsec=0)
    back = pbx("back", at=FRIDAY + timedelta(minutes=minutes), direction="out")
    found = missed_not_returned([missed, back], PERIOD, NOW, 4)
    assert bool(found) == (minutes > 240)


# --- 6. originals --------------------------------------------------------------------------------------


def test_originals_day_5_and_6_and_escalation_after_30() -> None:
    def paper(id: str, age: int, received: bool = False) -> Paper:
        return Paper(id, "m1", "Клиент", "Акт", id, DAY - timedelta(days=age), 300000, received)

    papers = [paper("d5", 5), paper("d6", 6), paper("d30", 30), paper("d31", 31), paper("back", 40, True)]
    found = originals_missing(papers, DAY, LIMITS)
    assert [(f.subject_id, f.value, f.escalate) for f in found] == [("d31", 31, True), ("d30", 30, False),
                                                                   ("d6", 6, False)]  # fmt: skip


# --- together ------------------------------------------------------------------------------------------


def test_discipline_counts_in_the_rules_order_and_escalation_by_week() -> None:
    activities = [call("a", contact="", seconds=5), call("b", status="planned")]
    found = discipline(activities, [], [], PERIOD, DAY, NOW, LIMITS)
    assert counts_by_rule(found) == {Rule.NOT_DONE: 1, Rule.DURATION: 1, Rule.NO_CONTACT: 1, Rule.NO_FOLLOW_UP: 1}
    assert list(counts_by_rule(found)) == [Rule.NOT_DONE, Rule.DURATION, Rule.NO_CONTACT, Rule.NO_FOLLOW_UP]
    week = [{Rule.NO_CONTACT, Rule.DURATION}, {Rule.NO_CONTACT}, {Rule.NO_CONTACT, Rule.MISSED}] + [
        {Rule.NO_CONTACT}
    ] * 2
    assert every_day(week) == {Rule.NO_CONTACT}
    assert every_day([*week[:4], set()]) == set()
    assert every_day([]) == set()


def test_the_overdue_test_for_originals_is_one_rule_for_the_digest_and_docs() -> None:
    """/docs counts and marks with ``original_overdue``/``original_escalated``; rule 6 reports the same."""

    def paper(age: int, received: bool = False) -> Paper:
        return Paper(f"d{age}", "m1", "Клиент", "Акт", "1", DAY - timedelta(days=age), None, received)

    for age in range(0, 40):
        found = originals_missing([paper(age)], DAY, LIMITS)
        assert bool(found) == original_overdue(paper(age), DAY, LIMITS) == (age > 5)
        assert (bool(found) and found[0].escalate) == original_escalated(paper(age), DAY, LIMITS) == (age > 30)
        assert not original_overdue(paper(age, received=True), DAY, LIMITS)

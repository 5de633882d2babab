"""Calls, not legs: grouping CDR legs, persons and applications, matching 1C calls with PBX
conversations (boundaries of the window), and the properties: a conversation counts once whatever
the sources, and a replayed day does not change with data dated after its digest moment."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules import (
    Activity,
    Paper,
    PhoneCall,
    Rule,
    Thresholds,
    abnormal_durations,
    answered_by_person,
    conversations,
    day_period,
    discipline,
    discipline_summary,
    group_calls,
    known_at,
    match_calls,
    missed_not_returned,
    working_week,
)
from bot.rules.discipline import Finding

LIMITS = Thresholds()  # 20 s … 1800 s, 4 h, match within 5 minutes
DAY = date(2026, 11, 30)  # Monday: its digest reports Friday 27.11 up to Sunday
PERIOD = day_period(date(2026, 11, 27), DAY)
FRIDAY = datetime(2026, 11, 27, 10, 0)
AS_OF = datetime(2026, 11, 30, 9, 30)
SECOND = timedelta(seconds=1)


def leg(id: str, *, at: datetime = FRIDAY, employee: str = "m1", direction: str = "in", disposition: str = "ANSWERED",
        billsec: int = 60, number: str = "79161234567", dstchannel: str = "SIP/101-1", lastapp: str = "Dial",
        uniqueid: str = "", linkedid: str = "", seconds: int | None = None) -> PhoneCall:  # fmt: skip
    ended = at + timedelta(seconds=seconds if seconds is not None else billsec)
    return PhoneCall(id, employee, direction, at, disposition, billsec, number, dstchannel, lastapp, uniqueid, linkedid,
                     ended)  # fmt: skip


def typed(id: str, *, at: datetime = FRIDAY, seconds: int | None = 60, manager: str = "m1", phone: str = "",
          client: str = "k1") -> Activity:  # fmt: skip
    return Activity(id, "call", manager, client, f"Клиент {client}", "Петров", None, at, seconds, "done",
                    FRIDAY + timedelta(days=7), phone)  # fmt: skip


# --- persons and applications ------------------------------------------------------------------------------


def test_only_a_bridged_leg_with_billed_seconds_is_a_persons_answer() -> None:
    assert answered_by_person(leg("dial"))
    assert answered_by_person(leg("queue-agent", lastapp="Queue", dstchannel="Local/103@from-queue-1;1"))
    assert not answered_by_person(leg("voicemail", lastapp="VoiceMail", dstchannel=""))
    assert not answered_by_person(leg("vm-with-channel", lastapp="VoiceMail"))  # the application, whatever channel
    assert not answered_by_person(leg("queue-no-agent", lastapp="Queue", dstchannel=""))
    assert not answered_by_person(leg("ivr", lastapp="BackGround", dstchannel=""))
    assert not answered_by_person(leg("playback", lastapp="Playback"))
    assert not answered_by_person(leg("zero", billsec=0))  # ANSWERED with billsec 0: picked up and dropped
    assert not answered_by_person(leg("busy", disposition="BUSY", billsec=0))


# --- grouping legs into calls ------------------------------------------------------------------------------


def test_legs_with_one_uniqueid_or_linkedid_are_one_call() -> None:
    calls = group_calls([
        leg("a1", uniqueid="U1", number="1", disposition="NO ANSWER", billsec=0),
        leg("a2", uniqueid="U1", number="2", employee="m2", at=FRIDAY + timedelta(minutes=2)),  # a transfer
        leg("b1", uniqueid="U2", linkedid="L", number="3", at=FRIDAY + timedelta(hours=1)),
        leg("b2", uniqueid="U3", linkedid="L", number="4", at=FRIDAY + timedelta(hours=1, minutes=1)),
        leg("c", uniqueid="U4", number="5", at=FRIDAY + timedelta(hours=2)),
    ])  # fmt: skip
    assert [[x.id for x in call.legs] for call in calls] == [["a1", "a2"], ["b1", "b2"], ["c"]]


def test_legs_without_ids_are_one_call_while_the_caller_is_on_the_line_or_5_seconds_after() -> None:
    first = leg("dial", disposition="NO ANSWER", billsec=0, seconds=20)
    ends = FRIDAY + timedelta(seconds=20)
    assert len(group_calls([first, leg("vm", at=ends + 5 * SECOND, lastapp="VoiceMail", dstchannel="")])) == 1
    assert len(group_calls([first, leg("again", at=ends + 6 * SECOND)])) == 2
    assert len(group_calls([first, leg("other", at=FRIDAY + SECOND, number="79037654321")])) == 2
    outgoing = leg("out", direction="out", at=FRIDAY + SECOND)
    assert len(group_calls([first, outgoing])) == 2  # only incoming legs are grouped by caller


def test_a_ring_group_answered_by_a_colleague_is_nobodys_missed_call() -> None:
    ring = [leg("101", disposition="NO ANSWER", billsec=0, uniqueid="U"), leg("102", employee="m2", uniqueid="U")]
    assert missed_not_returned(ring, PERIOD, AS_OF, 4) == []


def test_a_call_nobody_answered_is_each_ringing_managers_finding() -> None:
    ring = [leg("101", disposition="NO ANSWER", billsec=0, uniqueid="U"),
            leg("102", employee="m2", disposition="NO ANSWER", billsec=0, uniqueid="U"),
            leg("103", employee="m3", disposition="CONGESTION", billsec=0, uniqueid="U")]  # fmt: skip
    found = missed_not_returned(ring, PERIOD, AS_OF, 4)
    assert [(f.manager_id, f.subject_id) for f in found] == [("m1", "101"), ("m2", "101")]


def test_voicemail_is_a_missed_call_and_does_not_return_one() -> None:
    dial = leg("dial", disposition="NO ANSWER", billsec=0, seconds=20)
    voicemail = leg("vm", at=FRIDAY + 20 * SECOND, lastapp="VoiceMail", dstchannel="", billsec=30)
    later = leg("vm-later", at=FRIDAY + timedelta(hours=1), lastapp="VoiceMail", dstchannel="", billsec=6)
    found = missed_not_returned([dial, voicemail, later], PERIOD, AS_OF, 4)
    assert [f.subject_id for f in found] == ["dial", "vm-later"]
    assert abnormal_durations([], [dial, voicemail, later], PERIOD, LIMITS) == []  # nobody's conversation


def test_a_queue_without_an_agent_is_no_ones_call() -> None:
    queue = leg("queue", employee="", direction="external", lastapp="Queue", dstchannel="", billsec=60)
    assert missed_not_returned([queue], PERIOD, AS_OF, 4) == []
    assert conversations(group_calls([queue])) == []


def test_a_queue_agent_on_two_legs_is_one_conversation() -> None:
    queue = leg("queue", lastapp="Queue", dstchannel="Local/101@from-queue-1;1", billsec=10, linkedid="L")
    agent = leg("agent", at=FRIDAY + 2 * SECOND, billsec=10, uniqueid="U2", linkedid="L")
    found = abnormal_durations([], [queue, agent], PERIOD, LIMITS)
    assert [(f.subject_id, f.value) for f in found] == [("queue", 10)]


# --- matching 1C with the PBX ------------------------------------------------------------------------------


def test_match_window_boundaries_5_minutes_is_the_same_call_5_01_is_not() -> None:
    talk = [leg("pbx", billsec=3)]
    five, just_over = timedelta(minutes=5), timedelta(minutes=5, seconds=1)
    for apart, matched in [(five, True), (-five, True), (just_over, False), (-just_over, False)]:
        found = abnormal_durations([typed("1c", at=FRIDAY + apart, seconds=60)], talk, PERIOD, LIMITS)
        if matched:  # one conversation, judged by its 3 billed seconds, reported on the 1C call
            assert [(f.subject_id, f.value, f.source) for f in found] == [("1c", 3, "pbx")]
        else:  # two: the typed 60 s is fine, the PBX's 3 s is not
            assert [(f.subject_id, f.value, f.source) for f in found] == [("pbx", 3, "pbx")]


def test_a_match_needs_the_same_manager_and_the_same_number_when_1c_has_one() -> None:
    talk = conversations(group_calls([leg("pbx", number="+7 916 123-45-67")]))
    window = timedelta(minutes=5)
    assert match_calls([typed("same", phone="89161234567")], talk, window).keys() == {"same"}
    assert match_calls([typed("unknown")], talk, window).keys() == {"unknown"}
    assert match_calls([typed("other", phone="89037654321")], talk, window) == {}
    assert match_calls([typed("colleague", manager="m2")], talk, window) == {}


def test_each_conversation_matches_one_1c_call_the_closest() -> None:
    talk = conversations(group_calls([leg("pbx")]))
    early, close = typed("early", at=FRIDAY - timedelta(minutes=3)), typed("close", at=FRIDAY + timedelta(minutes=1))
    matched = match_calls([early, close], talk, timedelta(minutes=5))
    assert {k: v.leg_id for k, v in matched.items()} == {"close": "pbx"}


def test_a_pair_across_the_periods_start_belongs_to_the_1c_calls_day() -> None:
    start = PERIOD.start
    before = typed("thursday", at=start - timedelta(minutes=2), seconds=60)
    pbx = leg("friday", at=start + timedelta(minutes=1), billsec=3)
    assert abnormal_durations([before], [pbx], PERIOD, LIMITS) == []  # Thursday's conversation, not Friday's


conversation_kinds = st.lists(
    st.tuples(st.sampled_from(["1c", "pbx", "both"]), st.integers(0, 3000), st.integers(1, 3000),
              st.integers(-300, 300)),
    max_size=12,
)  # fmt: skip


@given(conversation_kinds)
def test_a_conversation_counts_once_whatever_the_sources(kinds: list[tuple[str, int, int, int]]) -> None:
    """Conversations 20 minutes apart, each known to 1C only, to the PBX only, or to both (the PBX
    within ±5 minutes of the 1C record): one finding per abnormal conversation and none for a normal
    one, judged by the PBX's billed seconds whenever the PBX has the call."""
    activities, calls, expected = [], [], {}
    for n, (kind, typed_seconds, billsec, offset) in enumerate(kinds):
        at = FRIDAY + timedelta(minutes=20 * n)
        if kind in ("1c", "both"):
            activities.append(typed(f"i{n}", at=at, seconds=typed_seconds))
        if kind in ("pbx", "both"):
            calls.append(leg(f"p{n}", at=at + timedelta(seconds=offset), billsec=billsec, number=f"7916000{n:04d}"))
        judged = typed_seconds if kind == "1c" else billsec
        if judged < LIMITS.call_min_seconds or judged > LIMITS.call_max_seconds:
            expected[n] = judged
    found = abnormal_durations(activities, calls, PERIOD, LIMITS)
    by_conversation = {int(f.subject_id[1:]): f.value for f in found}
    assert len(by_conversation) == len(found)  # never two findings for one conversation
    assert by_conversation == expected


def test_the_worked_example_of_call_length() -> None:
    """docs/discipline.md, "Call length from both sources"."""
    at = datetime(2026, 11, 27)
    activities = [
        typed("i1", at=at.replace(hour=11), seconds=5),
        typed("i2", at=at.replace(hour=12, minute=2), seconds=60),
        typed("i3", at=at.replace(hour=15), seconds=10),
    ]
    calls = [
        leg("p-12:00", at=at.replace(hour=12), billsec=8, number="79160000001"),
        leg("p-15:04", at=at.replace(hour=15, minute=4), billsec=300, number="79160000002"),
        leg("p-14:00", at=at.replace(hour=14), billsec=2400, direction="out", number="79160000003"),
        leg("p-16:00", at=at.replace(hour=16), billsec=6, lastapp="VoiceMail", dstchannel="", number="79160000004"),
    ]
    found = abnormal_durations(activities, calls, PERIOD, LIMITS)
    assert [(f.subject_id, f.value, f.source) for f in found] == [
        ("i1", 5, "1c"), ("i2", 8, "pbx"), ("p-14:00", 2400, "pbx")
    ]  # fmt: skip


# --- as of a moment ----------------------------------------------------------------------------------------


def test_known_at_leaves_out_what_happened_after_the_moment() -> None:
    friday_14, tuesday_10, tuesday_12 = datetime(2026, 11, 27, 14), datetime(2026, 12, 1, 10), datetime(2026, 12, 1, 12)
    plan_done_later = Activity("i3", "call", "m1", "c2", "Бета", "", friday_14, tuesday_12, 100, "done",
                               datetime(2026, 12, 5))  # fmt: skip
    typed_later = Activity("i2", "call", "m1", "c1", "Альфа", "", tuesday_10, tuesday_10, 100, "done")
    future_plan = Activity("i4", "call", "m1", "c1", "Альфа", "", datetime(2026, 12, 2, 10), None, None, "planned")
    done_before = Activity("i1", "call", "m1", "c1", "Альфа", "", None, datetime(2026, 11, 27, 11), 100, "done")
    known = known_at([plan_done_later, typed_later, future_plan, done_before], AS_OF)
    assert [(a.id, a.status, a.done_at, a.duration_s) for a in known] == [
        ("i3", "planned", None, None), ("i4", "planned", None, None), ("i1", "done", datetime(2026, 11, 27, 11), 100)
    ]  # fmt: skip


moments_after = st.integers(min_value=1, max_value=60 * 24 * 10).map(lambda m: AS_OF + timedelta(minutes=m))


@settings(max_examples=60)
@given(
    st.lists(st.tuples(st.sampled_from(["typed", "leg", "completion"]), moments_after, st.integers(0, 4000)),
             max_size=8),
    st.lists(st.tuples(st.integers(0, 60 * 24 * 3), st.integers(0, 4000), st.booleans()), max_size=8),
)  # fmt: skip
def test_a_replayed_day_does_not_change_with_data_dated_after_its_moment(
    later: list[tuple[str, datetime, int]], before: list[tuple[int, int, bool]]
) -> None:
    """The day's records (calls and legs from Friday 00:00 to the digest moment, some planned), then
    anything dated after the digest moment: new typed calls, new legs from the same numbers, and the
    completion of a planned call. The findings stay the same."""
    start = datetime(2026, 11, 27)
    activities: list[Activity] = []
    calls: list[PhoneCall] = []
    for n, (minute, seconds, answered) in enumerate(before):
        at = start + timedelta(minutes=minute)
        if at > AS_OF:
            continue
        if n % 2:
            activities.append(
                Activity(f"b{n}", "call", "m1", f"k{n % 3}", "Клиент", "Иванов", at, None, None, "planned")
            )
        else:
            disposition = "ANSWERED" if answered else "NO ANSWER"
            number = f"7916000000{n % 3}"
            billsec = seconds if answered else 0
            calls.append(leg(f"l{n}", at=at, billsec=billsec, disposition=disposition, number=number))
            activities.append(typed(f"t{n}", at=at, seconds=seconds, client=f"k{n % 3}"))
    papers: list[Paper] = []
    base = discipline(activities, calls, papers, PERIOD, DAY, AS_OF, LIMITS)
    more_activities, more_calls = list(activities), list(calls)
    for n, (kind, at, seconds) in enumerate(later):
        if kind == "typed":
            more_activities.append(typed(f"x{n}", at=at, seconds=seconds, client=f"k{n % 3}"))
        elif kind == "leg":
            more_calls.append(leg(f"y{n}", at=at, billsec=seconds, number=f"7916000000{n % 3}"))
        else:
            planned = [i for i, a in enumerate(more_activities) if a.status == "planned"]
            if planned:
                i = planned[n % len(planned)]
                more_activities[i] = replace(more_activities[i], status="done", done_at=at, duration_s=seconds)
    assert discipline(more_activities, more_calls, papers, PERIOD, DAY, AS_OF, LIMITS) == base


# --- the summary the digest and /team read -----------------------------------------------------------------


def test_the_summary_counts_today_the_trend_and_the_every_day_escalation() -> None:
    def on(day: date, rule: Rule, subject: str) -> tuple[date, Finding]:
        return day, Finding(rule, "m1", subject, datetime.combine(day, datetime.min.time()))

    week = working_week(DAY, lambda d: d - timedelta(days=3 if d.weekday() == 0 else 1))
    assert week == [DAY, date(2026, 11, 27), date(2026, 11, 26), date(2026, 11, 25), date(2026, 11, 24)]
    reported = [on(d, Rule.NO_CONTACT, f"i{n}") for n, d in enumerate(week)]
    reported += [on(d, Rule.ORIGINALS, "d1") for d in week]  # a state: escalated by age, not every day
    reported += [on(DAY, Rule.MISSED, "p1"), on(date(2026, 11, 27), Rule.MISSED, "p1")]  # reported twice: one
    reported += [on(date(2026, 11, 20), Rule.NO_CONTACT, "old")]
    summary = discipline_summary(reported, DAY, week)
    assert summary.counts == {Rule.NO_CONTACT: 1, Rule.MISSED: 1, Rule.ORIGINALS: 1} and summary.total == 3
    assert (summary.week, summary.previous_week) == (6, 1)
    assert summary.every_day == {Rule.NO_CONTACT}


# --- grouping is a partition, whatever the order ---------------------------------------------------------------

legs_strategy = st.lists(
    st.builds(
        lambda n, minute, number, uid, lid, direction, billsec: leg(
            f"l{n}", at=FRIDAY + timedelta(seconds=minute), number=number, uniqueid=uid, linkedid=lid,
            direction=direction, billsec=billsec),
        st.integers(0, 10**6), st.integers(0, 600), st.sampled_from(["791600000001", "791600000002", ""]),
        st.sampled_from(["", "U1", "U2"]), st.sampled_from(["", "L1"]), st.sampled_from(["in", "out", "external"]),
        st.integers(0, 90),
    ),
    max_size=15,
    unique_by=lambda x: x.id,
)  # fmt: skip


@given(legs_strategy, st.randoms())
def test_every_leg_is_in_exactly_one_call_whatever_the_order(legs: list[PhoneCall], random: object) -> None:
    calls = group_calls(legs)
    assert sorted(x.id for call in calls for x in call.legs) == sorted(x.id for x in legs)
    shuffled = list(legs)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert {frozenset(x.id for x in c.legs) for c in group_calls(shuffled)} == {
        frozenset(x.id for x in c.legs) for c in calls
    }
    for call in calls:  # legs sharing an id are never split
        for other in calls:
            if other is not call:
                assert not {x.uniqueid for x in call.legs if x.uniqueid} & {
                    x.uniqueid for x in other.legs if x.uniqueid
                }

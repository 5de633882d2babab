"""Discipline: control built into the system (calls, meetings, follow-ups, missed calls, signed
originals). Pure; the rules and a worked example are in ``docs/discipline.md``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.rules.months import Kopecks

# --------------------------------------------------------------------------------------------------
# Discipline: control built into the system
# --------------------------------------------------------------------------------------------------
#
# Every time here is naive local time (the office's TIMEZONE), as 1C and the PBX write it.


class Rule(StrEnum):
    NOT_DONE = "not_done"  # planned call or meeting, its time passed, neither done nor cancelled
    DURATION = "duration"  # a done call shorter than CALL_MIN_SECONDS or longer than CALL_MAX_SECONDS
    NO_CONTACT = "no_contact"  # a done call or meeting without a contact person
    NO_FOLLOW_UP = "no_follow_up"  # a done call with a client and nothing planned after it
    MISSED = "missed"  # an incoming PBX call not answered and not returned within CALLBACK_HOURS
    ORIGINALS = "originals"  # a document whose signed original has not come back


RULE_ORDER = tuple(Rule)
# Dispositions of a leg that rang a phone nobody picked up. A call is missed when no leg of it was
# answered by a person (``answered_by_person``): ANSWERED by VoiceMail is missed too. CONGESTION
# (the PBX found no way to the phone) rang nobody.
MISSED_DISPOSITIONS = frozenset({"NO ANSWER", "BUSY", "FAILED"})
# ``lastapp`` values (lower case) of records answered by the PBX itself, not by a person: voicemail,
# announcements, IVR menus and the like. Asterisk's application names; FreePBX's IVR runs BackGround.
APPLICATIONS = frozenset({
    "voicemail", "voicemailmain", "vm", "playback", "background", "read", "ivr", "answer", "hangup", "echo",
    "milliwatt", "festival", "agi", "waitexten", "wait", "system", "morsecode", "sayalpha", "saydigits",
    "saynumber", "busy", "congestion", "playtones", "macro", "gosub",
})  # fmt: skip
LEG_GAP_SECONDS = 5  # legs without a shared id: the same caller, starting within the call or 5 s after


@dataclass(frozen=True, slots=True)
class Thresholds:
    call_min_seconds: int = 20
    call_max_seconds: int = 1800
    callback_hours: int = 4
    originals_grace_days: int = 5
    originals_escalate_days: int = 30
    call_match_minutes: int = 5  # a 1C call and a PBX conversation this close (inclusive) are one call


@dataclass(frozen=True, slots=True)
class Activity:
    """A call or a meeting from 1C."""

    id: str
    kind: str  # call | meeting
    manager_id: str
    client_id: str | None
    client: str
    contact: str
    planned_at: datetime | None
    done_at: datetime | None
    duration_s: int | None
    status: str  # planned | done | cancelled
    next_at: datetime | None = None
    phone: str = ""  # the client's number, when 1C carries it ("" unknown): a PBX match must agree


@dataclass(frozen=True, slots=True)
class PhoneCall:
    """One PBX record: one leg of a call (internal calls are left out). ``employee_id`` is ``""``
    for a leg that rang no manager's extension (a queue, an IVR, a trunk)."""

    id: str
    employee_id: str
    direction: str  # in | out | external
    started_at: datetime
    disposition: str  # ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION
    billsec: int
    number: str  # the other party: src of an incoming call, dst of an outgoing one
    dstchannel: str = ""  # the answering channel: empty when an application answered (or nobody)
    lastapp: str = ""  # Dial, Queue, VoiceMail, Playback… ("" when the shape does not say)
    uniqueid: str = ""  # shared by the legs of one call (ring groups, transfers)
    linkedid: str = ""  # shared by every leg of one call in newer shapes (queues' Local channels)
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Paper:
    """A document whose signed original should come back."""

    id: str
    manager_id: str
    client: str
    kind: str
    number: str
    doc_date: date
    amount: Kopecks | None
    received: bool  # as of the digest day: an original received later was not back yet


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    manager_id: str
    subject_id: str  # the interaction's, PBX record's or document's id
    at: datetime  # when it happened (planned time, call time, document date)
    client: str = ""
    contact: str = ""
    value: int = 0  # seconds of a call, hours without a callback, days without the original
    source: str = "1c"  # 1c | pbx
    escalate: bool = False  # goes to the supervisor as well


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in local time."""

    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def day_period(first: date, last_exclusive: date) -> Period:
    return Period(datetime.combine(first, datetime.min.time()), datetime.combine(last_exclusive, datetime.min.time()))


def phone_key(number: str) -> str:
    """The number to match calls by: digits only, the last ten (``+7 912…`` = ``8912…`` = ``912…``)."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return digits[-10:]


def not_done(activities: Iterable[Activity], period: Period) -> list[Finding]:
    """Rule 1: planned in the period (so before today), still neither done nor cancelled."""
    return [
        Finding(Rule.NOT_DONE, a.manager_id, a.id, a.planned_at, a.client, a.contact)
        for a in activities
        if a.status == "planned" and a.planned_at is not None and a.planned_at in period
    ]


# --------------------------------------------------------------------------------------------------
# Calls: the PBX's legs grouped into calls, and matched with the calls typed into 1C
# --------------------------------------------------------------------------------------------------


def answered_by_person(leg: PhoneCall) -> bool:
    """A leg somebody talked on: ANSWERED with billed seconds, bridged to a channel (``dstchannel``),
    and not answered by an application (``lastapp`` VoiceMail, Playback, an IVR…). ANSWERED with
    ``billsec`` 0 (picked up and dropped at once) is not a conversation."""
    return (
        leg.disposition == "ANSWERED"
        and leg.billsec > 0
        and bool(leg.dstchannel.strip())
        and leg.lastapp.strip().lower() not in APPLICATIONS
    )


@dataclass(frozen=True, slots=True)
class Call:
    """One call: its legs in the order they started (the first leg names the call)."""

    legs: tuple[PhoneCall, ...]

    @property
    def id(self) -> str:
        return self.legs[0].id

    @property
    def started_at(self) -> datetime:
        return self.legs[0].started_at

    @property
    def incoming(self) -> bool:
        return any(leg.direction == "in" for leg in self.legs)

    @property
    def number(self) -> str:
        """The other party: the caller of an incoming call, the number dialled by an outgoing one."""
        legs = [leg for leg in self.legs if leg.direction == "in"] or list(self.legs)
        return next((leg.number for leg in legs if phone_key(leg.number)), legs[0].number)

    @property
    def answered(self) -> bool:
        return any(answered_by_person(leg) for leg in self.legs)

    @property
    def ringing(self) -> tuple[str, ...]:
        """The managers whose phones this incoming call rang (NO ANSWER, BUSY, FAILED) or whose
        voicemail took it (ANSWERED by an application), in the order their legs started."""
        return tuple(dict.fromkeys(
            leg.employee_id for leg in self.legs
            if leg.direction == "in" and leg.employee_id
            and (leg.disposition in MISSED_DISPOSITIONS or leg.disposition == "ANSWERED")
        ))  # fmt: skip


def _leg_end(leg: PhoneCall) -> datetime:
    return leg.ended_at if leg.ended_at is not None and leg.ended_at > leg.started_at else leg.started_at


def group_calls(legs: Iterable[PhoneCall]) -> list[Call]:
    """The legs of each call together, calls in the order they started.

    Legs are one call when they share a ``uniqueid`` or a ``linkedid`` (Asterisk writes the caller's
    ids on every leg of a ring group, a queue and a transfer), or, for incoming legs, when they come
    from the same number and one starts before the other has ended or within ``LEG_GAP_SECONDS``
    after (a 16-field shape has no ids; a VoiceMail record starts as the Dial record ends).
    """
    ordered = sorted(legs, key=lambda leg: (leg.started_at, leg.id))
    parent = list(range(len(ordered)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first_with: dict[tuple[str, str], int] = {}
    for index, leg in enumerate(ordered):
        for kind, value in (("u", leg.uniqueid), ("l", leg.linkedid)):
            if value:
                join(first_with.setdefault((kind, value), index), index)
    gap = timedelta(seconds=LEG_GAP_SECONDS)
    by_caller: dict[str, tuple[int, datetime]] = {}  # number → (its latest group's leg, that group's end)
    for index, leg in enumerate(ordered):
        key = phone_key(leg.number)
        if leg.direction != "in" or not key:
            continue
        previous = by_caller.get(key)
        if previous is not None and leg.started_at <= previous[1] + gap:
            join(previous[0], index)
            by_caller[key] = (index, max(previous[1], _leg_end(leg)))
        else:
            by_caller[key] = (index, _leg_end(leg))
    groups: dict[int, list[PhoneCall]] = {}
    for index, leg in enumerate(ordered):
        groups.setdefault(root(index), []).append(leg)
    return [Call(tuple(group)) for _, group in sorted(groups.items())]


@dataclass(frozen=True, slots=True)
class Conversation:
    """A manager's conversation on one call, as the PBX measured it: that manager's longest leg
    answered by a person (a queue writes the agent twice: the Local channel and the phone)."""

    employee_id: str
    leg_id: str
    started_at: datetime
    billsec: int
    number: str


def conversations(calls: Iterable[Call]) -> list[Conversation]:
    """Each manager's conversation on each call (a transferred call is a conversation of each)."""
    found: list[Conversation] = []
    for call in calls:
        longest: dict[str, PhoneCall] = {}
        for leg in call.legs:
            if leg.employee_id and answered_by_person(leg):
                best = longest.get(leg.employee_id)
                if best is None or leg.billsec > best.billsec:
                    longest[leg.employee_id] = leg
        found.extend(
            Conversation(employee, leg.id, leg.started_at, leg.billsec, call.number)
            for employee, leg in longest.items()
        )
    return found


def match_calls(typed: Sequence[Activity], talks: Sequence[Conversation], window: timedelta) -> dict[str, Conversation]:
    """Which PBX conversation each 1C call is (by the 1C call's id): the same manager's, starting
    within ``window`` of the 1C call's ``done_at`` (inclusive), with the same number when 1C knows
    the client's. One to one, closest first (ties by ids), so each conversation counts once."""
    by_manager: dict[str, list[Conversation]] = {}
    for talk in talks:
        by_manager.setdefault(talk.employee_id, []).append(talk)
    candidates = []
    for a in typed:
        if a.done_at is None:
            continue
        for talk in by_manager.get(a.manager_id, ()):
            apart = abs(talk.started_at - a.done_at)
            if apart > window or (phone_key(a.phone) and phone_key(a.phone) != phone_key(talk.number)):
                continue
            candidates.append((apart, a.id, talk.leg_id, talk))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    matched: dict[str, Conversation] = {}
    taken: set[str] = set()
    for _, activity_id, leg_id, talk in candidates:
        if activity_id not in matched and leg_id not in taken:
            matched[activity_id] = talk
            taken.add(leg_id)
    return matched


def abnormal_durations(
    activities: Iterable[Activity], calls: Iterable[PhoneCall], period: Period, limits: Thresholds
) -> list[Finding]:
    """Rule 2: a conversation shorter than the minimum or longer than the maximum, each counted once
    (``docs/discipline.md``, "Call length from both sources"):

    - a done 1C call matched to a PBX conversation (``match_calls``) is judged by the measured
      ``billsec`` (the finding is the 1C call's, ``source`` "pbx");
    - a done 1C call with no PBX counterpart by its typed ``duration_s``;
    - a PBX conversation with no 1C call by its ``billsec``.

    A pair belongs to the period of the 1C call; pass the records from ``call_match_minutes`` before
    the period on, so a pair across its start is matched. Voicemail, IVR and unanswered legs are
    nobody's conversation (rule 5 judges them).
    """

    def abnormal(seconds: int) -> bool:
        return seconds < limits.call_min_seconds or seconds > limits.call_max_seconds

    typed = [a for a in activities if a.kind == "call" and a.status == "done" and a.done_at is not None]
    talks = conversations(group_calls(calls))
    matched = match_calls(typed, talks, timedelta(minutes=limits.call_match_minutes))
    taken = {talk.leg_id for talk in matched.values()}
    findings = []
    for a in typed:
        assert a.done_at is not None
        if a.done_at not in period:
            continue
        talk = matched.get(a.id)
        seconds, source = (talk.billsec, "pbx") if talk is not None else (a.duration_s, "1c")
        if seconds is not None and abnormal(seconds):
            findings.append(Finding(Rule.DURATION, a.manager_id, a.id, a.done_at, a.client, a.contact, seconds,
                                    source))  # fmt: skip
    for talk in talks:
        if talk.leg_id not in taken and talk.started_at in period and abnormal(talk.billsec):
            findings.append(Finding(Rule.DURATION, talk.employee_id, talk.leg_id, talk.started_at, talk.number,
                                    value=talk.billsec, source="pbx"))  # fmt: skip
    return findings


def no_contact(activities: Iterable[Activity], period: Period) -> list[Finding]:
    """Rule 3: a done call or meeting with no contact person."""
    return [
        Finding(Rule.NO_CONTACT, a.manager_id, a.id, a.done_at, a.client)
        for a in activities
        if a.status == "done" and a.done_at is not None and a.done_at in period and not a.contact.strip()
    ]


def _client_key(a: Activity) -> str:
    return a.client_id or a.client.strip().casefold()


def no_follow_up(activities: Sequence[Activity], period: Period) -> list[Finding]:
    """Rule 4: a done call with a client, with no ``next_at`` and no later interaction with that
    client (planned or done, by anyone): nothing was planned after it."""
    later: dict[str, datetime] = {}  # the latest planned or done moment per client
    for a in activities:
        if a.status == "cancelled" or not _client_key(a):
            continue
        for moment in (a.planned_at, a.done_at):
            if moment is not None and moment > later.get(_client_key(a), datetime.min):
                later[_client_key(a)] = moment
    return [
        Finding(Rule.NO_FOLLOW_UP, a.manager_id, a.id, a.done_at, a.client, a.contact)
        for a in activities
        if a.kind == "call"
        and a.status == "done"
        and a.done_at is not None
        and a.done_at in period
        and _client_key(a)
        and a.next_at is None
        and later.get(_client_key(a), datetime.min) <= a.done_at
    ]


def missed_not_returned(calls: Sequence[PhoneCall], period: Period, now: datetime, hours: int) -> list[Finding]:
    """Rule 5, judged on calls, not legs (``group_calls``): an incoming call in the period that no
    person answered (voicemail, an IVR or a queue without an agent is no answer), and no call with
    the same number answered by a person, in either direction, within ``hours`` after it (``hours``
    inclusive). It is a finding for each manager whose phone rang (``Call.ringing``); a call one
    of a ring group's managers answered is nobody's missed call. A call whose window is still open
    at ``now`` is not judged yet. ``calls`` are legs; pass the legs up to ``now``."""
    window = timedelta(hours=hours)
    grouped = group_calls(calls)
    answered: dict[str, list[datetime]] = {}
    for call in grouped:
        if call.answered and phone_key(call.number):
            answered.setdefault(phone_key(call.number), []).append(call.started_at)
    findings: list[Finding] = []
    for call in grouped:
        key = phone_key(call.number)
        if not call.incoming or call.answered or call.started_at not in period:
            continue
        if not key or call.started_at + window > now:
            continue
        if any(call.started_at < t <= call.started_at + window for t in answered.get(key, [])):
            continue
        findings.extend(
            Finding(Rule.MISSED, employee, call.id, call.started_at, call.number, value=hours, source="pbx")
            for employee in call.ringing
        )
    return findings


def original_age(paper: Paper, today: date) -> int:
    """Days since the document's date (the document of yesterday is 1 day old)."""
    return (today - paper.doc_date).days


def original_overdue(paper: Paper, today: date, limits: Thresholds) -> bool:
    """The signed original is not back and the document is more than ``originals_grace_days`` old
    (day 5 is still fine, day 6 is overdue)."""
    return not paper.received and original_age(paper, today) > limits.originals_grace_days


def original_escalated(paper: Paper, today: date, limits: Thresholds) -> bool:
    """Overdue and more than ``originals_escalate_days`` old: the supervisor's business too."""
    return not paper.received and original_age(paper, today) > limits.originals_escalate_days


def originals_missing(papers: Iterable[Paper], today: date, limits: Thresholds) -> list[Finding]:
    """Rule 6: every overdue original (``original_overdue``), escalated past ``originals_escalate_days``
    (``original_escalated``). Oldest first."""
    findings = []
    for paper in papers:
        if original_overdue(paper, today, limits):
            dated = datetime.combine(paper.doc_date, datetime.min.time())
            findings.append(Finding(Rule.ORIGINALS, paper.manager_id, paper.id, dated, paper.client,
                                    value=original_age(paper, today),
                                    escalate=original_escalated(paper, today, limits)))  # fmt: skip
    return sorted(findings, key=lambda f: (f.at, f.subject_id))


def known_at(activities: Iterable[Activity], as_of: datetime) -> list[Activity]:
    """The interactions as 1C showed them at ``as_of`` (local), so a replay of a past morning sees what
    that morning saw, whatever was imported since (``docs/discipline.md``, "As of a moment"). 1C's
    exports carry no creation time, so:

    - done after ``as_of`` and planned for another moment: at ``as_of`` it was still a plan (no
      ``done_at``, duration or ``next_at``: they are filled in on completion);
    - done after ``as_of`` with no separate plan (``planned_at`` empty or equal): not there yet;
    - a plan (``planned``, ``cancelled``) as it is: a plan is taken as made before its date, and a
      cancellation carries no date.
    """
    known = []
    for a in activities:
        if a.status == "done" and a.done_at is not None and a.done_at > as_of:
            if a.planned_at is None or a.planned_at == a.done_at:
                continue
            a = replace(a, status="planned", done_at=None, duration_s=None, next_at=None)
        known.append(a)
    return known


def discipline(
    activities: Sequence[Activity],
    calls: Sequence[PhoneCall],
    papers: Iterable[Paper],
    period: Period,
    today: date,
    now: datetime,
    limits: Thresholds,
) -> list[Finding]:
    """Every rule's findings for ``period``, as of ``now`` (local: the digest moment of ``today``).

    ``activities`` should hold every interaction of the clients concerned from ``call_match_minutes``
    before the period on (rule 4 looks for later ones), ``calls`` every PBX leg from then to ``now``
    (rule 5 looks for callbacks). Whatever is dated after ``now`` is left out (``known_at``), so the
    findings of a day never change with data that came later. ``papers`` are as of ``today``.
    """
    activities = known_at(activities, now)
    calls = [c for c in calls if c.started_at <= now]
    return [
        *not_done(activities, period),
        *abnormal_durations(activities, calls, period, limits),
        *no_contact(activities, period),
        *no_follow_up(activities, period),
        *missed_not_returned(calls, period, now, limits.callback_hours),
        *originals_missing(papers, today, limits),
    ]


def counts_by_rule(findings: Iterable[Finding]) -> dict[Rule, int]:
    """Non-zero counts, in the rules' order."""
    counts = {rule: 0 for rule in RULE_ORDER}
    for finding in findings:
        counts[finding.rule] += 1
    return {rule: n for rule, n in counts.items() if n}


def every_day(days_with_rule: Sequence[set[Rule]]) -> set[Rule]:
    """The rules broken on each of the given days (a week of working days): the escalation."""
    if not days_with_rule:
        return set()
    common = set(days_with_rule[0])
    for rules in days_with_rule[1:]:
        common &= rules
    return common


# --------------------------------------------------------------------------------------------------
# A manager's discipline as the digest, /team and the escalations show it (from stored findings)
# --------------------------------------------------------------------------------------------------

WEEK = 5  # working days: a rule broken on each of them is escalated
TREND_DAYS = 7  # the week of the trend, in calendar days of digests


def period_of(day: date, previous_working_day: date | None) -> Period:
    """The period a digest day reports: from the previous working day's start (or the day before,
    when the calendar knows none) to ``day``'s start."""
    return day_period(previous_working_day or day - timedelta(days=1), day)


def working_week(day: date, previous_working_day: Callable[[date], date | None]) -> list[date]:
    """``day`` and the working days before it, newest first, up to ``WEEK`` of them."""
    days = [day]
    while len(days) < WEEK:
        earlier = previous_working_day(days[-1])
        if earlier is None:
            break
        days.append(earlier)
    return days


def originals_overdue(findings: Iterable[Finding]) -> list[Finding]:
    """The originals past ``ORIGINALS_ESCALATE_DAYS``: the supervisor's escalation."""
    return [f for f in findings if f.rule is Rule.ORIGINALS and f.escalate]


@dataclass(frozen=True)
class Discipline:
    """One manager's discipline as the digest and /team show it."""

    counts: dict[Rule, int]  # the day's non-zero counts
    total: int  # the day's findings
    week: int  # the findings of the last 7 days' digests (event rules; originals are a state)
    previous_week: int  # of the 7 days before
    every_day: set[Rule]  # event rules (1–5) broken on each of the last WEEK working days
    originals_overdue: list[Finding]  # originals past ORIGINALS_ESCALATE_DAYS


def discipline_summary(reported: Iterable[tuple[date, Finding]], day: date, week_days: Sequence[date]) -> Discipline:
    """A manager's summary for ``day`` from the findings of the digests of its last 14 days
    (``(digest day, finding)``) and ``working_week(day)``. The trend counts distinct findings of
    rules 1–5 (an unchanged finding reported on two days is one) in the 7 days up to ``day``
    against the 7 before; the escalation is a rule of 1–5 broken on each of ``WEEK`` working days
    (originals are a state, escalated by their age instead)."""
    own = list(reported)
    today = [f for d, f in own if d == day]
    events = [(d, f) for d, f in own if f.rule is not Rule.ORIGINALS]
    week = {(f.rule, f.subject_id) for d, f in events if d > day - timedelta(days=TREND_DAYS)}
    before = {(f.rule, f.subject_id) for d, f in events if d <= day - timedelta(days=TREND_DAYS)} - week
    by_day = [{f.rule for d, f in own if d == wd} for wd in week_days]
    counts = counts_by_rule(today)
    return Discipline(
        counts=counts,
        total=sum(counts.values()),
        week=len(week),
        previous_week=len(before),
        every_day=every_day(by_day) - {Rule.ORIGINALS} if len(week_days) == WEEK else set(),
        originals_overdue=originals_overdue(today),
    )

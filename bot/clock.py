"""Time's one home: conversions between UTC (what kpibot stores for its own events: imports, sends,
invitations) and the office's local time (what people see, what 1C writes, and what the PBX's times
become on import).

Every function says in its parameters' names which kind of moment it takes and returns:
``*_utc`` is a naive UTC timestamp as the database holds it, ``*_local`` a naive wall-clock time in
the office's zone, ``wall`` a naive wall-clock time in a zone given beside it. Pure: no clock is read
here; callers pass ``now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo


def local_of_utc(moment_utc: datetime, office: tzinfo) -> datetime:
    """A naive UTC timestamp (from the database) as the office's naive local time.

    ``local_of_utc(datetime(2019, 2, 26, 3, 0), ZoneInfo("Europe/Moscow"))`` → ``2019-02-26 06:00``.
    """
    return moment_utc.replace(tzinfo=UTC).astimezone(office).replace(tzinfo=None)


def maybe_local_of_utc(moment_utc: datetime | None, office: tzinfo) -> datetime | None:
    """:func:`local_of_utc`, passing ``None`` through (nothing imported yet, never sent)."""
    return None if moment_utc is None else local_of_utc(moment_utc, office)


def utc_of_local(moment_local: datetime, office: tzinfo) -> datetime:
    """The office's naive local time as a naive UTC timestamp (for comparing with stored ones)."""
    return moment_local.replace(tzinfo=office).astimezone(UTC).replace(tzinfo=None)


def local_of_aware(moment: datetime, office: tzinfo) -> datetime:
    """Any moment as the office's naive local time: an aware one is converted, a naive one is taken to
    be local already (the bot's clock is aware in the office's zone, tests pass either)."""
    return moment if moment.tzinfo is None else moment.astimezone(office).replace(tzinfo=None)


def utc_of_aware(moment: datetime) -> datetime:
    """An aware moment as a naive UTC timestamp, the database's form."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def office_wall_time(wall: datetime, written_in: tzinfo, office: tzinfo) -> datetime:
    """A naive wall-clock time written in ``written_in`` (the PBX's ``PBX_TIMEZONE``; ``usegmtime=yes``
    in Asterisk's ``cdr.conf`` writes UTC) as the office's naive local time.

    ``office_wall_time(datetime(2026, 11, 30, 6, 30), UTC, ZoneInfo("Europe/Moscow"))`` → 09:30 on
    Monday 30.11.2026, so the call is Monday's. An aware ``wall`` (an ISO time with an offset) keeps
    its own offset. Equal zones return ``wall`` unchanged.
    """
    if wall.tzinfo is not None:
        return wall.astimezone(office).replace(tzinfo=None)
    if written_in == office:
        return wall
    return wall.replace(tzinfo=written_in).astimezone(office).replace(tzinfo=None)


def local_moment(day: date, at: time) -> datetime:
    """The office's naive local time of ``at`` on ``day`` (a digest moment: ``day`` at ``DIGEST_TIME``)."""
    return datetime.combine(day, at)


def local_stamp(moment_utc: datetime, office: tzinfo) -> str:
    """A stored UTC timestamp as the office's ``DD.MM.YYYY HH:MM``."""
    return local_of_utc(moment_utc, office).strftime("%d.%m.%Y %H:%M")

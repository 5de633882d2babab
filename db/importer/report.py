"""What an import says: its problems (one ``file:line: column: value: reason`` each) and its counts."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(value: str) -> str:
    """``value`` with control and line-breaking characters written as escapes (``\\n``, ``\\x00``,
    ``\\u2028``), so that a problem is always exactly one line of printable text."""
    if value.isprintable():
        return value
    out: list[str] = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif (
            char == " "
            or char.isprintable()
            or unicodedata.category(char) not in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
        ):
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# Problems and results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    label: str
    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        value = escape(self.value)
        value = value if len(value) <= 60 else value[:57] + "..."
        return f"{escape(self.label)}:{self.line}: {escape(self.column)}: {value}: {escape(self.reason)}"


class ImportFailed(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was imported")
        self.problems = problems


@dataclass
class Counts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
        }


@dataclass
class ImportReport:
    counts: dict[str, Counts]
    files: list[str]
    finished_at: datetime
    skipped: list[str] = field(default_factory=list)  # byte-identical to the entity's last import
    notes: list[str] = field(default_factory=list)  # rows read past on purpose: title lines, totals


class Progress(Protocol):
    def update(self, n: int) -> Any: ...
    def close(self) -> Any: ...

"""What an import says: its problems (one ``file:line: column: value: reason`` each) and its counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

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
        value = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        return f"{self.label}:{self.line}: {self.column}: {value}: {self.reason}"


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


class Progress(Protocol):
    def update(self, n: int) -> Any: ...
    def close(self) -> Any: ...

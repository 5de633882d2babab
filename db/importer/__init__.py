"""Importing 1C exports and the PBX's CDR: files in, validated rows out, written all or nothing.

- ``vocabulary``: entity and column names with their Russian aliases, CDR shapes.
- ``values``: one parser per value kind (money, dates, periods, flags, choices).
- ``sources``: the readers of CSV, XLSX and ``Master.csv``, streaming raw rows.
- ``rows``: one builder per entity, turning cells into a checked row.
- ``writer``: the all-or-nothing write (upsert, duplicate ids, ``--full`` removal).
- ``run``: ``import_paths``, what ``kpibot import`` calls.
- ``report``: problems and counts.
"""

from __future__ import annotations

from db.importer.report import Counts, ImportFailed, ImportReport, Problem
from db.importer.run import FULL_ENTITIES, MAX_PRINTED_PROBLEMS, import_paths
from db.importer.sources import Source

__all__ = [
    "FULL_ENTITIES",
    "MAX_PRINTED_PROBLEMS",
    "Counts",
    "ImportFailed",
    "ImportReport",
    "Problem",
    "Source",
    "import_paths",
]

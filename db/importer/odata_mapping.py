"""The OData mapping: which 1C entity sets and fields feed which kpibot columns (a TOML file,
documented field by field in docs/odata.md; the default is ``odata_default.toml`` next to this file).

Pure parsing, no I/O beyond reading the file: :func:`load_mapping` returns a :class:`Mapping` or
raises :class:`MappingError` naming the file, the entity and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from db.importer.vocabulary import HEADERS, REQUIRED

DEFAULT_MAPPING = Path(__file__).with_name("odata_default.toml")
SYNCED_ENTITIES = ("employees", "contracts", "payments", "interactions", "documents")
_NAME = re.compile(r"^[A-Za-zА-Яа-яЁё_][0-9A-Za-zА-Яа-яЁё_]*$")
_REFERENCE = re.compile(r"^\s*(\S+)\s*->\s*(\S+)\.(\S+)\s*$")


class MappingError(Exception):
    """A mapping file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ColumnSource:
    """Where one kpibot column comes from: a field of the entry (``field``), the name of what a
    reference field points at (``field`` → ``target_set``.``target_field``), or a constant."""

    field: str = ""
    target_set: str = ""
    target_field: str = ""
    constant: str | None = None


@dataclass(frozen=True)
class EntitySetMapping:
    """One entity set feeding one kpibot entity."""

    entity: str  # employees, contracts, payments, interactions, documents
    entity_set: str  # Catalog_ДоговорыКонтрагентов, Document_ТелефонныйЗвонок, ...
    columns: dict[str, ColumnSource]
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column → 1C value → kpibot value
    filter: str = ""  # an extra $filter, ANDed with the deletion mark (and Posted for documents)
    changed_since: str = ""  # a date field: only entries with it ≥ the last sync − lookback_days
    lookback_days: int = 0

    @property
    def is_document(self) -> bool:
        return self.entity_set.startswith("Document_")

    def fields(self) -> list[str]:
        """The entry's fields this mapping reads ($select), Ref_Key and the marks first."""
        wanted = ["Ref_Key", "DeletionMark"] + (["Posted"] if self.is_document else [])
        for source in self.columns.values():
            if source.field and source.field not in wanted:
                wanted.append(source.field)
        if self.changed_since and self.changed_since not in wanted:
            wanted.append(self.changed_since)
        return wanted

    def references(self) -> dict[str, set[str]]:
        """The entity sets whose names are looked up, with the fields read from them."""
        found: dict[str, set[str]] = {}
        for source in self.columns.values():
            if source.target_set:
                found.setdefault(source.target_set, set()).add(source.target_field)
        return found


@dataclass(frozen=True)
class Mapping:
    path: Path
    sets: tuple[EntitySetMapping, ...]


def parse_column(text: str) -> ColumnSource:
    """``"Номер"``, ``"Контрагент_Key -> Catalog_Контрагенты.Description"`` or ``"=call"``."""
    if text.startswith("="):
        return ColumnSource(constant=text[1:])
    reference = _REFERENCE.match(text)
    if reference is not None:
        source = ColumnSource(reference.group(1), reference.group(2), reference.group(3))
        names: tuple[str, ...] = (source.field, source.target_set, source.target_field)
    else:
        source = ColumnSource(text.strip())
        names = (source.field,)
    if not all(_NAME.match(name) for name in names):
        raise ValueError(
            f"'{text}' is not a field ('Номер'), a reference ('Контрагент_Key -> Catalog_Контрагенты.Description') "
            "or a constant ('=call')"
        )
    return source


def _entity_set(entity: str, index: int, table: dict[str, object], where: str) -> EntitySetMapping:
    here = f"{where}: [[{entity}]] #{index + 1}"
    unknown = set(table) - {"entity_set", "columns", "values", "filter", "changed_since", "lookback_days"}
    if unknown:
        raise MappingError(f"{here}: unknown key {', '.join(sorted(unknown))}")
    entity_set = table.get("entity_set")
    if not isinstance(entity_set, str) or not _NAME.match(entity_set):
        raise MappingError(f"{here}: entity_set must be an entity set's name, e.g. Catalog_Контрагенты")
    here = f"{where}: [[{entity}]] {entity_set}"
    if not entity_set.startswith(("Catalog_", "Document_")):
        raise MappingError(f"{here}: entity_set must be a catalog or a document (Catalog_…, Document_…): "
                           "kpibot reads their Ref_Key and DeletionMark")  # fmt: skip
    raw_columns = table.get("columns")
    if not isinstance(raw_columns, dict):
        raise MappingError(f"{here}: a [{entity}.columns] table is required")
    columns: dict[str, ColumnSource] = {}
    for column, text in raw_columns.items():
        if column not in HEADERS[entity]:
            raise MappingError(f"{here}: columns.{column}: not a column of {entity} "
                               f"(one of: {', '.join(HEADERS[entity])})")  # fmt: skip
        if not isinstance(text, str):
            raise MappingError(f"{here}: columns.{column}: must be a string")
        try:
            columns[column] = parse_column(text)
        except ValueError as error:
            raise MappingError(f"{here}: columns.{column}: {error}") from None
    missing = [c for c in REQUIRED[entity] if c not in columns]
    if missing:
        raise MappingError(f"{here}: columns: required column(s) not mapped: {', '.join(missing)}")
    raw_values = table.get("values", {})
    values: dict[str, dict[str, str]] = {}
    if not isinstance(raw_values, dict):
        raise MappingError(f"{here}: values must be a table")
    for column, translation in raw_values.items():
        if column not in columns or not isinstance(translation, dict):
            raise MappingError(f"{here}: values.{column}: must be a table for a mapped column")
        values[column] = {str(k).lower(): str(v) for k, v in translation.items()}
    extra_filter = table.get("filter", "")
    changed = table.get("changed_since", "")
    lookback = table.get("lookback_days", 0)
    if not isinstance(extra_filter, str):
        raise MappingError(f"{here}: filter must be a string")
    if not isinstance(changed, str) or (changed and not _NAME.match(changed)):
        raise MappingError(f"{here}: changed_since must be a date field's name, e.g. Date")
    if not isinstance(lookback, int) or isinstance(lookback, bool) or not 0 <= lookback <= 3650:
        raise MappingError(f"{here}: lookback_days must be a whole number of days, 0 to 3650")
    return EntitySetMapping(entity, entity_set, columns, values, extra_filter, changed, lookback)


def load_mapping(path: Path | None = None) -> Mapping:
    """Read and check a mapping file (default: :data:`DEFAULT_MAPPING`)."""
    path = path or DEFAULT_MAPPING
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as error:
        raise MappingError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise MappingError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{path}: not valid TOML: {error}") from None
    unknown = [key for key in data if key not in SYNCED_ENTITIES]
    if unknown:
        raise MappingError(f"{path}: unknown entity {', '.join(unknown)} (one of: {', '.join(SYNCED_ENTITIES)})")
    sets: list[EntitySetMapping] = []
    for entity in SYNCED_ENTITIES:  # employees first: contracts name them
        tables = data.get(entity, [])
        if not isinstance(tables, list):
            raise MappingError(f"{path}: {entity} must be an array of tables: [[{entity}]]")
        sets.extend(_entity_set(entity, index, table, str(path)) for index, table in enumerate(tables))
    if not sets:
        raise MappingError(f"{path}: maps no entity set")
    return Mapping(path, tuple(sets))

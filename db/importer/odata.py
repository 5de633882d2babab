"""``kpibot sync``: 1C's standard OData interface (``…/odata/standard.odata/``) as an import source.

Every entity set the mapping (:mod:`db.importer.odata_mapping`) names is read whole or, where it
has a ``changed_since`` date field, since the last successful sync less ``lookback_days``; with
HTTP Basic auth, ``$format=json``, ``$select``, ``$filter`` and paging by ``$top``/``$skip`` in
``Ref_Key`` order. Catalog entries marked for deletion (``DeletionMark``) are left out, in the
``$filter`` and again on arrival; documents are read with their marks, and one marked for deletion
or not posted (``Posted``) is not imported and, if an earlier sync wrote it, is removed: money
unposted in 1C no longer counts. References (``…_Key`` guids)
the mapping names are looked up in their entity set; 1C's empty guid
(``00000000-0000-0000-0000-000000000000``) and empty date (``0001-01-01T00:00:00``) read as empty.

Everything is fetched first; then the entries become one :class:`~db.importer.sources.Source` per
entity set, cells by canonical column, and go through :func:`~db.importer.run.import_sources`, the
same row builders and all-or-nothing writer as a file. A problem names the entry:
``Document_ПриходныйКассовыйОрдер(guid'…'): amount: abc: not an amount``. A network fault, a
timeout or a 5xx answer is retried with exponential backoff; then, as 401, 403 and 404 at once, the
sync stops with one line (:class:`ODataError`) and the database stays as it was.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import aiohttp
from pydantic import SecretStr
from sqlalchemy import select
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from db.importer.odata_mapping import EntitySetMapping, Mapping, load_mapping
from db.importer.report import ImportFailed, ImportReport, Progress, escape
from db.importer.run import import_sources
from db.importer.sources import Source
from db.importer.values import Cell
from db.importer.vocabulary import ENTITIES
from db.models import ImportRun
from db.session import SessionPool

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
EMPTY_DATE = "0001-01-01T00:00:00"
# what a document unposted or marked for deletion in 1C is removed from (nothing references them)
WITHDRAWN_ENTITIES = frozenset({"payments", "interactions", "documents"})
ATTEMPTS = 5  # tries of one request before a network fault or a 5xx answer stops the sync
MESSAGE_LIMIT = 200  # characters of 1C's own error message quoted in a line


class ODataSettings(Protocol):
    """What the sync needs from :class:`bot.settings.Settings`."""

    @property
    def odata_url(self) -> str | None: ...
    @property
    def odata_user(self) -> str: ...
    @property
    def odata_password(self) -> SecretStr: ...
    @property
    def odata_mapping(self) -> Path | None: ...
    @property
    def odata_timeout(self) -> float: ...
    @property
    def odata_page_size(self) -> int: ...
    @property
    def zone(self) -> ZoneInfo: ...


class ODataError(Exception):
    """The sync could not read 1C: one line saying why (401, 403, 404, 5xx, network, timeout)."""


class _Transient(Exception):
    """A fault worth another try: a network error, a timeout, a 5xx answer."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


# --------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------


def _odata_message(body: str) -> str:
    """1C's own reason from an ``odata.error`` answer (JSON or XML), first line, or ``""``."""
    try:
        error = json.loads(body).get("odata.error", {})
        text = str(error.get("message", {}).get("value", ""))
    except (ValueError, AttributeError):
        found = re.search(r"<(?:m:)?message[^>]*>(.*?)</(?:m:)?message>", body, re.DOTALL)
        text = found.group(1) if found else ""
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


class ODataClient:
    """GET requests to one 1C base's standard OData interface, retried on transient faults."""

    def __init__(self, settings: ODataSettings, *, backoff: float = 1.0, attempts: int = ATTEMPTS) -> None:
        if not settings.odata_url:
            raise ODataError("ODATA_URL is not set: put 1C's http://host/base/odata/standard.odata/ into .env")
        self.base = settings.odata_url
        self.timeout = settings.odata_timeout
        self.backoff = backoff
        self.attempts = attempts
        # UTF-8: 1C's users are usually named in Cyrillic (Администратор)
        self._authorization = aiohttp.encode_basic_auth(settings.odata_user, settings.odata_password.get_secret_value())
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ODataClient:
        self._session = aiohttp.ClientSession(
            headers={"Authorization": self._authorization}, timeout=aiohttp.ClientTimeout(total=self.timeout)
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _get_once(self, path: str, params: dict[str, str], what: str) -> str:
        assert self._session is not None, "use the client in 'async with'"
        url = self.base + path
        try:
            async with self._session.get(url, params=params) as answer:
                body = await answer.text(encoding="utf-8", errors="replace")
                status = answer.status
        except TimeoutError:
            raise _Transient(f"1C did not answer {what} within {self.timeout:g} s (ODATA_TIMEOUT)") from None
        except aiohttp.ClientError as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise _Transient(f"нет связи с 1С по адресу {self.base} ({reason})") from None
        if 200 <= status < 300:
            return body
        reason = _odata_message(body)
        said = f": 1C says: {reason}" if reason else ""
        if status == 401:
            raise ODataError(f"1C refused the login (401 Unauthorized) at {self.base}: "
                             f"check ODATA_USER and ODATA_PASSWORD{said}")  # fmt: skip
        if status == 403:
            raise ODataError(f"1C forbids reading {what} (403 Forbidden): give the 1C user ODATA_USER "
                             f"the right to read it{said}")  # fmt: skip
        if status == 404:
            raise ODataError(f"1C has no {what} (404 Not Found) at {self.base}: check ODATA_URL and that the "
                             f"set is published in the OData interface (kpibot sync --check){said}")  # fmt: skip
        if status >= 500:
            raise _Transient(f"1C failed answering {what} ({status}){said}")
        raise ODataError(f"1C answered {what} with {status}{said}")

    async def get(self, path: str, params: dict[str, str], what: str) -> str:
        """The body of a successful answer; :class:`ODataError` after the last try."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff, max=30 * self.backoff),
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._get_once(path, params, what)
        except _Transient as fault:
            raise ODataError(f"{fault.line}; gave up after {self.attempts} attempts") from None
        raise AssertionError("unreachable: tenacity either returns or reraises")  # pragma: no cover

    async def entries(self, entity_set: str, params: dict[str, str], page_size: int,
                      on_page: Callable[[int], None] | None = None) -> list[dict[str, Any]]:  # fmt: skip
        """Every entry of ``entity_set`` the query selects, a page of ``page_size`` at a time."""
        found: list[dict[str, Any]] = []
        skip = 0
        while True:
            page = {**params, "$format": "json", "$orderby": "Ref_Key", "$top": str(page_size), "$skip": str(skip)}
            body = await self.get(entity_set, page, f"{entity_set} (entries {skip + 1}–{skip + page_size})")
            try:
                value = json.loads(body, parse_float=Decimal)["value"]
                if not isinstance(value, list):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise ODataError(f"1C's answer for {entity_set} is not OData JSON with a 'value' list "
                                 "(is ODATA_URL the standard.odata interface?)") from None  # fmt: skip
            found.extend(entry for entry in value if isinstance(entry, dict))
            if on_page is not None:
                on_page(len(value))
            if len(value) < page_size:
                return found
            skip += page_size


# --------------------------------------------------------------------------------------------------
# Entries → cells by canonical column
# --------------------------------------------------------------------------------------------------


def odata_cell(value: Any) -> str:
    """A JSON value as the text a 1C export would hold: ``true``/``false``, exact decimals, and ``""``
    for null, 1C's empty guid and its empty date."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    text = str(value).strip()
    if text == EMPTY_GUID or text.startswith(EMPTY_DATE):
        return ""
    return text


@dataclass
class Unresolved:
    """A reference whose target is not in its entity set."""

    entity_set: str
    guid: str
    column: str
    value: str
    target_set: str


def entry_cells(mapping: EntitySetMapping, entry: dict[str, Any], names: dict[str, dict[str, dict[str, str]]],
                unresolved: list[Unresolved]) -> list[Cell]:  # fmt: skip
    """One entry's cells in the order of ``mapping.columns``."""
    cells: list[Cell] = []
    for column, source in mapping.columns.items():
        if source.constant is not None:
            cells.append(source.constant)
            continue
        raw = odata_cell(entry.get(source.field))
        if source.target_set and raw:
            target = names.get(source.target_set, {}).get(raw)
            if target is None:
                guid = odata_cell(entry.get("Ref_Key"))
                unresolved.append(Unresolved(mapping.entity_set, guid, column, raw, source.target_set))
                raw = ""
            else:
                raw = target.get(source.target_field, "")
        translation = mapping.values.get(column)
        if translation is not None and raw.lower() in translation:
            raw = translation[raw.lower()]
        cells.append(raw)
    return cells


def kept(mapping: EntitySetMapping, entry: dict[str, Any]) -> bool:
    """Not marked for deletion and, for a document, posted."""
    if entry.get("DeletionMark") is True:
        return False
    return not (mapping.is_document and entry.get("Posted") is False)


Names = dict[str, dict[str, dict[str, str]]]  # entity set → guid → field → text


def odata_source(
    mapping: EntitySetMapping, entries: list[dict[str, Any]], names: Names, unresolved: list[Unresolved]
) -> tuple[Source, list[str]]:
    """The entity set as a table with a header of canonical column names (line 0) and an entry per
    line from 1, and the guid of each line (index ``line - 1``)."""
    header: list[Cell] = list(mapping.columns)
    rows = [entry_cells(mapping, entry, names, unresolved) for entry in entries]
    guids = [odata_cell(entry.get("Ref_Key")) for entry in entries]

    def read(progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[Cell]]]:
        yield 0, header
        for line, cells in enumerate(rows, start=1):
            if progress is not None:
                progress(1)
            yield line, cells

    return Source(mapping.entity_set, mapping.entity, 0, read), guids


_PROBLEM_PLACE = re.compile(r"^(?P<label>[^:]+):(?P<line>\d+): ")


def locate(problem: str, guids: dict[str, list[str]]) -> str:
    """``Set:3: column: …`` → ``Set(guid'…'): column: …`` for a problem in an entity set."""
    found = _PROBLEM_PLACE.match(problem)
    if found is None or found.group("label") not in guids:
        return problem
    label, line = found.group("label"), int(found.group("line"))
    lines = guids[label]
    place = f"{label}(guid'{lines[line - 1]}')" if 1 <= line <= len(lines) else label
    return place + ": " + problem[found.end() :]


# --------------------------------------------------------------------------------------------------
# The sync
# --------------------------------------------------------------------------------------------------


async def last_synced(pool: SessionPool) -> dict[str, datetime]:
    """Each entity set's last successful sync (UTC, naive), from the recorded import runs."""
    async with pool() as session:
        runs = await session.execute(select(ImportRun.finished_at, ImportRun.files).order_by(ImportRun.id.desc()))
        found: dict[str, datetime] = {}
        for finished_at, files in runs:
            try:
                labels = json.loads(files)
            except ValueError:
                continue
            for label in labels if isinstance(labels, list) else ():
                found.setdefault(str(label), finished_at)
    return found


def odata_filter(mapping: EntitySetMapping, since: datetime | None, zone: ZoneInfo) -> str:
    """The ``$filter``: a catalog's entries not marked for deletion; a document's changed since
    (local midnight, 1C's times are the office's) whatever their marks, so that one unposted or
    marked since the last sync is seen and withdrawn; and the mapping's own condition."""
    parts = [] if mapping.is_document else ["DeletionMark eq false"]
    if mapping.changed_since and since is not None:
        local = since.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
        start = (local - timedelta(days=mapping.lookback_days)).replace(hour=0, minute=0, second=0, microsecond=0)
        parts.append(f"{mapping.changed_since} ge datetime'{start:%Y-%m-%dT%H:%M:%S}'")
    if mapping.filter.strip():
        parts.append(f"({mapping.filter.strip()})")
    return " and ".join(parts)


ProgressFactory = Callable[[str], Progress | None]


async def fetch_all(
    client: ODataClient,
    mapping: Mapping,
    since: dict[str, datetime],
    settings: ODataSettings,
    progress: ProgressFactory | None = None,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, dict[str, str]]]]:
    """The entries of every mapped set (marks not yet applied), and the names of every referenced
    set by guid."""
    entries: dict[str, list[dict[str, Any]]] = {}
    for entity_set in mapping.sets:
        params = {"$select": ",".join(entity_set.fields())}
        condition = odata_filter(entity_set, since.get(entity_set.entity_set), settings.zone)
        if condition:
            params["$filter"] = condition
        bar = progress(entity_set.entity_set) if progress else None
        try:
            found = await client.entries(entity_set.entity_set, params, settings.odata_page_size,
                                         bar.update if bar else None)  # fmt: skip
        finally:
            if bar is not None:
                bar.close()
        entries[entity_set.entity_set] = found
    wanted: dict[str, set[str]] = {}
    for entity_set in mapping.sets:
        for target, fields in entity_set.references().items():
            wanted.setdefault(target, set()).update(fields)
    names: dict[str, dict[str, dict[str, str]]] = {}
    for target, fields in sorted(wanted.items()):
        bar = progress(target) if progress else None
        try:
            # names of entries marked for deletion too: an old document may still point at them
            found = await client.entries(target, {"$select": ",".join(["Ref_Key", *sorted(fields)])},
                                         settings.odata_page_size, bar.update if bar else None)  # fmt: skip
        finally:
            if bar is not None:
                bar.close()
        names[target] = {
            odata_cell(entry.get("Ref_Key")): {f: odata_cell(entry.get(f)) for f in fields} for entry in found
        }
    return entries, names


async def sync_odata(
    pool: SessionPool,
    settings: ODataSettings,
    now: datetime,
    *,
    progress: ProgressFactory | None = None,
    import_progress: Callable[[Source], Progress | None] | None = None,
    backoff: float = 1.0,
) -> ImportReport:
    """Read 1C over OData and import it all or nothing; what H7's nightly job and ``kpibot sync`` call.

    ``now``: UTC, naive, recorded as the data's refresh time. Raises :class:`ODataError` (1C could
    not be read: nothing was written) or :class:`~db.importer.report.ImportFailed` (the entries
    broke the value rules, each problem ``EntitySet(guid'…'): column: value: reason``).
    """
    mapping = load_mapping(settings.odata_mapping)
    since = await last_synced(pool)
    async with ODataClient(settings, backoff=backoff) as client:
        entries, names = await fetch_all(client, mapping, since, settings, progress)
    unresolved: list[Unresolved] = []
    sources: list[Source] = []
    guids: dict[str, list[str]] = {}
    withdrawn: dict[str, set[str]] = {}
    for entity_set in mapping.sets:
        found = entries[entity_set.entity_set]
        if entity_set.entity in WITHDRAWN_ENTITIES:
            gone = {odata_cell(entry.get("Ref_Key")) for entry in found if not kept(entity_set, entry)}
            withdrawn.setdefault(entity_set.entity, set()).update(gone)
        found = [entry for entry in found if kept(entity_set, entry)]
        source, lines = odata_source(entity_set, found, names, unresolved)
        sources.append(source)
        guids[entity_set.entity_set] = lines
    if unresolved:
        raise ImportFailed([
            escape(f"{u.entity_set}(guid'{u.guid}'): {u.column}: {u.value}: no such entry in {u.target_set}")
            for u in unresolved
        ])  # fmt: skip
    order = {entity: index for index, entity in enumerate(ENTITIES)}
    sources.sort(key=lambda s: order[s.entity])
    try:
        return await import_sources(
            pool, sources, zone=settings.zone, now=now, progress=import_progress, withdrawn=withdrawn
        )
    except ImportFailed as failure:
        raise ImportFailed([locate(problem, guids) for problem in failure.problems]) from None


# --------------------------------------------------------------------------------------------------
# kpibot sync --check
# --------------------------------------------------------------------------------------------------


def metadata_fields(xml: str) -> dict[str, set[str]]:
    """Entity set name → its properties, from the ``$metadata`` EDMX document."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as error:
        raise ODataError(f"1C's $metadata is not XML ({error})") from None
    types: dict[str, set[str]] = {}
    for element in root.iter():
        if element.tag.endswith("}EntityType") or element.tag == "EntityType":
            types[element.get("Name", "")] = {
                child.get("Name", "") for child in element if child.tag.endswith(("Property", "NavigationProperty"))
            }
    sets: dict[str, set[str]] = {}
    for element in root.iter():
        if element.tag.endswith("}EntitySet") or element.tag == "EntitySet":
            type_name = element.get("EntityType", "").rsplit(".", 1)[-1]
            sets[element.get("Name", "")] = types.get(type_name, set())
    return sets


def check_lines(mapping: Mapping, published: dict[str, set[str]]) -> tuple[list[str], bool]:
    """What the sync would read and what 1C lacks; ``ok`` when nothing is missing."""
    lines: list[str] = [f"mapping: {mapping.path}"]
    ok = True
    targets: dict[str, set[str]] = {}
    for entity_set in mapping.sets:
        wanted = entity_set.fields()
        for target, fields in entity_set.references().items():
            targets.setdefault(target, set()).update(fields)
        if entity_set.entity_set not in published:
            ok = False
            lines.append(
                f"{entity_set.entity_set} → {entity_set.entity}: MISSING: not published in the OData interface"
            )
            continue
        missing = [f for f in wanted if f not in published[entity_set.entity_set]]
        lines.append(f"{entity_set.entity_set} → {entity_set.entity}: {', '.join(wanted)}")
        if missing:
            ok = False
            lines.append(f"  MISSING fields: {', '.join(missing)}")
    for target, fields in sorted(targets.items()):
        wanted = ["Ref_Key", *sorted(fields)]
        if target not in published:
            ok = False
            lines.append(f"{target} (names): MISSING: not published in the OData interface")
            continue
        lines.append(f"{target} (names): {', '.join(wanted)}")
        missing = [f for f in wanted if f not in published[target]]
        if missing:
            ok = False
            lines.append(f"  MISSING fields: {', '.join(missing)}")
    return lines, ok


async def check_odata(settings: ODataSettings, *, backoff: float = 1.0) -> tuple[list[str], bool]:
    """Read ``$metadata`` and say what the mapping would read and what is missing."""
    mapping = load_mapping(settings.odata_mapping)
    async with ODataClient(settings, backoff=backoff) as client:
        xml = await client.get("$metadata", {}, "$metadata")
    return check_lines(mapping, metadata_fields(xml))


__all__ = ["ODataClient", "ODataError", "check_odata", "sync_odata"]

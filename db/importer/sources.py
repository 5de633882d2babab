"""Reading export files row by row: 1C CSV (any of ``;``, ``,``, tab; UTF-8, UTF-8 with BOM or
cp1251), XLSX (one sheet per entity) and Asterisk's ``Master.csv`` (no header).

Readers stream: they yield one row at a time, so memory does not grow with the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from db.importer.values import Cell
from db.importer.vocabulary import ENTITIES, entity_of


class SourceError(Exception):
    """A file that cannot be read at all (encoding, shape); ``line`` may be 0 for the whole file."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


@dataclass
class Source:
    """One table to import: a CSV file, an XLSX sheet, or a PBX file."""

    label: str  # what errors call it: "contracts.csv" or "export.xlsx[payments]"
    entity: str
    size: int  # bytes, for the progress bar (0: unknown, rows are counted instead)
    rows: Callable[[Callable[[int], None] | None], Iterator[tuple[int, list[Cell]]]]
    has_header: bool = True
    path: Path | None = None  # the file it comes from


def detect_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        sample = handle.read(256 * 1024)
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for cut in range(4):  # a sample may end inside a multi-byte character
        try:
            sample[: len(sample) - cut].decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            continue
    return "cp1251"


def detect_delimiter(first_line: str) -> str:
    counts = {sep: first_line.count(sep) for sep in (";", "\t", ",")}
    best = max(counts.values())
    if best == 0:
        return ";"
    return next(sep for sep in (";", "\t", ",") if counts[sep] == best)


def csv_rows(
    path: Path, delimiter: str | None = None
) -> Callable[[Callable[[int], None] | None], Iterator[tuple[int, list[Cell]]]]:
    def rows(progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[Cell]]]:
        encoding = detect_encoding(path)
        with path.open("rb") as raw:
            stream = io.TextIOWrapper(raw, encoding=encoding, newline="")
            try:
                first = stream.readline()
                separator = delimiter or detect_delimiter(first)
                stream.seek(0)
                reader = csv.reader(stream, delimiter=separator, quotechar='"', strict=False)
                line = 1
                last_pos = 0
                for record in reader:
                    start_line = line
                    line = reader.line_num + 1
                    if progress is not None:
                        pos = raw.tell()
                        progress(pos - last_pos)
                        last_pos = pos
                    if not any(cell.strip() for cell in record):
                        continue
                    yield start_line, list(record)
            except UnicodeDecodeError:
                raise SourceError(line, f"not valid {encoding} text") from None
            except csv.Error as error:
                raise SourceError(line, f"broken CSV: {error}") from None

    return rows


def xlsx_rows(path: Path, sheet: str) -> Callable[[Callable[[int], None] | None], Iterator[tuple[int, list[Cell]]]]:
    def rows(progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[Cell]]]:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            for number, values in enumerate(book[sheet].iter_rows(values_only=True), start=1):
                if progress is not None and number % 1000 == 0:
                    progress(1000)
                cells: list[Cell] = [v if not isinstance(v, str) else v.strip() for v in values]
                if all(c is None or c == "" for c in cells):
                    continue
                yield number, cells
        finally:
            book.close()

    return rows


def discover(paths: list[Path]) -> tuple[list[Source], list[str]]:
    """Turn files and folders into sources; returns problems for what cannot be classified."""
    sources: list[Source] = []
    problems: list[str] = []
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in {".csv", ".xlsx"}))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    for file in files:
        suffix = file.suffix.lower()
        if suffix == ".xlsx":
            sources.extend(_xlsx_sources(file, problems))
        elif suffix in {".csv", ".txt", ""}:
            entity = entity_of(file.stem)
            if entity is None:
                problems.append(
                    f"{file.name}: cannot tell what the file holds from its name "
                    f"(expected one of: {', '.join(n + '.csv' for n in ENTITIES[:-1])}, Master.csv)"
                )
            elif entity == "pbx":
                sources.append(
                    Source(file.name, "pbx", file.stat().st_size, csv_rows(file, ","), has_header=False, path=file)
                )
            else:
                sources.append(Source(file.name, entity, file.stat().st_size, csv_rows(file), path=file))
        else:
            problems.append(f"{file.name}: not a CSV or XLSX file")
    order = {entity: index for index, entity in enumerate(ENTITIES)}
    sources.sort(key=lambda s: order[s.entity])
    return sources, problems


def _xlsx_sources(file: Path, problems: list[str]) -> list[Source]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(file, read_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as error:
        problems.append(f"{file.name}: not a readable XLSX workbook ({error})")
        return []
    names = list(book.sheetnames)
    book.close()
    found: list[Source] = []
    for sheet in names:
        entity = entity_of(sheet)
        if entity is None and len(names) == 1:
            entity = entity_of(file.stem)
        if entity is None or entity == "pbx":
            continue
        found.append(Source(f"{file.name}[{sheet}]", entity, 0, xlsx_rows(file, sheet), path=file))
    if not found:
        problems.append(
            f"{file.name}: no sheet named like an export (employees, contracts, payments, interactions, documents)"
        )
    return found

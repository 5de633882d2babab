"""Reading export files row by row: 1C CSV (``;``, ``,`` or tab; UTF-8, UTF-8 with BOM, cp1251,
UTF-16 as Excel's "Unicode text", KOI8-R, MacCyrillic), XLSX (a sheet per entity, or 1C's
``TDSheet`` named by the file) and Asterisk's ``Master.csv`` (no header).

Readers stream: they yield ``(physical line, cells)`` one row at a time, so memory does not grow
with the file (a UTF-16 file, which Excel writes only for small tables, is decoded whole). A file
that cannot be read raises :class:`SourceError` naming the physical line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import IO

from db.importer.values import Cell
from db.importer.vocabulary import ENTITIES, REQUIRED, entity_of, header_map, normalize

RowReader = Callable[[Callable[[int], None] | None], Iterator[tuple[int, list[Cell]]]]

HEADER_SEARCH_ROWS = 30  # the header is the first row among these that maps every required column
XLSX_SHEET_1C = "tdsheet"  # the name 1C gives the only sheet of a saved report


class SourceError(Exception):
    """A file that cannot be read at all (encoding, shape); ``line`` may be 0 for the whole file."""

    def __init__(self, line: int, reason: str, value: str = "") -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason
        self.value = value


@dataclass
class Source:
    """One table to import: a CSV file, an XLSX sheet, or a PBX file."""

    label: str  # what errors call it: "contracts.csv" or "export.xlsx[payments]"
    entity: str
    size: int  # bytes, for the progress bar (0: unknown, rows are counted instead)
    rows: RowReader
    has_header: bool = True
    path: Path | None = None  # the file it comes from
    encoding: str = ""  # what a CSV file was read as, once it was read
    delimiter: str = ""  # the separator a CSV file was read with, once it was read
    notes: list[str] = field(default_factory=list)  # what the reader passed over on purpose, once read


# --------------------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------------------

# What Russian offices' software writes besides UTF-8: Windows (1C, Excel), old Unix mail (KOI8-R),
# old Macs (MacCyrillic), DOS (cp866).
CYRILLIC_ENCODINGS = ("cp1251", "koi8_r", "mac_cyrillic", "cp866")
_SAMPLE = 64 * 1024
# multi-byte characters read as valid UTF-8 before a byte that is not: Russian text in a Cyrillic code
# page is invalid UTF-8 almost at once (in cp1251 and KOI8-R two letters in a row are, unless the second
# is ё), so this many (a header of Russian column names) mean a UTF-8 file
_UTF8_EVIDENCE = 8


def _header_score(text: str, entity: str) -> int:
    """How many required columns of ``entity`` the best of the first lines of ``text`` names."""
    if entity not in REQUIRED:
        return 0
    known = header_map(entity)
    best = 0
    for line in text.splitlines()[:HEADER_SEARCH_ROWS]:
        for separator in (";", "\t", ","):
            names = {known.get(normalize(cell)) for cell in line.split(separator)}
            best = max(best, sum(1 for column in REQUIRED[entity] if column in names))
    return best


def detect_encoding(path: Path, entity: str = "") -> str:
    """The encoding of a CSV file: a byte-order mark decides (UTF-8, UTF-16); else strict UTF-8, or
    UTF-8 read well up to a line in another encoding (:data:`_UTF8_EVIDENCE`: that line is refused);
    else charset-normalizer ranks the Cyrillic code pages and, when it is unsure (a short header
    reads as Russian in several), the one whose text names the entity's columns wins."""
    with path.open("rb") as handle:
        sample = handle.read(_SAMPLE)
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    wide = sample.count(b"\x00") * 8 > len(sample)  # UTF-16 without a byte-order mark is "valid" UTF-8
    for cut in range(4) if not wide else ():  # a sample may end inside a multi-byte character
        try:
            sample[: len(sample) - cut].decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError as error:
            read = sample[: error.start].decode("utf-8")
            if len(read.encode()) - len(read) >= _UTF8_EVIDENCE:  # Cyrillic read as UTF-8 before a bad line:
                return "utf-8"  # a UTF-8 file with a line in another encoding; its decode error names that line
    from charset_normalizer import from_bytes

    known = (*CYRILLIC_ENCODINGS, "utf_16_le", "utf_16_be") if wide else CYRILLIC_ENCODINGS
    candidates = [match.encoding for match in from_bytes(sample, cp_isolation=list(known))]
    if entity:  # a code page the detector ruled out for one bad byte still reads a good header
        ranked = [*candidates, *(name for name in known if name not in candidates)]
        scores = {name: _header_score(sample.decode(name, errors="replace"), entity) for name in ranked}
        best = max(scores.values())
        if best > 0:
            return next(name for name in ranked if scores[name] == best)
    # the commonest when nothing is sure; the decode error then names the line it fails on
    return candidates[0] if candidates else "cp1251"


def _byte_blocks(handle: IO[bytes], limit: int | None = None) -> Iterator[list[bytes]]:
    """The file's physical lines, each with its ending (CR LF, LF or a lone CR), a block at a time;
    only its first ``limit`` bytes when given."""
    pending = b""
    left = [limit if limit is not None else -1]

    def read() -> bytes:
        if left[0] == 0:
            return b""
        block = handle.read(1 << 20 if left[0] < 0 else min(1 << 20, left[0]))
        if left[0] > 0:
            left[0] -= len(block)
        return block

    for block in iter(read, b""):
        lines = (pending + block).splitlines(keepends=True)
        pending = b""
        # the last line may be unfinished, or end in a CR whose LF is in the next block
        if lines and (lines[-1].endswith(b"\r") or not lines[-1].endswith(b"\n")):
            pending = lines.pop()
        if lines:
            yield lines
    if pending:
        yield [pending]


_LINE_BREAK = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")


@dataclass(frozen=True)
class Resume:
    """How to read a file that grew only by appending (``db.importer.run`` decides it may): its
    first ``head`` bytes (title lines and the header, ending at a line break), then the bytes from
    ``offset`` on (the part already imported ends there, at a line break), whose first line is the
    file's physical line ``line``. The lines in between are not read at all."""

    head: int
    offset: int
    line: int

    def head_lines(self, path: Path) -> int:
        """The physical lines of the head (CR LF, LF or a lone CR each end one)."""
        with path.open("rb") as handle:
            return line_breaks(handle.read(self.head))


def line_breaks(data: bytes) -> int:
    """Line breaks in ``data`` as the CSV reader counts lines: CR LF, LF and a lone CR."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def line_start(path: Path, line: int) -> int | None:
    """The byte offset where physical line ``line`` (1-based) starts, ``None`` past the end; reads
    only as far as that line."""
    if line <= 1:
        return 0
    with path.open("rb") as handle:
        done, position = 0, 0
        for lines in _byte_blocks(handle):
            for raw in lines:
                done += 1
                position += len(raw)
                if done == line - 1:
                    return position if raw.endswith((b"\n", b"\r")) else None
    return None


def _text_lines(
    path: Path,
    encoding: str,
    progress: Callable[[int], None] | None,
    limit: int | None = None,
    resume: Resume | None = None,
) -> Iterator[str]:
    """Decoded physical lines (of the first ``limit`` bytes when given; with ``resume``, of its head
    and then of the bytes from its offset on); a byte that is not text in ``encoding`` raises
    :class:`SourceError` with its physical line. Decoded a block of lines at a time (the line is
    found only on error), and the lines of a block handed on without a Python frame per line."""
    if resume is not None:
        if encoding.replace("_", "-").startswith("utf-16"):  # pragma: no cover - run.py never resumes it
            raise ValueError("a UTF-16 file is not read from an offset")
        if limit is not None and limit < resume.offset:  # pragma: no cover - the tail starts past the offset
            raise ValueError("the limit lies before the offset")
        at = resume

        def tail() -> Iterator[Iterator[str]]:  # once the head is read
            if progress is not None:
                progress(at.offset - at.head)
            yield _decoded(path, encoding, progress, at.offset, None if limit is None else limit - at.offset,
                           at.line - 1)  # fmt: skip

        return chain(_text_lines(path, encoding, progress, resume.head), chain.from_iterable(tail()))
    if encoding.replace("_", "-").startswith("utf-16"):  # not ASCII-compatible: decoded whole (Excel writes
        # it for small tables; without a byte-order mark the detector names the byte order)
        data = path.read_bytes()[:limit]
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            good = data[: error.start - (error.start % 2)].decode(encoding, errors="replace")
            line = len(_LINE_BREAK.split(good))
            raise SourceError(line, f"not valid UTF-16 text (byte {error.start + 1} of the file)") from None
        if progress is not None:
            progress(len(data))
        return iter(io.StringIO(text, newline=""))
    return _decoded(path, encoding, progress, 0, limit, 0)


def _decoded(
    path: Path, encoding: str, progress: Callable[[int], None] | None, offset: int, limit: int | None, done: int
) -> Iterator[str]:
    """The lines of an ASCII-compatible file from byte ``offset`` (``limit`` bytes of it when given),
    the first of them the file's physical line ``done + 1``."""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding

    def blocks() -> Iterator[io.StringIO]:
        read = done
        with path.open("rb") as handle:
            handle.seek(offset)
            for lines in _byte_blocks(handle, limit):
                if offset == 0 and read == 0 and encoding == "utf-8-sig" and lines[0].startswith(b"\xef\xbb\xbf"):
                    lines[0] = lines[0][3:]
                chunk = b"".join(lines)
                try:
                    text = chunk.decode(codec)
                except UnicodeDecodeError:
                    _decode_error(lines, codec, encoding, read)
                if progress is not None:
                    progress(len(chunk))
                # newline="": lines split at CR LF, LF and CR only, as the bytes were, and kept as they are
                yield io.StringIO(text, newline="")
                read += len(lines)

    return chain.from_iterable(blocks())


def _decode_error(lines: list[bytes], codec: str, encoding: str, done: int) -> None:
    for number, raw in enumerate(lines, start=done + 1):
        try:
            raw.decode(codec)
        except UnicodeDecodeError as error:
            shown = raw[max(0, error.start - 20) : error.end].decode(codec, errors="replace")
            reason = f"not valid {encoding_name(encoding)} text (byte 0x{raw[error.start]:02X})"
            raise SourceError(number, reason, shown) from None
    raise AssertionError("a block that fails to decode has a line that fails")  # pragma: no cover


def encoding_name(encoding: str) -> str:
    return {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "utf-16": "UTF-16", "utf_16_le": "UTF-16", "utf_16_be": "UTF-16",
            "koi8_r": "KOI8-R", "mac_cyrillic": "MacCyrillic"}.get(encoding, encoding)  # fmt: skip


# --------------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------------


def detect_delimiter(lines: list[str]) -> str:
    """The separator that a line among the first ones (the header, past any title lines) holds most of."""
    counts = {sep: max((line.count(sep) for line in lines), default=0) for sep in (";", "\t", ",")}
    best = max(counts.values())
    if best == 0:
        return ";"
    return next(sep for sep in (";", "\t", ",") if counts[sep] == best)


def first_lines(path: Path, encoding: str) -> list[str]:
    """The file's first :data:`HEADER_SEARCH_ROWS` physical lines, decoded."""
    return list(islice(_text_lines(path, encoding, None), HEADER_SEARCH_ROWS))


def csv_dialect(path: Path, entity: str) -> tuple[str, str]:
    """The encoding and the separator a CSV file of ``entity`` is read with, from its first bytes;
    raises :class:`SourceError` when they do not decode."""
    encoding = detect_encoding(path, entity)
    return encoding, detect_delimiter(first_lines(path, encoding))


def _swallowed_rows(record: list[str], separator: str, width: int) -> bool:
    """A quoted value spanning lines that themselves look like rows: a quote left open."""
    for cell in record:
        if "\n" in cell or "\r" in cell:
            for piece in re.split(r"\r\n|\r|\n", cell)[1:]:
                if piece.count(separator) >= max(2, width - 1):
                    return True
    return False


def csv_rows(
    path: Path,
    delimiter: str | None = None,
    entity: str = "",
    source: Source | None = None,
    escapechar: str | None = None,
    limit: int | None = None,
    resume: Resume | None = None,
) -> RowReader:
    """The rows of a CSV file (of its first ``limit`` bytes when given; with ``resume``, of its head
    and its appended part only, with their true physical line numbers); ``escapechar``: a character
    that escapes a quote inside a quoted value besides the doubled quote (``\\"`` in some PBX exports
    of the caller id)."""

    def rows(progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[Cell]]]:
        encoding = detect_encoding(path, entity)
        if source is not None:
            source.encoding = encoding
        lines = _text_lines(path, encoding, progress, limit, resume)
        head: list[str] = []
        for piece in lines:
            head.append(piece)
            if len(head) >= HEADER_SEARCH_ROWS:
                break
        # resumed, the separator is still the one the file's first lines hold most of
        separator = delimiter or detect_delimiter(head if resume is None else first_lines(path, encoding))
        if source is not None:
            source.delimiter = separator
        head_lines = resume.head_lines(path) if resume is not None else 0

        def true(number: int) -> int:  # the physical line of the file a line number as read is
            return number if resume is None or number <= head_lines else number - head_lines - 1 + resume.line

        reader = csv.reader(chain(head, lines), delimiter=separator, quotechar='"', escapechar=escapechar, strict=True)
        line = 1
        width = 0
        try:
            for record in reader:  # the usual record: one line, its first value filled, read from the start
                start_line = line
                line = reader.line_num + 1
                if not (record and record[0].strip()) and not "".join(record).strip():
                    continue
                if line - start_line > 1 and _swallowed_rows(record, separator, width):
                    raise SourceError(true(start_line), "unbalanced quote: a quoted value opened here runs over lines "
                                      f"that look like rows (to line {true(reader.line_num)})")  # fmt: skip
                width = width or len(record)
                yield (start_line if resume is None else true(start_line)), record  # type: ignore[misc]  # the reader's own list, not copied
        except csv.Error as error:
            if "unexpected end of data" in str(error):
                reason = "unbalanced quote: the quote opened on this line is never closed"
                raise SourceError(true(line), reason) from None
            raise SourceError(true(reader.line_num), f"broken CSV: {error}") from None

    return rows


CDR_MIN_FIELDS = 16  # the shortest Asterisk CDR record (cdr_csv without the optional columns)


def _unfinished_tail(path: Path) -> tuple[int, int, bytes] | None:
    """When the file does not end in a line break: the number of its last physical line, the byte
    offset where that line starts, and its bytes; else ``None``."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        if size == 0:
            return None
        handle.seek(size - 1)
        if handle.read(1) in (b"\n", b"\r"):
            return None
        start, tail = 0, b""
        while start == 0 and len(tail) < size:  # back from the end to the last line break
            chunk = min(1 << 16, size - len(tail))
            handle.seek(size - len(tail) - chunk)
            tail = handle.read(chunk) + tail
            found = max(tail.rfind(b"\n"), tail.rfind(b"\r"))
            if found >= 0:
                start = size - len(tail) + found + 1
        handle.seek(0)
        breaks, left, previous = 0, start, b""  # CR LF, LF and a lone CR, as the CSV reader counts lines
        while left:
            block = handle.read(min(1 << 20, left))
            left -= len(block)
            breaks += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
            if previous == b"\r" and block.startswith(b"\n"):
                breaks -= 1
            previous = block[-1:]
        last = handle.read()
    return breaks + 1, start, last


def _one_record(raw: bytes, encoding: str, escapechar: str) -> list[str] | None:
    """One line of a CSV file as its cells, or ``None`` when it is not whole text or not one record."""
    codec = "utf-8" if encoding in ("", "utf-8-sig") else encoding
    try:
        text = raw.decode(codec)
        records = list(csv.reader([text], delimiter=",", quotechar='"', escapechar=escapechar, strict=True))
    except (UnicodeDecodeError, LookupError, csv.Error):
        return None
    return records[0] if len(records) == 1 else None


def master_rows(path: Path, source: Source, resume: Resume | None = None) -> RowReader:
    """The records of Asterisk's ``Master.csv``, which the PBX appends to while a call ends: a last
    line without its line break that does not parse (a quote or a character cut in half) or is
    shorter than the records before it (or than any CDR record) is still being written; it is passed
    over with a note in ``source.notes`` and read by the next import. A bad line anywhere else, or a
    bad last line that has its line break, stays a problem: only the unfinished tail is skipped.
    """
    # Asterisk's cdr_csv doubles a quote inside a value ("""131"" <131>"); exports that went through
    # other tools write \"131\" instead: both read as "131" <131>
    escapechar = "\\"

    def rows(progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[Cell]]]:
        tail = _unfinished_tail(path)
        if tail is None:
            yield from csv_rows(path, ",", source=source, escapechar=escapechar, resume=resume)(progress)
            return
        last_line, start, raw = tail
        width = 0
        reader = csv_rows(path, ",", source=source, escapechar=escapechar, limit=start, resume=resume)
        for line, cells in reader(progress):
            width = len(cells)
            yield line, cells
        if not raw.strip():
            return
        record = _one_record(raw, source.encoding, escapechar)
        if record is None:
            source.notes.append(_tail_note(source.label, last_line, raw, "does not parse"))
        elif len(record) < (width or CDR_MIN_FIELDS):
            source.notes.append(_tail_note(source.label, last_line, raw, f"{len(record)} fields"))
        else:
            yield last_line, list(record)

    return rows


def appended_rows(source: Source, resume: Resume) -> RowReader:
    """The reader of a CSV source (a 1C table or ``Master.csv``) that reads only its head and the
    part appended since it was last imported (see :class:`Resume`)."""
    if source.path is None or source.path.suffix.lower() == ".xlsx":
        raise ValueError(f"{source.label}: only a CSV file is read from an offset")
    if source.entity == "pbx":
        return master_rows(source.path, source, resume)
    return csv_rows(source.path, entity=source.entity, source=source, resume=resume)


def _tail_note(label: str, line: int, raw: bytes, why: str) -> str:
    text = raw.decode("utf-8", errors="replace")
    shown = text if len(text) <= 60 else text[:57] + "..."
    return (f"{label}:{line}: последнюю строку АТС ещё дописывает (нет перевода строки, {why}): "
            f"пропущена, её прочитает следующая загрузка: {shown}")  # fmt: skip


# --------------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------------


def _reason(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def xlsx_rows(path: Path, sheet: str) -> RowReader:
    def rows(progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[Cell]]]:
        from openpyxl import load_workbook

        number = 0
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises whatever its zip and XML layers raise on a damaged file
            raise SourceError(0, f"not a readable XLSX workbook ({_reason(error)})") from None
        try:
            for number, values in enumerate(book[sheet].iter_rows(values_only=True), start=1):
                if progress is not None and number % 1000 == 0:
                    progress(1000)
                cells: list[Cell] = [v if not isinstance(v, str) else v.strip() for v in values]
                if all(c is None or c == "" for c in cells):
                    continue
                yield number, cells
        except Exception as error:  # a broken sheet XML or a bad CRC surfaces only while reading rows
            raise SourceError(number + 1, f"not a readable XLSX sheet ({_reason(error)})") from None
        finally:
            book.close()

    return rows


def _xlsx_sources(file: Path, problems: list[str]) -> list[Source]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(file, read_only=True)
        names = list(book.sheetnames)
        book.close()
    except Exception as error:  # not a zip, a zip without a workbook, broken XML: openpyxl raises many kinds
        problems.append(f"{file.name}: not a readable XLSX workbook ({_reason(error)})")
        return []
    found: list[Source] = []
    for sheet in names:
        entity = entity_of(sheet)
        if entity is None and (len(names) == 1 or normalize(sheet) == XLSX_SHEET_1C):
            entity = entity_of(file.stem)  # 1C's TDSheet, or a lone sheet: the file's name tells
        if entity is None or entity == "pbx":
            continue
        found.append(Source(f"{file.name}[{sheet}]", entity, 0, xlsx_rows(file, sheet), path=file))
    if not found:
        problems.append(
            f"{file.name}: no sheet named like an export (employees, contracts, payments, interactions, documents), "
            "and the file's name does not tell either"
        )
    return found


# --------------------------------------------------------------------------------------------------
# Files and folders
# --------------------------------------------------------------------------------------------------


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
            problems.append(f"{path}: нет такого файла или папки")
    for file in files:
        suffix = file.suffix.lower()
        try:
            file.open("rb").close()
        except OSError as error:
            problems.append(f"{file.name}: cannot read the file ({error.strerror or error})")
            continue
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
                pbx = Source(file.name, "pbx", file.stat().st_size, _unset, has_header=False, path=file)
                pbx.rows = master_rows(file, pbx)
                sources.append(pbx)
            else:
                table = Source(file.name, entity, file.stat().st_size, _unset, path=file)
                table.rows = csv_rows(file, entity=entity, source=table)
                sources.append(table)
        else:
            problems.append(f"{file.name}: not a CSV or XLSX file")
    order = {entity: index for index, entity in enumerate(ENTITIES)}
    sources.sort(key=lambda s: order[s.entity])
    return sources, problems


def _unset(progress: Callable[[int], None] | None) -> Iterator[tuple[int, list[Cell]]]:  # pragma: no cover
    raise AssertionError("the reader is set right after the source is made")

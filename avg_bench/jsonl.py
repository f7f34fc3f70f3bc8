"""Strict, streaming JSON Lines reading shared by predictions and labels files.

Reads one line at a time with a hard length cap, so a huge or hostile file costs at most one
line of memory; every problem becomes an :class:`~avg_bench.errors.InputFileError` that names
``file:line``. Accepts what editors and tools really write: a UTF-8 BOM, CRLF line ends, blank
lines and a missing final newline.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from avg_bench.errors import InputFileError

#: Longest accepted line: room for ~20,000 ``samples`` pairs, bounded for hostile files.
MAX_LINE_BYTES = 1 << 20
_BOM = b"\xef\xbb\xbf"


class FieldProblem(ValueError):
    """A problem with one field of one record; the reader adds the file and line."""


def _reject_constant(name: str) -> float:
    raise FieldProblem(f"{name} is not valid JSON: numbers must be finite")


class _RepeatedKeys(dict):
    """An object that repeated some key (kept last, as orjson does), with ``repeated`` in order."""

    repeated: list[str]


def _note_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    # Only a record's own watched keys may not repeat (the reader checks); the contents of
    # unknown keys are ignored, whatever they hold, exactly as on the fast path.
    noted = _RepeatedKeys(obj)
    noted.repeated = []
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            noted.repeated.append(key)
        seen.add(key)
    return noted


_DECODER = json.JSONDecoder(object_pairs_hook=_note_repeated_keys, parse_constant=_reject_constant)


def json_type(value: Any) -> str:
    """The JSON name of a Python value's type, for messages ("string", "number", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, numbers.Number):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def described(value: Any) -> str:
    """A value for messages: ``null``, ``true``, or its JSON type and text (``string "48.8"``)."""
    if value is None or isinstance(value, bool):
        return shown(value)
    return f"{json_type(value)} {shown(value)}"


def shown(value: Any) -> str:
    """A value as JSON, cut to 60 characters, for messages."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class JsonLinesReader:
    """Read a JSON Lines file as blocks of ``(line numbers, objects)``, hashing it on the way.

    ``error`` is the exception class raised for every problem; after reading, :attr:`sha256` is
    the hex digest of the bytes read. ``watched_keys`` are keys whose repetition in a record
    is an error (JSON leaves duplicate keys undefined; parsers silently keep one); any other
    repeated key, and anything inside an unknown key's value, is ignored, on both paths.

    Speed without a second semantics: a block of lines is parsed with ``orjson`` in one pass.
    If any line of the block is refused, or might repeat a watched key, the block is re-read
    line by line by the standard library, whose verdict and message are final, and yielded a
    line at a time so that the first problem in file order is the one reported.
    """

    #: Bytes read per block; a block's objects are the unit of bulk validation downstream.
    block_bytes = 4 << 20

    def __init__(
        self, path: str | Path, *, error: type[InputFileError] = InputFileError, watched_keys: tuple[str, ...] = ()
    ) -> None:
        self.path = Path(path)
        self.error = error
        self._hash = hashlib.sha256()
        self._watched = tuple((key, f'"{key}"'.encode()) for key in watched_keys)
        self._watched_names = frozenset(watched_keys)

    @property
    def sha256(self) -> str:
        """SHA-256 of the bytes read so far (the whole file once iteration ends)."""
        return self._hash.hexdigest()

    def fail(self, line: int | None, problem: str) -> InputFileError:
        """An input error naming this file and ``line`` (None: the file as a whole)."""
        return self.error(self.path, line, problem)

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for lines, objects in self.blocks():
            yield from zip(lines, objects)

    def blocks(self) -> Iterator[tuple[list[int], list[dict[str, Any]]]]:
        """Yield ``(line_numbers, objects)``, skipping blank lines; raise on the first problem."""
        found = blank = False
        for first_line, raw_lines in self._raw_blocks():
            objects = self._parse_fast(raw_lines)
            if objects is not None:  # the common case: no blank line, nothing odd
                found = True
                yield list(range(first_line, first_line + len(raw_lines))), objects
                continue
            numbered = [(first_line + i, raw) for i, raw in enumerate(raw_lines) if raw.strip()]
            if not numbered:
                blank = blank or len(raw_lines) > 1 or any(raw_lines)
                continue
            found = True
            objects = self._parse_fast([raw for _, raw in numbered])
            if objects is not None:
                yield [n for n, _ in numbered], objects
            else:
                for number, raw in numbered:
                    yield [number], [self._parse_strictly(number, raw)]
        if not found:
            problem = "the file has only blank lines" if blank else "the file is empty"
            raise self.fail(None, f"{problem}: expected one JSON object per line")

    def _raw_blocks(self) -> Iterator[tuple[int, list[bytes]]]:
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            raise self.fail(None, "file not found") from None
        except IsADirectoryError:
            raise self.fail(None, "is a directory, expected a JSON Lines file") from None
        except OSError as exc:
            raise self.fail(None, f"cannot be read ({exc.strerror})") from None
        with handle:
            carry = b""
            next_line = 1
            while True:
                chunk = handle.read(self.block_bytes)
                self._hash.update(chunk)
                if next_line == 1 and not carry and chunk.startswith(_BOM):
                    chunk = chunk[len(_BOM):]
                lines = (carry + chunk).split(b"\n")
                carry = lines.pop() if chunk else b""
                first_long = None
                if lines and max(map(len, lines)) > MAX_LINE_BYTES:
                    first_long = next(i for i, line in enumerate(lines) if len(line) > MAX_LINE_BYTES)
                elif len(carry) > MAX_LINE_BYTES:
                    first_long = len(lines)  # the unfinished line after this block's lines
                if first_long is not None:
                    if first_long:  # the lines before it first, so that the first problem in file order wins
                        yield next_line, lines[:first_long]
                    raise self.fail(next_line + first_long, _too_long())
                if lines:
                    yield next_line, lines
                    next_line += len(lines)
                if not chunk:
                    return

    def _parse_fast(self, raw_lines: list[bytes]) -> list[dict[str, Any]] | None:
        """All objects of a block, or ``None`` when any line needs the strict parser."""
        try:
            objects = [orjson.loads(raw) for raw in raw_lines]
        except orjson.JSONDecodeError:
            return None
        if not all(type(obj) is dict for obj in objects):
            return None
        if self._watched:
            block = b"\n".join(raw_lines)
            if _ESCAPED_KEY.search(block):
                return None  # an escaped key could spell a watched key: let the strict parser judge
            for key, quoted in self._watched:
                raw_count = block.count(quoted)
                if raw_count and raw_count != len([1 for obj in objects if key in obj]):
                    return None  # a watched key is repeated somewhere (or appears inside a string)
        return objects

    def _parse_strictly(self, line_no: int, raw: bytes) -> dict[str, Any]:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail(
                line_no, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); save the file as UTF-8"
            ) from None
        indent = len(text) - len(text.lstrip())
        text = text.strip()
        if text.startswith(_BOM.decode()):
            raise self.fail(line_no, _BOM_HINT)
        try:
            obj = _DECODER.decode(text)
        except FieldProblem as exc:
            raise self.fail(line_no, str(exc)) from None
        except json.JSONDecodeError as exc:
            if text.startswith("["):
                raise self.fail(line_no, _ARRAY_HINT) from None
            hint = "; each record must be one complete JSON object on a single line" if text.startswith("{") else ""
            raise self.fail(line_no, f"not valid JSON ({exc.msg} at column {exc.colno + indent}){hint}") from None
        except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
            raise self.fail(line_no, "not valid JSON (a number has too many digits)") from None
        except RecursionError:
            raise self.fail(line_no, "not valid JSON (arrays or objects nested too deeply)") from None
        if isinstance(obj, list):
            raise self.fail(line_no, _ARRAY_HINT)
        if not isinstance(obj, dict):
            raise self.fail(line_no, f"expected a JSON object, found {described(obj)}")
        if isinstance(obj, _RepeatedKeys):
            repeated = [key for key in obj.repeated if key in self._watched_names]
            if repeated:
                raise self.fail(line_no, f"duplicate key {repeated[0]!r} in one object")
            obj = dict(obj)
        return obj


def _too_long() -> str:
    return f"line is longer than the {MAX_LINE_BYTES // 2**20} MiB limit"


#: A JSON string containing a \\u escape and followed by a colon, i.e. an escaped object key.
_ESCAPED_KEY = re.compile(rb'\\u[0-9a-fA-F]{4}[^"\\]*(?:\\.[^"\\]*)*"\s*:')

_BOM_HINT = (
    "the line starts with a UTF-8 byte order mark (BOM), which only the start of a file may have "
    "(were files concatenated?); remove it"
)

_ARRAY_HINT = (
    "expected one JSON object per line (JSON Lines), found a JSON array; "
    "convert it with: jq -c '.[]' FILE > FILE.jsonl"
)


# Field checks: raise FieldProblem; the caller knows the file and line.


def required(record: dict[str, Any], key: str) -> Any:
    """``record[key]``, or a FieldProblem naming the missing key."""
    if key not in record:
        raise FieldProblem(f"missing required key {key!r}")
    return record[key]


def identifier(value: Any, key: str) -> str:
    """A non-empty string id; integers are accepted and converted (common in CSV-born files)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise FieldProblem(f"field {key!r} must be a non-empty string, found {described(value)}")
    return value


def coordinate(value: Any, key: str, *, latitude: bool) -> float:
    """A finite latitude or longitude in range; never wrapped."""
    kind = type(value)
    if kind is not float and kind is not int:  # fast path first: this runs twice per line
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise FieldProblem(f"field {key!r} must be a number, found {described(value)}")
    bound = 90.0 if latitude else 180.0
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range, e.g. 1 followed by 400 zeros
        digits = len(str(abs(value)))
        raise FieldProblem(f"field {key!r} is out of range: an integer of {digits} digits is not in [-{bound:g}, {bound:g}]") from None
    if not math.isfinite(number):
        raise FieldProblem(f"field {key!r} must be a finite number, found {number}")
    if not -bound <= number <= bound:
        raise FieldProblem(f"field {key!r} is out of range: {number!r} is not in [-{bound:g}, {bound:g}]")
    return number


def optional_string(record: dict[str, Any], key: str) -> str | None:
    """A string field that may be absent or null; anything else is a FieldProblem."""
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise FieldProblem(f"field {key!r} must be a string or null, found {described(value)}")
    return value

"""Malformed and accepted ``predictions.jsonl`` files for the DESIGN §4 tests (seeded, executable).

Run ``python tests/data/malformed_predictions.py OUTDIR`` to write every case to
``OUTDIR/<name>.jsonl`` (plus ``labels.jsonl``, ``labels-big.jsonl`` and ``expected.json``) and
try them by hand with ``avg-bench evaluate OUTDIR/<name>.jsonl --labels OUTDIR/labels.jsonl``.

Imported by the tests, it exposes:

- ``LABELS`` (five clips at real cities) and ``BIG_LABELS`` (those plus 5,000 seeded clips);
- ``CASES``: :class:`Case` objects, one problem each, with the exact message the scorer must give
  after ``error: `` (``{path}`` stands for the predictions file's path, ``{labels}`` for the labels');
- ``ACCEPTED``: :class:`Accepted` objects, valid files written the ways editors and tools really
  write them, each with the records it means and the counts it must score.

Large contents (a 10 MB line, 5,000-line files) are built on first access, so importing stays cheap.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

SEED = 20260305
R_KM = 6371.0
MAX_LINE_BYTES = 1 << 20  # avg_bench.jsonl.MAX_LINE_BYTES, repeated so that importing stays trivial

#: Five clips at five cities on five continents.
LABELS = [
    {"clip_id": "avg1-000001", "location_id": "paris", "lat": 48.8566, "lon": 2.3522},
    {"clip_id": "avg1-000002", "location_id": "sydney", "lat": -33.8688, "lon": 151.2093},
    {"clip_id": "avg1-000003", "location_id": "tokyo", "lat": 35.6762, "lon": 139.6503},
    {"clip_id": "avg1-000004", "location_id": "new-york", "lat": 40.7128, "lon": -74.006},
    {"clip_id": "avg1-000005", "location_id": "nairobi", "lat": -1.2921, "lon": 36.8219},
]
IDS = [label["clip_id"] for label in LABELS]
N_BIG = 5_000


def _big_labels() -> list[dict]:
    rng = random.Random(SEED)
    extra = [
        {
            "clip_id": f"avg1-1{k:05d}",
            "location_id": f"synth-{k // 20:03d}",
            "lat": round(rng.uniform(-60.0, 70.0), 4),
            "lon": round(rng.uniform(-180.0, 180.0), 4),
        }
        for k in range(N_BIG)
    ]
    return LABELS + extra


#: ``LABELS`` plus 5,000 seeded clips (250 locations x 20), for the files that span several blocks.
BIG_LABELS = _big_labels()


def line(clip_id: str, lat, lon, **extra) -> bytes:
    """One prediction line, keys in the documented order."""
    return json.dumps({"clip_id": clip_id, "lat": lat, "lon": lon, **extra}, ensure_ascii=False).encode() + b"\n"


def exact(label: dict, **extra) -> bytes:
    """A prediction exactly at the label."""
    return line(label["clip_id"], label["lat"], label["lon"], **extra)


def good(skip: tuple[str, ...] = ()) -> bytes:
    """A valid file predicting every clip of ``LABELS`` exactly, but the ids in ``skip``."""
    return b"".join(exact(label) for label in LABELS if label["clip_id"] not in skip)


def raw(*lines: str | bytes) -> bytes:
    """Lines given verbatim (the JSON that ``json.dumps`` will not write), newline-terminated."""
    return b"".join((text.encode() if isinstance(text, str) else text) + b"\n" for text in lines)


def _padded(label: dict) -> bytes:
    # ~1 KB per line: 5,000 lines make ~5 MB, more than one 4 MiB block of the reader.
    return exact(label, reasoning="padding " * 120)


def _big_good() -> bytes:
    return b"".join(_padded(label) for label in BIG_LABELS)


def _big_bad_last() -> bytes:
    # Every clip predicted, then one more line: a known id again, far past the first block.
    return _big_good() + line("avg1-000001", 91.0, 2.0)


def _big_unknown_last() -> bytes:
    return b"".join(_padded(label) for label in BIG_LABELS[:-1]) + line("avg1-199999", 10.0, 10.0)


def _ten_mb_line() -> bytes:
    return good(skip=("avg1-000005",)) + line("avg1-000005", -1.2921, 36.8219, reasoning="x" * (10 * 10**6))


def _long_line_after_bad_line() -> bytes:
    # Line 2 is bad JSON, line 3 is too long: the first problem in file order is line 2.
    return exact(LABELS[0]) + b"{oops}\n" + line("avg1-000002", 0.0, 0.0, reasoning="y" * (MAX_LINE_BYTES + 10))


def _two_long_lines() -> bytes:
    # Line 2 is 1.5 MiB and line 3 10 MB: both too long; the first one must be reported.
    long2 = line("avg1-000002", 0.0, 0.0, reasoning="y" * (3 * MAX_LINE_BYTES // 2))
    long3 = line("avg1-000003", 0.0, 0.0, reasoning="z" * (10 * 10**6))
    return exact(LABELS[0]) + long2 + long3


class Case:
    """A malformed file and the exact message it must give (the text after ``error: ``)."""

    def __init__(
        self,
        name: str,
        content: bytes | Callable[[], bytes],
        expected_message: str,
        allow_missing: bool = False,
        *,
        big_labels: bool = False,
    ) -> None:
        self.name = name
        self._content = content
        self.expected_message = expected_message
        self.allow_missing = allow_missing
        #: Score against ``BIG_LABELS`` instead of ``LABELS``.
        self.big_labels = big_labels

    @cached_property
    def content(self) -> bytes:
        return self._content() if callable(self._content) else self._content

    @property
    def labels(self) -> list[dict]:
        return BIG_LABELS if self.big_labels else LABELS

    def message(self, path: str | Path, labels: str | Path = "<labels>") -> str:
        """The expected message for this file at ``path`` scored against the labels at ``labels``."""
        return self.expected_message.replace("{path}", str(path)).replace("{labels}", str(labels))

    def __repr__(self) -> str:
        return f"Case({self.name!r})"


class Accepted(Case):
    """A valid file: ``records`` is what it means; ``counts`` what scoring it must report."""

    def __init__(
        self,
        name: str,
        content: bytes | Callable[[], bytes],
        records: list[dict] | Callable[[], list[dict]],
        *,
        predicted: int,
        abstained: int = 0,
        missing: int = 0,
        exact: bool = True,
        allow_missing: bool = False,
        big_labels: bool = False,
    ) -> None:
        super().__init__(name, content, "", allow_missing, big_labels=big_labels)
        self._records = records
        self.predicted, self.abstained, self.missing = predicted, abstained, missing
        #: Every prediction given lies exactly on its label.
        self.exact = exact

    @cached_property
    def records(self) -> list[dict]:
        return self._records() if callable(self._records) else self._records


def _records(content: bytes) -> list[dict]:
    return [json.loads(text) for text in content.decode("utf-8-sig").splitlines() if text.strip()]


P1, P2, P3 = "{path}:1: ", "{path}:2: ", "{path}:3: "
ARRAY = "expected one JSON object per line (JSON Lines), found a JSON array; convert it with: jq -c '.[]' FILE > FILE.jsonl"
ONE_LINE = "; each record must be one complete JSON object on a single line"
MISSING_HINT = (
    ". Add the missing predictions, or pass --allow-missing (allow_missing=True) to score them as the worst case "
    "(d = pi*R, GeoScore 0, every level missed) and report coverage."
)
TOO_LONG = "line is longer than the 1 MiB limit"
PARIS = ("avg1-000001",)

CASES: list[Case] = [
    # The file as a whole.
    Case("empty_file", b"", "{path}: the file is empty: expected one JSON object per line"),
    Case("only_blank_lines", b"\n   \n\r\n\t\n\n", "{path}: the file has only blank lines: expected one JSON object per line"),
    Case("not_json", good(PARIS) + b"hello world\n", "{path}:5: not valid JSON (Expecting value at column 1)"),
    Case("indented_bad_json", b"   \t{oops}\n" + good(), P1 + "not valid JSON (Expecting property name enclosed in double quotes at column 6)" + ONE_LINE),
    Case(
        "deeply_nested_unknown_key",  # the standard library would recurse until RecursionError
        good(PARIS) + b'{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
        "{path}:5: not valid JSON (arrays or objects nested too deeply)",
    ),
    Case("utf16_file", good().decode().encode("utf-16"), P1 + "not valid UTF-8 (byte 0xff at column 1); save the file as UTF-8"),
    Case("json_array_one_line", json.dumps(LABELS).encode() + b"\n", P1 + ARRAY),
    Case("json_array_pretty", json.dumps(LABELS, indent=2).encode() + b"\n", P1 + ARRAY),
    Case(
        "object_pretty",
        json.dumps({"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522}, indent=2).encode() + b"\n",
        P1 + "not valid JSON (Expecting property name enclosed in double quotes at column 2)" + ONE_LINE,
    ),
    Case("string_line", good(PARIS) + b'"avg1-000001"\n', '{path}:5: expected a JSON object, found string "avg1-000001"'),
    Case("number_line", raw("48.8566") + good(PARIS), P1 + "expected a JSON object, found number 48.8566"),
    Case(
        "two_objects_one_line",
        raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522} {"clip_id": "avg1-000002", "lat": 0, "lon": 0}'),
        P1 + "not valid JSON (Extra data at column 59)" + ONE_LINE,
    ),
    Case(
        "truncated_last_line",
        good(("avg1-000005",)) + b'{"clip_id": "avg1-000005", "lat": -1.29',
        "{path}:5: not valid JSON (Expecting ',' delimiter at column 40)" + ONE_LINE,
    ),
    Case(
        "bom_in_the_middle",  # two files concatenated, the second saved with a BOM
        good(("avg1-000004", "avg1-000005")) + b"\xef\xbb\xbf" + exact(LABELS[3]) + exact(LABELS[4]),
        "{path}:4: the line starts with a UTF-8 byte order mark (BOM), which only the start of a file may have "
        "(were files concatenated?); remove it",
    ),
    # Required keys.
    Case("missing_clip_id", raw('{"lat": 48.8566, "lon": 2.3522}'), P1 + "missing required key 'clip_id'"),
    Case("missing_lat", good(("avg1-000003",)) + raw('{"clip_id": "avg1-000003", "lon": 139.6503}'), "{path}:5: missing required key 'lat'"),
    Case("missing_lon", raw('{"clip_id": "avg1-000001", "lat": 48.8566}'), P1 + "missing required key 'lon'"),
    # Types.
    Case("lat_string", raw('{"clip_id": "avg1-000001", "lat": "48.8", "lon": 2.3522}'), P1 + "field 'lat' must be a number, found string \"48.8\""),
    Case("lon_boolean", raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": true}'), P1 + "field 'lon' must be a number, found true"),
    Case("lat_array", raw('{"clip_id": "avg1-000001", "lat": [48.8566], "lon": 2.3522}'), P1 + "field 'lat' must be a number, found array [48.8566]"),
    Case("clip_id_number", raw('{"clip_id": 12.5, "lat": 48.8566, "lon": 2.3522}'), P1 + "field 'clip_id' must be a non-empty string, found number 12.5"),
    Case("clip_id_object", raw('{"clip_id": {"id": 1}, "lat": 48.8566, "lon": 2.3522}'), P1 + 'field \'clip_id\' must be a non-empty string, found object {"id": 1}'),
    Case("clip_id_empty", raw('{"clip_id": "", "lat": 48.8566, "lon": 2.3522}'), P1 + 'field \'clip_id\' must be a non-empty string, found string ""'),
    Case("clip_id_null", raw('{"clip_id": null, "lat": 48.8566, "lon": 2.3522}'), P1 + "field 'clip_id' must be a non-empty string, found null"),
    # Non-finite numbers.
    Case("nan", raw('{"clip_id": "avg1-000001", "lat": NaN, "lon": 2.3522}'), P1 + "NaN is not valid JSON: numbers must be finite"),
    Case("infinity", raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": Infinity}'), P1 + "Infinity is not valid JSON: numbers must be finite"),
    Case("minus_infinity", raw('{"clip_id": "avg1-000001", "lat": -Infinity, "lon": 2.3522}'), P1 + "-Infinity is not valid JSON: numbers must be finite"),
    Case("overflow_1e999", raw('{"clip_id": "avg1-000001", "lat": 1e999, "lon": 2.3522}'), P1 + "field 'lat' must be a finite number, found inf"),
    Case(
        "huge_integer",  # too big for a float: must not crash with OverflowError
        raw('{"clip_id": "avg1-000001", "lat": 1' + "0" * 400 + ', "lon": 2.3522}'),
        P1 + "field 'lat' is out of range: an integer of 401 digits is not in [-90, 90]",
    ),
    Case(
        "integer_past_python_limit",  # more digits than Python converts: must not crash with ValueError
        raw('{"clip_id": "avg1-000001", "lat": 1' + "0" * 5000 + ', "lon": 2.3522}'),
        P1 + "not valid JSON (a number has too many digits)",
    ),
    # Ranges.
    Case("lat_91", raw('{"clip_id": "avg1-000001", "lat": 91, "lon": 2.3522}'), P1 + "field 'lat' is out of range: 91.0 is not in [-90, 90]"),
    Case("lat_below_minus_90", raw('{"clip_id": "avg1-000001", "lat": -90.0001, "lon": 2.3522}'), P1 + "field 'lat' is out of range: -90.0001 is not in [-90, 90]"),
    Case("lon_181", raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 181}'), P1 + "field 'lon' is out of range: 181.0 is not in [-180, 180]"),
    Case("lon_minus_180_5", raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": -180.5}'), P1 + "field 'lon' is out of range: -180.5 is not in [-180, 180]"),
    Case("lat_lon_swapped", raw('{"clip_id": "avg1-000003", "lat": 139.6503, "lon": 35.6762}'), P1 + "field 'lat' is out of range: 139.6503 is not in [-90, 90]"),
    # Abstentions.
    Case(
        "only_lat_null",
        raw('{"clip_id": "avg1-000001", "lat": null, "lon": 2.3522}'),
        P1 + "only one of 'lat' and 'lon' is null; to abstain set both to null",
    ),
    Case(
        "only_lon_null",
        raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": null}'),
        P1 + "only one of 'lat' and 'lon' is null; to abstain set both to null",
    ),
    # Ids against the labels.
    Case(
        "duplicate_clip_id",
        good() + line("avg1-000002", 0.0, 0.0),
        "{path}:6: duplicate clip_id 'avg1-000002' (first on line 2)",
    ),
    Case(
        "duplicate_clip_id_abstained_first",
        line("avg1-000002", None, None) + good(),
        "{path}:3: duplicate clip_id 'avg1-000002' (first on line 1)",
        allow_missing=True,
    ),
    Case(
        "unknown_clip_id_close",
        good(("avg1-000003",)) + line("avg1-00003", 35.6762, 139.6503),
        "{path}:5: unknown clip_id 'avg1-00003': not in the labels ({labels}); did you mean 'avg1-000003'?",
    ),
    Case(
        "unknown_clip_id_far",
        line("clip_42.mp4", 48.8566, 2.3522) + good(),
        P1 + "unknown clip_id 'clip_42.mp4': not in the labels ({labels})",
    ),
    Case(
        "missing_ids",
        good(("avg1-000002", "avg1-000004")),
        "{path}: 2 labelled clip(s) have no prediction: avg1-000002, avg1-000004" + MISSING_HINT,
    ),
    Case(
        "abstention_without_allow_missing",
        good(("avg1-000005",)) + line("avg1-000005", None, None),
        "{path}: 1 clip(s) abstained (lat/lon null): avg1-000005" + MISSING_HINT,
    ),
    # Encoding, size and duplicate keys.
    Case(
        "non_utf8",
        good(PARIS) + b'{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "reasoning": "caf\xff"}\n',
        "{path}:5: not valid UTF-8 (byte 0xff at column 76); save the file as UTF-8",
    ),
    Case(
        "latin1_file",
        good(PARIS) + line("avg1-000001", 48.8566, 2.3522, reasoning="café").replace("é".encode(), b"\xe9"),
        "{path}:5: not valid UTF-8 (byte 0xe9 at column 76); save the file as UTF-8",
    ),
    Case("line_of_10_mb", _ten_mb_line, "{path}:5: " + TOO_LONG),
    Case("two_long_lines", _two_long_lines, P2 + TOO_LONG),
    Case("long_line_after_bad_line", _long_line_after_bad_line, P2 + "not valid JSON (Expecting property name enclosed in double quotes at column 2)" + ONE_LINE),
    Case(
        "duplicate_lat_key",
        good(PARIS) + raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "lat": 0.0}'),
        "{path}:5: duplicate key 'lat' in one object",
    ),
    Case(
        "duplicate_clip_id_key",
        raw('{"clip_id": "avg1-000001", "clip_id": "avg1-000002", "lat": 48.8566, "lon": 2.3522}') + good(PARIS),
        P1 + "duplicate key 'clip_id' in one object",
    ),
    Case(
        "duplicate_escaped_key",  # "l\u0061t" is "lat": the same key twice, spelled differently
        good(PARIS) + raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "l\\u0061t": 0.0}'),
        "{path}:5: duplicate key 'lat' in one object",
    ),
    # Optional keys.
    Case("samples_not_a_list", raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "samples": "48.8,2.3"}'), P1 + "field 'samples' must be a list of [lat, lon] pairs, found string"),
    Case(
        "samples_pair_of_three",
        raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "samples": [[48.8, 2.3], [48.8, 2.3, 10.0]]}'),
        P1 + "field 'samples[1]' must be a [lat, lon] pair, found [48.8, 2.3, 10.0]",
    ),
    Case(
        "samples_pair_out_of_range",
        raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "samples": [[48.8, 2.3], [48.8, 200.0]]}'),
        P1 + "field 'samples[1] lon' is out of range: 200.0 is not in [-180, 180]",
    ),
    Case(
        "samples_pair_with_string",
        raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "samples": [["48.8", 2.3]]}'),
        P1 + "field 'samples[0] lat' must be a number, found string \"48.8\"",
    ),
    Case(
        "samples_pair_with_null",
        raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "samples": [[48.8, null]]}'),
        P1 + "field 'samples[0] lon' must be a number, found null",
    ),
    Case(
        "country_name",
        raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "country": "France"}'),
        P1 + "field 'country' must be an ISO 3166-1 alpha-2 code such as \"FR\", found \"France\"",
    ),
    Case(
        "country_lowercase",
        raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "country": "fr"}'),
        P1 + "field 'country' must be an ISO 3166-1 alpha-2 code such as \"FR\", found \"fr\"",
    ),
    Case(
        "reasoning_number",
        raw('{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "reasoning": 42}'),
        P1 + "field 'reasoning' must be a string or null, found number 42",
    ),
    # Errors past the first block of the reader, and the first of several.
    Case("bad_line_after_5000_good_lines", _big_bad_last, "{path}:5006: duplicate clip_id 'avg1-000001' (first on line 1)", big_labels=True),
    Case(
        "unknown_id_after_5000_good_lines",
        _big_unknown_last,
        "{path}:5005: unknown clip_id 'avg1-199999': not in the labels ({labels}); did you mean 'avg1-104999'?",
        big_labels=True,
    ),
    Case(
        "first_error_wins",
        exact(LABELS[0])
        + exact(LABELS[1])
        + raw('{"clip_id": "avg1-000003", "lat": 35.6762, "lon": "139.65"}')
        + exact(LABELS[3])
        + exact(LABELS[4])
        + b"\n"
        + b"not json at all\n",
        P3 + "field 'lon' must be a number, found string \"139.65\"",
    ),
    Case(
        "first_error_wins_json_later",
        raw('{"clip_id": "avg1-000001", "lat": 91, "lon": 2.3522}') + good(PARIS) + b"[1, 2]\n",
        P1 + "field 'lat' is out of range: 91.0 is not in [-90, 90]",
    ),
]


def _with_crlf(content: bytes) -> bytes:
    return content.replace(b"\n", b"\r\n")


_GOOD = good()
_EXACT_RECORDS = [{"clip_id": label["clip_id"], "lat": label["lat"], "lon": label["lon"]} for label in LABELS]
_FAR = [(90, 180), (-90, -180), (90.0, -180.0), (-90.0, 180.0), (0, 0)]
_OPTIONAL = b"".join(
    exact(label, samples=[[label["lat"], label["lon"]], [0.0, 0.0], [-90, 180]], country=country, reasoning=f"clip {i}")
    for i, (label, country) in enumerate(zip(LABELS, ["FR", "AU", "JP", None, "KE"]))
)
_UNICODE = (
    raw(
        '{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "reasoning": "caf\\u00e9, \\u6771\\u4eac, \\ud83c\\udf0d, \\"lat\\": 1"}'
    )
    + exact(LABELS[1], reasoning="Café au lait, 東京タワー, 🌍, «lat»")
    + exact(LABELS[2], reasoning="lat")  # a watched key's name as a value
    + exact(LABELS[3], notes={"lat": 1, "lon": 2})  # and as keys of an unknown nested object
    + exact(LABELS[4])
)

ACCEPTED: list[Accepted] = [
    Accepted("ok_plain", _GOOD, _EXACT_RECORDS, predicted=5),
    Accepted("ok_crlf", _with_crlf(_GOOD), _EXACT_RECORDS, predicted=5),
    Accepted("ok_bom", b"\xef\xbb\xbf" + _GOOD, _EXACT_RECORDS, predicted=5),
    Accepted("ok_bom_crlf_no_final_newline", b"\xef\xbb\xbf" + _with_crlf(_GOOD)[:-2], _EXACT_RECORDS, predicted=5),
    Accepted("ok_blank_lines", b"\n" + _GOOD.replace(b"}\n", b"}\n\n  \t\n", 2) + b"\n\r\n\n", _EXACT_RECORDS, predicted=5),
    Accepted("ok_no_trailing_newline", _GOOD[:-1], _EXACT_RECORDS, predicted=5),
    Accepted("ok_reordered_and_spaced", b"".join(b"  " + exact(label) for label in reversed(LABELS)), _EXACT_RECORDS, predicted=5),
    Accepted(
        "ok_extra_keys",
        b"".join(exact(label, model="mine", confidence=0.5, meta={"k": [1, 2]}, top5=None) for label in LABELS),
        _EXACT_RECORDS,
        predicted=5,
    ),
    Accepted(
        "ok_integer_coordinates",
        b"".join(line(label["clip_id"], round(label["lat"]), round(label["lon"])) for label in LABELS),
        [{"clip_id": label["clip_id"], "lat": round(label["lat"]), "lon": round(label["lon"])} for label in LABELS],
        predicted=5,
        exact=False,
    ),
    Accepted(
        "ok_exponent_notation",
        raw('{"clip_id": "avg1-000001", "lat": 4.88566e1, "lon": 23.522E-1}') + good(PARIS),
        _EXACT_RECORDS,
        predicted=5,
    ),
    Accepted(
        "ok_poles_and_antimeridian",
        b"".join(line(label["clip_id"], lat, lon) for label, (lat, lon) in zip(LABELS, _FAR)),
        [{"clip_id": label["clip_id"], "lat": lat, "lon": lon} for label, (lat, lon) in zip(LABELS, _FAR)],
        predicted=5,
        exact=False,
    ),
    Accepted("ok_optional_keys", _OPTIONAL, _EXACT_RECORDS, predicted=5),
    Accepted(
        "ok_optional_keys_null",
        b"".join(exact(label, samples=None, country=None, reasoning=None) for label in LABELS),
        _EXACT_RECORDS,
        predicted=5,
    ),
    Accepted("ok_unicode_reasoning", _UNICODE, _EXACT_RECORDS, predicted=5),
    Accepted(
        "ok_repeated_unknown_keys",  # unknown keys are ignored, repeated or not, and so is what they hold
        raw(
            '{"clip_id": "avg1-000001", "lat": 48.8566, "lon": 2.3522, "model": "a", "model": "b"}',
            '{"clip_id": "avg1-000002", "lat": -33.8688, "lon": 151.2093, "top2": [{"lat": 1, "lat": 2, "lon": 3}]}',
            '{"clip_id": "avg1-000003", "lat": 35.6762, "lon": 139.6503, "reasoning": "lat"}',
        )
        + good(("avg1-000001", "avg1-000002", "avg1-000003")),
        _EXACT_RECORDS,
        predicted=5,
    ),
    Accepted(
        "ok_abstention_allow_missing",
        good(("avg1-000002",)) + line("avg1-000002", None, None),
        [r for r in _EXACT_RECORDS if r["clip_id"] != "avg1-000002"] + [{"clip_id": "avg1-000002", "lat": None, "lon": None}],
        predicted=4,
        abstained=1,
        allow_missing=True,
    ),
    Accepted(
        "ok_missing_allow_missing",
        good(("avg1-000003", "avg1-000005")),
        [r for r in _EXACT_RECORDS if r["clip_id"] not in ("avg1-000003", "avg1-000005")],
        predicted=3,
        missing=2,
        allow_missing=True,
    ),
    Accepted(
        "ok_missing_and_abstained_allow_missing",
        line("avg1-000001", None, None) + exact(LABELS[3]),
        [{"clip_id": "avg1-000001", "lat": None, "lon": None}, _EXACT_RECORDS[3]],
        predicted=1,
        abstained=1,
        missing=3,
        allow_missing=True,
    ),
    Accepted(
        "ok_5005_lines",
        _big_good,
        lambda: [{"clip_id": label["clip_id"], "lat": label["lat"], "lon": label["lon"]} for label in BIG_LABELS],
        predicted=len(BIG_LABELS),
        big_labels=True,
    ),
]


def labels_jsonl(labels: list[dict]) -> bytes:
    return b"".join(json.dumps(label).encode() + b"\n" for label in labels)


def write_all(outdir: str | Path) -> list[Path]:
    """Write every case, both label files and ``expected.json`` (name -> message) to ``outdir``."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "labels.jsonl").write_bytes(labels_jsonl(LABELS))
    (out / "labels-big.jsonl").write_bytes(labels_jsonl(BIG_LABELS))
    written = []
    for case in CASES + ACCEPTED:
        path = out / f"{case.name}.jsonl"
        path.write_bytes(case.content)
        written.append(path)
    expected = {
        case.name: {
            "labels": "labels-big.jsonl" if case.big_labels else "labels.jsonl",
            "allow_missing": case.allow_missing,
            "message": case.expected_message or None,
        }
        for case in CASES + ACCEPTED
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: python {Path(__file__).name} OUTDIR")
    paths = write_all(sys.argv[1])
    print(f"wrote {len(paths)} prediction files to {sys.argv[1]}")

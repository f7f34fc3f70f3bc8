"""What a submission must carry besides the file, checked the same way for the API and the page."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from avg_bench._version import __version__
from avg_bench.errors import AvgBenchError
from avg_bench.modality import MODALITY_SET_NAMES
from avg_bench.spec import AVG_V1

#: The modality words a submission may declare: the project's set names (avg_bench.modality), "none"
#: for a prior that reads no input. Stored as these words, so rows written before "none" still read.
MODALITIES = MODALITY_SET_NAMES
SPLITS = ("val", "test")
_LINK = re.compile(r"https?://[^\s<>\"']+")
#: Unicode categories refused in names and other text fields: controls (C0, C1), format characters
#: (bidi overrides and isolates such as U+202E, zero-width characters), line and paragraph separators,
#: surrogates, private use. A right-to-left override in a model name can make the table lie.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


def refused_character(text: str) -> str | None:
    """The first control, bidi or other invisible formatting character in ``text``, as ``U+XXXX NAME``.

    >>> refused_character("model \u202egnp.exe"), refused_character("Modèle 東京 v2")
    ('U+202E RIGHT-TO-LEFT OVERRIDE', None)
    """
    for char in text:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return f"U+{ord(char):04X} {unicodedata.name(char, 'control character')}"
    return None


def check_name(value: str, field: str, error: type[AvgBenchError] = AvgBenchError) -> None:
    """Refuse text with control or bidi characters, naming the field and the character."""
    if found := refused_character(value):
        raise error(f"field {field!r} contains a control or bidirectional-text character ({found}); remove it")


class SubmissionError(AvgBenchError):
    """A submission's metadata is invalid; the message names the field."""


@dataclass(frozen=True)
class SubmissionMeta:
    """What a submitter declares beside the file; checked on construction."""
    model_name: str
    split: str = "val"
    config: str = "seen"
    modalities: str = "audio+visual"
    link: str = ""
    external_data: str = ""
    toolkit_version: str = __version__
    dataset_version: str = ""

    def __post_init__(self) -> None:
        for name, limit in (("model_name", 200), ("link", 500), ("external_data", 500), ("toolkit_version", 50), ("dataset_version", 100)):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise SubmissionError(f"field {name!r} must be text")
            value = value.strip()
            object.__setattr__(self, name, value)
            if len(value) > limit:
                raise SubmissionError(f"field {name!r} is longer than {limit} characters ({len(value)})")
            check_name(value, name, SubmissionError)
        if not self.model_name:
            raise SubmissionError("field 'model_name' is required (the name shown in the table)")
        if self.split not in SPLITS:
            raise SubmissionError(f"field 'split' must be one of {', '.join(SPLITS)}, found {self.split!r}")
        if self.config not in AVG_V1.configs:
            raise SubmissionError(f"field 'config' must be one of {', '.join(AVG_V1.configs)}, found {self.config!r}")
        if self.modalities not in MODALITIES:
            raise SubmissionError(f"field 'modalities' must be one of {', '.join(MODALITIES)}, found {self.modalities!r}")
        if self.link and not _LINK.fullmatch(self.link):
            raise SubmissionError("field 'link' must be an http:// or https:// URL to the code or paper (or empty)")

    def columns(self) -> dict[str, Any]:
        """The metadata as database columns of the submissions table."""
        return {
            "model_name": self.model_name,
            "split": self.split,
            "config": self.config,
            "modalities": self.modalities,
            "link": self.link,
            "external_data": self.external_data,
            "toolkit_version": self.toolkit_version,
            "dataset_version": self.dataset_version,
        }

"""``avg-bench publish``: push a built dataset (shards, card, checksums) to the Hugging Face Hub.

What goes is an allow-list, never "the folder": ``README.md``, ``build_info.json``,
``checksums.sha256``, the public ``manifest.jsonl`` and ``data/<config>/<split>-*.parquet``. The
work folder (``.work``: ledger, report, per-clip media) and any hidden-labels folder never go.
Before anything is sent, :func:`avg_bench.data.public.labels_in_public` must find nothing: every
hidden split holds no label (every answer column null) and no column outside its allow-list, and
the public manifest names no hidden clip. And every clip's ``license`` must allow redistribution
(:mod:`avg_bench.data.licences`): a shard holding media whose source licence does not is refused,
with each such clip and the reason listed (``--dry-run`` shows the list without pushing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from avg_bench.data.build import CHECKSUMS
from avg_bench.data.public import PUBLIC_MANIFEST, labels_in_public
from avg_bench.errors import AvgBenchError

ALLOW = ("README.md", "build_info.json", CHECKSUMS, PUBLIC_MANIFEST, "data/*/*.parquet")


class PublishError(AvgBenchError):
    """The folder is not fit to publish, or the Hub refused it."""


@dataclass(frozen=True)
class RefusedClip:
    """A clip whose media may not be redistributed, and why."""

    shard: str
    clip_id: str
    licence: str | None
    reason: str


@dataclass(frozen=True)
class PublishPlan:
    """What ``publish`` will upload: the folder, its files, and the clips refused for their licence."""
    folder: Path
    files: list[str]
    refused: list[RefusedClip] = field(default_factory=list)

    def refusal(self) -> str:
        """One error message for every refused clip (the first few named, then a count)."""
        shown = "; ".join(f"{r.clip_id} in {r.shard} ({r.reason})" for r in self.refused[:5])
        more = f"; and {len(self.refused) - 5} more" if len(self.refused) > 5 else ""
        return (f"{self.folder}: {len(self.refused)} clip(s) carry media whose source licence does not allow "
                f"redistribution: {shown}{more}. Rebuild from a manifest without them (see --dry-run for the list).")


def plan(folder: str | Path) -> PublishPlan:
    """The files that would be pushed, after checking the folder is a built dataset without hidden labels."""
    folder = Path(folder)
    if not (folder / CHECKSUMS).is_file() or not (folder / "data").is_dir():
        raise PublishError(f"{folder}: not a built dataset (no {CHECKSUMS} or data/); run avg-bench build first")
    files = sorted(
        p.relative_to(folder).as_posix() for pattern in ALLOW for p in folder.glob(pattern)
        if ".work" not in p.parts and not any("hidden-labels" in part for part in p.relative_to(folder).parts)
    )
    if _build_info(folder).get("labelled_only"):
        raise PublishError(f"{folder}: a rebuild from the public manifest holds train and val only (no test split, no "
                           "held-out commitment); publish the operator's build instead")
    leaks = labels_in_public(folder)
    if leaks:
        raise PublishError(f"{folder}: the hidden split carries labels or a public file names a hidden clip; refusing to publish: "
                           + "; ".join(leaks[:5]) + ". Rebuild with avg-bench build, which withholds them.")
    refused = []
    for name in files:
        if name.startswith("data/"):
            refused += _refused_licences(folder / name, name)
    return PublishPlan(folder, files, refused)


def _build_info(folder: Path) -> dict:
    """The folder's ``build_info.json`` ({} when absent); unreadable JSON is a PublishError, not a traceback."""
    path = folder / "build_info.json"
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PublishError(f"{path}: not valid JSON ({exc}); rebuild the dataset") from None
    if not isinstance(info, dict):
        raise PublishError(f"{path}: not a JSON object; rebuild the dataset")
    return info


def _refused_licences(shard: Path, name: str) -> list[RefusedClip]:
    import pyarrow.parquet as pq

    from avg_bench.data.licences import verdict

    table = pq.read_table(shard, columns=["clip_id", "license"]).to_pydict()
    verdicts: dict = {}
    refused = []
    for clip_id, licence in zip(table["clip_id"], table["license"]):
        if licence not in verdicts:
            verdicts[licence] = verdict(licence)
        if not verdicts[licence].redistributable:
            refused.append(RefusedClip(name, clip_id, licence, verdicts[licence].reason))
    return refused


def publish(folder: str | Path, repo: str, *, revision: str | None = None, private: bool = False,
            token: str | None = None, message: str | None = None, api=None) -> str:
    """Push the planned files to the dataset repo ``repo``; returns the commit URL.

    ``api`` is a ``huggingface_hub.HfApi`` (made here when None); tests pass a stand-in.
    """
    chosen = plan(folder)
    if chosen.refused:
        raise PublishError(chosen.refusal())
    if api is None:
        try:
            from huggingface_hub import HfApi
        except ImportError:
            raise PublishError("publishing needs huggingface_hub: pip install 'avg-bench[remote]'") from None
        api = HfApi(token=token)
    try:
        api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
        info = api.upload_folder(
            repo_id=repo, repo_type="dataset", folder_path=str(chosen.folder), revision=revision,
            allow_patterns=chosen.files, ignore_patterns=[".work/**", "*hidden-labels*/**"],
            commit_message=message or f"AVG-Bench publish: {len(chosen.files)} files",
        )
    except AvgBenchError:
        raise
    except Exception as exc:  # the Hub client's many HTTP/auth errors: one clear line
        raise PublishError(f"pushing {chosen.folder} to {repo} failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                           " (logged in? `hf auth login` or pass --token)") from None
    return str(getattr(info, "commit_url", info))

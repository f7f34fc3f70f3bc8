"""``avg-bench publish``: push a built dataset (shards, card, checksums) to the Hugging Face Hub.

What goes is an allow-list, never "the folder": ``README.md``, ``build_info.json``,
``checksums.sha256``, the public ``manifest.jsonl`` and ``data/<config>/<split>-*.parquet``. The
work folder (``.work``: ledger, report, per-clip media) and any hidden-labels folder never go.
Before anything is sent, :func:`avg_bench.data.public.labels_in_public` must find nothing: every
hidden split holds no label (every answer column null) and no column outside its allow-list, and
the public manifest names no hidden clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from avg_bench.data.build import CHECKSUMS
from avg_bench.data.public import PUBLIC_MANIFEST, labels_in_public
from avg_bench.errors import AvgBenchError

ALLOW = ("README.md", "build_info.json", CHECKSUMS, PUBLIC_MANIFEST, "data/*/*.parquet")


class PublishError(AvgBenchError):
    """The folder is not fit to publish, or the Hub refused it."""


@dataclass(frozen=True)
class PublishPlan:
    folder: Path
    files: list[str]


def plan(folder: str | Path) -> PublishPlan:
    """The files that would be pushed, after checking the folder is a built dataset without hidden labels."""
    folder = Path(folder)
    if not (folder / CHECKSUMS).is_file() or not (folder / "data").is_dir():
        raise PublishError(f"{folder}: not a built dataset (no {CHECKSUMS} or data/); run avg-bench build first")
    files = sorted(
        p.relative_to(folder).as_posix() for pattern in ALLOW for p in folder.glob(pattern)
        if ".work" not in p.parts and not any("hidden-labels" in part for part in p.relative_to(folder).parts)
    )
    refused = labels_in_public(folder)
    if refused:
        raise PublishError(f"{folder}: the hidden split carries labels or a public file names a hidden clip; refusing to publish: "
                           + "; ".join(refused[:5]) + ". Rebuild with avg-bench build, which withholds them.")
    return PublishPlan(folder, files)


def publish(folder: str | Path, repo: str, *, revision: str | None = None, private: bool = False,
            token: str | None = None, message: str | None = None, api=None) -> str:
    """Push the planned files to the dataset repo ``repo``; returns the commit URL.

    ``api`` is a ``huggingface_hub.HfApi`` (made here when None); tests pass a stand-in.
    """
    chosen = plan(folder)
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

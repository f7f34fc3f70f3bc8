"""``avg-bench download``: the hosted copy of a built dataset, from the Hugging Face Hub or an HTTP mirror.

Either way the shards are checked against ``checksums.sha256`` (the file ``build`` writes) before
they count: a mismatch is deleted and refused. The mirror path resumes interrupted files with HTTP
Range requests (a ``.part`` file beside the target); the Hub path uses ``huggingface_hub`` with a
pinned revision (its own cache resumes). When the host cannot be reached, the message says how to
rebuild from the public manifest instead.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from avg_bench.cache import sha256_file
from avg_bench.data.build import CHECKSUMS
from avg_bench.errors import AvgBenchError
from avg_bench.spec import AVG_V1

#: The Hub dataset repository of AVG and the revision downloads pin by default.
HUB_REPO = "avg-bench/AVG"
DEFAULT_REVISION = "main"
#: Small files that travel with the shards (no checksum line of their own).
EXTRA_FILES = ("README.md", "build_info.json", "manifest.jsonl")
CHUNK = 1 << 20
_REBUILD = ("the labelled clips can be rebuilt from the release's public manifest instead (manifest.jsonl, each row with its "
            "splits): avg-bench build manifest.jsonl --out DIR (see avg-bench build --help); test media come only from a hosted copy")


class DownloadError(AvgBenchError):
    """The hosted copy could not be fetched or did not verify."""


@dataclass(frozen=True)
class DownloadResult:
    """What a download fetched: the files in place, those resumed from a partial copy, and the bytes moved."""
    out_dir: Path
    files: list[str]
    resumed: list[str]
    bytes_fetched: int


def parse_checksums(text: str, source: str) -> dict[str, str]:
    """``relative path -> sha256`` from a ``sha256sum`` file; a bad line is an error naming it."""
    found = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name or name.startswith("/") or ".." in Path(name).parts:
            raise DownloadError(f"{source}:{number}: expected 'SHA256  relative/path', found {line[:80]!r}")
        found[name.strip()] = digest.lower()
    return found


def selected(names: dict[str, str], *, config: str | None, split: str | None) -> dict[str, str]:
    """The checksum entries of one config and/or split (``data/<config>/<split>-*.parquet``)."""
    if config is not None and config not in AVG_V1.configs:
        raise DownloadError(f"unknown config {config!r}: expected one of {', '.join(AVG_V1.configs)}")
    if split is not None and split not in AVG_V1.splits:
        raise DownloadError(f"unknown split {split!r}: expected one of {', '.join(AVG_V1.splits)}")
    chosen = {}
    for name, digest in names.items():
        parts = Path(name).parts
        if len(parts) == 3 and parts[0] == "data":
            if (config is None or parts[1] == config) and (split is None or parts[2].startswith(f"{split}-")):
                chosen[name] = digest
    return chosen


def download_mirror(url: str, out_dir: str | Path, *, config: str | None = None, split: str | None = None,
                    timeout_s: float = 60.0, attempts: int = 3) -> DownloadResult:
    """Fetch a dataset from an HTTP mirror (the folder ``build`` wrote, served as it is)."""
    base = url.rstrip("/") + "/"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    checksums_text = _get_text(base + CHECKSUMS, timeout_s)
    wanted = selected(parse_checksums(checksums_text, base + CHECKSUMS), config=config, split=split)
    if not wanted:
        raise DownloadError(f"{base}{CHECKSUMS} lists no shard of config={config or 'any'} split={split or 'any'}")
    fetched = 0
    resumed: list[str] = []
    for name, digest in sorted(wanted.items()):
        target = out / name
        if target.is_file() and sha256_file(target) == digest:
            continue
        for attempt in range(1, attempts + 1):
            try:
                got, was_resumed = _fetch_resumable(base + name, target, timeout_s, digest)
                fetched += got
                if was_resumed:
                    resumed.append(name)
                break
            except (urllib.error.URLError, OSError, TimeoutError, http.client.HTTPException) as exc:
                if isinstance(exc, urllib.error.HTTPError) and exc.code < 500 and exc.code != 429:
                    raise DownloadError(f"{base}{name}: HTTP {exc.code} {exc.reason}") from None
                if attempt == attempts:
                    raise DownloadError(f"{base}{name}: the transfer failed {attempts} times ({exc}); "
                                        "re-run to resume from where it stopped") from None
        actual = sha256_file(target)
        if actual != digest:
            target.unlink()
            raise DownloadError(f"{base}{name}: sha256 {actual} does not match {digest} in {CHECKSUMS}; "
                                "the file was deleted (a corrupt or tampered mirror?)")
    for extra in EXTRA_FILES:
        try:
            data = _get_bytes(base + extra, timeout_s)
        except DownloadError:
            continue
        (out / extra).write_bytes(data)
    (out / CHECKSUMS).write_text("".join(f"{d}  {n}\n" for n, d in sorted(wanted.items())))
    return DownloadResult(out, sorted(wanted), resumed, fetched)


def _fetch_resumable(url: str, target: Path, timeout_s: float, digest: str | None = None) -> tuple[int, bool]:
    """Append to ``target.part`` from where it stopped (HTTP Range), then rename; (bytes fetched, resumed?).

    A ``.part`` already complete (killed between the last write and the rename) is renamed without
    a request: asking for ``bytes=SIZE-`` would get a 416 from a correct host.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have and digest is not None and sha256_file(part) == digest:
        part.replace(target)
        return 0, True
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    got = 0
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)  # noqa: S310 (http(s) only)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not have:
            raise
        part.unlink()  # a .part longer than the file, or complete but wrong: start over
        return _fetch_resumable(url, target, timeout_s, digest)
    with response:
        resumed = have > 0 and response.status == 206
        if have and not resumed:  # the mirror ignored Range: start over
            have = 0
        expected = response.headers.get("Content-Length")
        with open(part, "ab" if resumed else "wb") as sink:
            for block in iter(lambda: response.read(CHUNK), b""):
                sink.write(block)
                got += len(block)
            sink.flush()
            os.fsync(sink.fileno())
        if expected is not None and got < int(expected):
            raise OSError(f"connection closed after {got} of {expected} bytes")
    part.replace(target)
    return got, resumed


def _get_bytes(url: str, timeout_s: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310
            return response.read()
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"cannot reach {url} ({reason}); {_REBUILD}") from None


def _get_text(url: str, timeout_s: float) -> str:
    return _get_bytes(url, timeout_s).decode("utf-8")


def download_hub(out_dir: str | Path, *, repo: str = HUB_REPO, revision: str = DEFAULT_REVISION,
                 config: str | None = None, split: str | None = None, token: str | None = None) -> DownloadResult:
    """Fetch from the Hugging Face Hub at a pinned revision, then verify every shard's sha256."""
    try:
        from huggingface_hub import hf_hub_download, snapshot_download
        from huggingface_hub.errors import (
            HfHubHTTPError,
            LocalEntryNotFoundError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )
    except ImportError:
        raise DownloadError("the Hub download needs huggingface_hub: pip install 'avg-bench[remote]'") from None
    out = Path(out_dir)
    try:
        checksum_file = hf_hub_download(repo, CHECKSUMS, repo_type="dataset", revision=revision, local_dir=out, token=token)
        wanted = selected(parse_checksums(Path(checksum_file).read_text(), f"{repo}@{revision}/{CHECKSUMS}"),
                          config=config, split=split)
        snapshot_download(repo, repo_type="dataset", revision=revision, local_dir=out, token=token,
                          allow_patterns=[*wanted, *EXTRA_FILES, CHECKSUMS])
    except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
        raise DownloadError(f"{repo}@{revision}: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        why = "HF_HUB_OFFLINE is set and the files are not in the local cache" if offline else str(exc).splitlines()[0]
        raise DownloadError(f"cannot get {repo}@{revision} from the Hugging Face Hub ({why}); {_REBUILD}") from None
    for name, digest in wanted.items():
        actual = sha256_file(out / name)
        if actual != digest:
            (out / name).unlink()
            raise DownloadError(f"{repo}@{revision}/{name}: sha256 {actual} does not match {CHECKSUMS}; deleted")
    return DownloadResult(out, sorted(wanted), [], 0)

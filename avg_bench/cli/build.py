"""``avg-bench build``: materialise a manifest into parquet shards (local or remote sources)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from avg_bench.cli.root import app
from avg_bench.data.fetch import FetchOptions
from avg_bench.data.remote import RunOptions

# Defaults come from the option dataclasses, so the CLI and the library cannot drift apart.
_RUN = RunOptions()
_FETCH = FetchOptions()

_EPILOG = (
    "[bold]Examples[/]\n\n"
    "  avg-bench synth --locations 12 --videos-per-location 5 --out synth/\n"
    "  avg-bench build synth/manifest.jsonl --out avg-synth/ --name AVG-Synth --clips-per-location 20\n"
    "  avg-bench build avg-v1.jsonl --out avg/ --workers 4 --rate 30 --cookies cookies.txt\n"
    "  avg-bench build avg-v1.jsonl --out avg/ --retry-failed --classes http_429,network\n"
    "  avg-bench build avg-v1.jsonl --out part0/ --shard 0/2      (and part1/ --shard 1/2 elsewhere)\n"
    "  avg-bench build avg-v1.jsonl --out avg/ --merge part0/ --merge part1/\n"
    "  avg-bench build --report avg/ --json\n"
    "  avg-bench build avg-download/manifest.jsonl --out avg-rebuilt/   (a public manifest: its published splits)\n\n"
    "Re-running resumes: finished clips are never processed again. Every clip, local or remote, is\n"
    "recorded in a per-clip ledger (OUT/.work/ledger.sqlite); remote sources (http(s) URLs,\n"
    "YouTube/Vimeo ids) are fetched with yt-dlp, one section per clip. Failed clips keep their error class; a plain re-run does not\n"
    "retry them: --retry-failed retries the retryable classes (bot_check, http_429, http_403, network,\n"
    "ffmpeg, validation_failed), --classes chooses; permanent classes (unavailable, removed, private,\n"
    "geo_blocked, age_gated) are retried only when named in --classes. Exit code 1 while retryable or\n"
    "pending clips remain. Hidden test labels, the held-out table and the hidden clips' manifest rows go to\n"
    "OUT-hidden-labels/ (beside OUT, never inside it); the geo-holdout test locations are drawn with a secret\n"
    "key (--holdout-key), and only their commitment (sha256) is published. A public manifest (the\n"
    "manifest.jsonl of a released dataset, every row with its splits) is rebuilt with the splits it\n"
    "states: train and val as published, empty test splits, no key and no hidden labels."
)


@app.command(epilog=_EPILOG)
def build(
    manifest: Path = typer.Argument(None, help="Manifest .jsonl (one clip per line); not needed with --report."),
    out: Path = typer.Option(None, "--out", "-o", help="Dataset folder to write."),
    name: str = typer.Option("AVG", "--name", help="Dataset name written into the card."),
    labels_out: Path = typer.Option(None, "--labels-out", help="Folder for the hidden test labels (default: OUT-hidden-labels)."),
    workers: int = typer.Option(_RUN.workers, "--workers", "-w", min=1, help="Clips processed in parallel."),
    clips_per_location: int = typer.Option(None, "--clips-per-location", help="Expected clips per location, checked by validate."),
    rate: float = typer.Option(_RUN.requests_per_minute, "--rate", min=0, help="Fetches per minute, all workers together (0: no limit). A fetch is one info "
        "extraction or one section download (which is several HTTP requests); see --host-requests."),
    host_requests: float = typer.Option(_RUN.host_requests_per_minute, "--host-requests", min=0, help="Ceiling on HTTP requests per host in any minute, "
        "counting every request ffmpeg and yt-dlp make (0: none)."),
    retries: int = typer.Option(_RUN.retries, "--retries", min=0, help="In-run retries of a retryable failure, with exponential backoff and jitter."),
    backoff: float = typer.Option(_RUN.backoff_base_s, "--backoff", min=0, help="First backoff delay in seconds (doubles per retry; a 429's Retry-After "
        "wins)."),
    retry_failed: bool = typer.Option(_RUN.retry_failed, "--retry-failed", help="Retry clips that failed in earlier runs (retryable classes, or --classes)."),
    classes: str = typer.Option(None, "--classes", help="With --retry-failed: comma-separated error classes (or all, retryable, permanent)."),
    shard: str = typer.Option(None, "--shard", help="Build only part i of N (i/N, by source video); join the parts with --merge."),
    merge: list[Path] = typer.Option([], "--merge", help="A --shard part folder to join into OUT (repeat per part)."),
    cookies: Path = typer.Option(None, "--cookies", exists=True, dir_okay=False, help="Netscape cookies.txt for yt-dlp (after a bot check)."),
    timeout: float = typer.Option(_FETCH.timeout_s, "--timeout", min=1, help="Seconds one fetch may take in all: an info extraction, a bot-page check or a "
        "section download."),
    stall_timeout: float = typer.Option(_FETCH.stall_s, "--stall-timeout", min=1, help="Watchdog: end a fetch that receives no data for this many seconds "
        "(judged on bytes arriving, not on the output file)."),
    margin: float = typer.Option(_FETCH.margin_s, "--margin", min=0, help="Seconds fetched before and after each clip's cut."),
    holdout_key: Path = typer.Option(None, "--holdout-key", help="The operator's secret key file for the geo-holdout draw "
                                     "(default: $AVG_BENCH_HOLDOUT_KEY, else LABELS/holdout.key, made at random on first use)."),
    report: Path = typer.Option(None, "--report", help="Print the report of the build folder DIR (from its ledger) and exit."),
    as_json: bool = typer.Option(False, "--json", help="Print the build report as JSON on stdout."),
) -> None:
    """Build a dataset from a manifest of local or remote sources.

    Canonical media (every clip recorded in a per-clip ledger, with a report), splits for both protocols, parquet shards with media embedded,
    checksums, hidden test labels and the dataset card.
    """
    from avg_bench.errors import AvgBenchError

    if report is not None:
        from avg_bench.data.build_report import render_report, report_of

        found = report_of(report)
        typer.echo(json.dumps(found, indent=2) if as_json else render_report(found))
        return
    if manifest is None or out is None:
        raise AvgBenchError("build needs a MANIFEST and --out DIR (or --report DIR); see avg-bench build --help")
    if classes is not None and not retry_failed:
        raise AvgBenchError("--classes chooses what --retry-failed retries: add --retry-failed")

    from avg_bench.data.build import build_dataset
    from avg_bench.data.build_report import render_report
    from avg_bench.data.failures import parse_classes
    from avg_bench.data.remote import parse_shard

    options = RunOptions(
        workers=workers, requests_per_minute=rate, host_requests_per_minute=host_requests, retries=retries, backoff_base_s=backoff, retry_failed=retry_failed,
        classes=parse_classes(classes), shard=parse_shard(shard) if shard else None,
        fetch=FetchOptions(margin_s=margin, timeout_s=timeout, stall_s=stall_timeout, cookies=cookies),
    )
    if options.shard is not None and merge:
        raise AvgBenchError("--shard builds one part and --merge joins parts: use them in separate runs")
    result = build_dataset(
        manifest, out, name=name, labels_dir=labels_out, workers=workers, expected_clips_per_location=clips_per_location,
        run_options=options, merge=merge, progress=not as_json, holdout_key=holdout_key,
    )
    echo = (lambda text: typer.echo(text, err=True)) if as_json else typer.echo
    if result.report is not None:
        echo(render_report(result.report))
        if as_json:
            typer.echo(json.dumps(result.report, indent=2))
    if result.outcome is not None and result.outcome.breaker:
        echo(
            "paused at the first bot check: " + result.outcome.breaker.splitlines()[0] + "\n"
            "The host wants to confirm you are not a bot; every worker stopped. Wait (hours, not minutes), or export\n"
            "cookies from a logged-in browser to cookies.txt and pass --cookies cookies.txt, then re-run with\n"
            "--retry-failed --classes bot_check (pending clips resume by themselves)."
        )
    if result.dataset_written:
        for config, splits in result.counts.items():
            echo(f"{config}: " + ", ".join(f"{split} {n}" for split, n in splits.items()))
        if result.failed_checks:
            echo(f"{len(result.failed_checks)} clip(s) failed content checks; run avg-bench validate {out}")
        if result.labelled_only:
            echo(f"wrote {out} (revision {result.revision}): the public manifest's train and val as published; "
                 "no test split (its media come only from the hosted copy)")
        else:
            echo(f"wrote {out} (revision {result.revision}); hidden test labels in {result.labels_dir}")
    else:
        echo(f"built shard {shard} into {out}; join the parts with: avg-bench build MANIFEST --out DIR --merge {out} ...")
    if result.report is not None and not result.complete:
        states = result.report["states"]
        if states["pending"] or states["retryable"]:
            echo(f"incomplete: {states['pending']} pending and {states['retryable']} retryable clip(s); "
                 "re-run (add --retry-failed to retry the failures)")
            raise typer.Exit(1)
        echo(f"{states['permanent']} clip(s) failed permanently and are left out (see the report above)")

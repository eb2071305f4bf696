"""Batch commands: label files of replies, import exports, score transcripts, write the report."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import IO

import click

from ..config import get_settings
from .common import errors_to_exit, load_classifier, main, model_option


class ProgressLine:
    """A one-line progress bar with rate and ETA on stderr; silent unless stderr is a terminal."""

    def __init__(self, enabled: bool, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self._last = 0.0
        self._drawn = False

    def __call__(self, p: object) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        read, elapsed = p.read, max(p.elapsed, 1e-9)  # type: ignore[attr-defined]
        done, total = p.done, p.total  # type: ignore[attr-defined]
        rate = read / elapsed
        if total:
            frac = min(1.0, done / total)
            eta = elapsed * (1 - frac) / frac if frac > 0 else 0.0
            bar = "#" * int(frac * 24)
            text = f"\r[{bar:<24}] {100 * frac:5.1f}%  {read:,} rows  {rate:,.0f}/s  ETA {_clock(eta)}"
        else:
            text = f"\r{read:,} rows  {rate:,.0f}/s  {_clock(elapsed)}"
        self.stream.write(text.ljust(80))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the progress line so the summary starts on its own line."""
        if self._drawn:
            self.stream.write("\r" + " " * 80 + "\r")
            self.stream.flush()


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _progress(quiet: bool) -> ProgressLine:
    return ProgressLine(enabled=not quiet and sys.stderr.isatty())


@main.command()
@click.argument("input_path", metavar="IN", type=click.Path(path_type=Path, allow_dash=True))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, allow_dash=True), required=True, help="Output file ('-': stdout)."
)
@click.option(
    "--format",
    "input_format",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default=None,
    help="Input format (default: from the extension; JSON Lines for '-').",
)
@click.option(
    "--output-format",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default=None,
    help="Output format (default: from the extension, else the input's).",
)
@click.option(
    "--text-column", "--text-field", "text_column", default="text", show_default=True, help="Column holding the reply."
)
@click.option(
    "--rejects", type=click.Path(path_type=Path), default=None, help="Where bad rows go (default: OUT.rejects.jsonl)."
)
@click.option("--jobs", "-j", default=1, show_default=True, help="Worker processes (0: one per CPU).")
@click.option("--resume", is_flag=True, help="Continue an interrupted job from its last committed chunk.")
@click.option("--max-rejects", type=int, default=None, help="Give up (exit 1) after more than N rejected rows.")
@click.option("--chunk-size", default=2048, show_default=True, help="Rows per chunk.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@model_option
@errors_to_exit
def label(
    input_path: Path,
    output: Path,
    input_format: str | None,
    output_format: str | None,
    text_column: str,
    rejects: Path | None,
    jobs: int,
    resume: bool,
    max_rejects: int | None,
    chunk_size: int,
    quiet: bool,
    model_path: Path | None,
) -> None:
    """Label every row of a JSON Lines, CSV or Parquet file, keeping all its columns and order.

    Rows that cannot be parsed or have no text go to a rejects file with their line
    number and reason. Output to a file appears only when complete; an interrupted
    job continues with --resume.

    Example: replyqa label history.csv -o labeled.parquet --text-column body --jobs 2
    """
    import os

    from ..batch import label_file

    bar = _progress(quiet)
    try:
        stats = label_file(
            load_classifier(model_path),
            input_path,
            output,
            input_format=input_format,
            output_format=output_format,
            text_column=text_column,
            rejects=rejects,
            chunk_size=chunk_size,
            jobs=jobs or os.cpu_count() or 1,
            resume=resume,
            max_rejects=max_rejects,
            progress=bar,
        )
    except KeyboardInterrupt:
        bar.close()
        hint = "" if str(output) == "-" else "; run the same command with --resume to continue"
        click.echo(f"interrupted{hint}", err=True)
        sys.exit(130)
    finally:
        bar.close()
    if not quiet:
        click.echo(stats.summary(), err=True)
        if stats.rejected:
            click.echo(f"rejected rows are in {stats.rejects_path}", err=True)


@main.command("import")
@click.option(
    "--from",
    "fmt",
    type=click.Choice(["zendesk", "freshdesk", "jira", "intercom", "github", "generic"]),
    required=True,
    help="The export's format.",
)
@click.argument("input_path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Transcripts JSONL to write.")
@click.option("--rejects", type=click.Path(path_type=Path), default=None, help="Default: OUT.rejects.jsonl.")
@click.option("--users", type=click.Path(path_type=Path), default=None, help="Zendesk users file (if not in FILE).")
@click.option("--vendor", default=None, help="Vendor name for every transcript (overrides the export's).")
@click.option("--team", default=None, help="Team name for every transcript (overrides the export's).")
@click.option("--bot", "bots", multiple=True, help="An author id, name or login to skip as a bot (repeatable).")
@click.option(
    "--map", "mapping", multiple=True, metavar="FIELD=COLUMN", help="generic: column of a field (repeatable)."
)
@click.option("--agent-values", default=None, help="generic: comma-separated role values of the vendor's side.")
@click.option("--customer-values", default=None, help="generic: comma-separated role values of the customer.")
@click.option("--skip-values", default=None, help="generic: role values to skip (notes, bots).")
@click.option("--timezone", default=None, help="generic: time zone of timestamps that carry no offset.")
@errors_to_exit
def import_cmd(
    fmt: str,
    input_path: Path,
    output: Path,
    rejects: Path | None,
    users: Path | None,
    vendor: str | None,
    team: str | None,
    bots: tuple[str, ...],
    mapping: tuple[str, ...],
    agent_values: str | None,
    customer_values: str | None,
    skip_values: str | None,
    timezone: str | None,
) -> None:
    """Turn a helpdesk or issue-tracker export into transcripts, skipping internal notes and bots.

    Example: replyqa import --from zendesk tickets.json -o transcripts.jsonl
    """
    from ..importers import Mapping, import_file

    generic_flags = mapping or agent_values or customer_values or skip_values or timezone
    stats = import_file(
        fmt,
        input_path,
        output,
        rejects=rejects,
        users=users,
        mapping=Mapping.parse(
            list(mapping),
            agent_values=agent_values,
            customer_values=customer_values,
            skip_values=skip_values,
            timezone=timezone,
        )
        if fmt == "generic" or generic_flags
        else None,
        vendor=vendor,
        team=team,
        bots=frozenset(bots),
    )
    click.echo(stats.summary(), err=True)
    if stats.rejected:
        click.echo(f"rejected records are in {stats.rejects_path}", err=True)


@main.command()
@click.argument("input_path", metavar="TRANSCRIPTS", type=click.Path(path_type=Path, allow_dash=True))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, allow_dash=True), required=True, help="Scored JSONL ('-')."
)
@click.option(
    "--policy",
    type=click.Path(path_type=Path),
    default=None,
    help="SLA policy TOML (default: REPLYQA_SLA_POLICY, else the shipped one).",
)
@click.option(
    "--as-of", default=None, help="Judge open tickets at this time (ISO 8601 with offset; default: last message)."
)
@click.option("--rejects", type=click.Path(path_type=Path), default=None, help="Default: OUT.rejects.jsonl.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@model_option
@errors_to_exit
def score(
    input_path: Path,
    output: Path,
    policy: Path | None,
    as_of: str | None,
    rejects: Path | None,
    quiet: bool,
    model_path: Path | None,
) -> None:
    """Label every agent message of each transcript and compute its times and SLA verdicts.

    Example: replyqa score transcripts.jsonl -o scored.jsonl --policy sla.toml
    """
    from ..batch import score_file
    from ..sla import load_policy
    from ..transcripts import parse_timestamp

    when: datetime | None = parse_timestamp(as_of, "--as-of") if as_of else None
    sla = load_policy(policy or get_settings().sla_policy)
    bar = _progress(quiet)
    try:
        stats = score_file(
            load_classifier(model_path),
            sla,
            input_path,
            output,
            rejects=rejects,
            as_of=when,
            progress=bar,
        )
    finally:
        bar.close()
    if not quiet:
        click.echo(
            f"read {stats.read}, scored {stats.labeled}, rejected {stats.rejected} transcripts in {stats.elapsed:.1f}s",
            err=True,
        )
        if stats.rejected:
            click.echo(f"rejected transcripts are in {stats.rejects_path}", err=True)


@main.command()
@click.argument("input_path", metavar="SCORED", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="Report file to write.")
@click.option(
    "--by", type=click.Choice(["vendor", "team", "agent", "month"]), default="vendor", show_default=True, help="Groups."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "csv", "json"]),
    default=None,
    help="Report format (default: from the extension, else html).",
)
@click.option("--worst", default=20, show_default=True, help="How many of the worst tickets to list.")
@errors_to_exit
def report(input_path: Path, output: Path, by: str, fmt: str | None, worst: int) -> None:
    """Write the vendor report from scored transcripts: a self-contained HTML page, or CSV/JSON numbers.

    Example: replyqa report scored.jsonl -o report.html --by vendor
    """
    from ..report import write_report

    result = write_report(input_path, output, by=by, fmt=fmt, worst=worst)
    click.echo(f"{len(result.groups)} groups, {result.overall.tickets} tickets; wrote {output}", err=True)
    if result.skipped:
        click.echo(f"skipped {len(result.skipped)} lines that are not scored transcripts", err=True)

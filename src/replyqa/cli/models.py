"""Retraining-loop commands: feedback in, model versions (promote, rollback, list), suggest, agreement."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..config import get_settings
from .common import F, errors_to_exit, load_classifier, main, model_option


def _models_option(fn: F) -> F:
    return click.option(
        "--models",
        "models_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Models folder (default: models/).",
    )(fn)


def _data_option(fn: F) -> F:
    return click.option(
        "--data",
        "data_dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Labeled data folder (default: data/labeled).",
    )(fn)


@main.group()
def feedback() -> None:
    """Add corrected or new labeled samples to data/labeled/feedback/."""


@feedback.command("add")
@click.argument("input_path", metavar="FILE", type=click.Path(path_type=Path))
@_data_option
@click.option("--rejects", type=click.Path(path_type=Path), default=None, help="Default: FILE.rejects.jsonl.")
@click.option("--source", default=None, help="Where the samples come from, stored with each (default: FILE's name).")
@errors_to_exit
def feedback_add(input_path: Path, data_dir: Path | None, rejects: Path | None, source: str | None) -> None:
    """Validate, redact, de-duplicate and store labeled samples from a JSON Lines or CSV file.

    Each sample needs `text` and `category` (LABELING.md); `lang`, `domain`, `context` and
    `group` are optional. Emails, phone numbers, tokens and keys are redacted before storing.
    Rejected samples go to a rejects file with their line and reason.

    Example: replyqa feedback add corrections.jsonl
    """
    from ..feedback import add_feedback, iter_samples, write_rejects

    report = add_feedback(
        iter_samples(input_path), data_dir or get_settings().data_dir, source=source or f"cli:{input_path.name}"
    )
    click.echo(report.summary())
    refused = report.rejected + report.duplicates
    for r in refused[:20]:
        click.echo(f"  line {r.position}: {r.reason}", err=True)
    if report.rejected:
        path = rejects or input_path.with_name(input_path.name + ".rejects.jsonl")
        write_rejects(path, report.rejected)
        click.echo(f"rejected samples are in {path}", err=True)


@main.command()
@click.argument("version")
@click.option("--force", is_flag=True, help="Promote even if the quality gate fails (or cannot run).")
@_models_option
@_data_option
@errors_to_exit
def promote(version: str, force: bool, models_dir: Path | None, data_dir: Path | None) -> None:
    """Make a model version current if it is not worse than the current one (the quality gate).

    The API picks it up without a restart. Use --force to skip the gate.

    Example: replyqa promote v20261125-101500
    """
    from ..registry import promote as promote_version

    s = get_settings()
    result = promote_version(models_dir or s.models_dir, version, data_dir=data_dir or s.data_dir, force=force)
    if result.gate is not None:
        click.echo(result.gate.text())
    click.echo(result.summary_text())


@main.command()
@_models_option
@errors_to_exit
def rollback(models_dir: Path | None) -> None:
    """Make the previously current model version current again.

    Example: replyqa rollback
    """
    from ..registry import rollback as rollback_version

    click.echo(rollback_version(models_dir or get_settings().models_dir).summary_text())


@main.command("models")
@_models_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (versions with their full metrics).")
@errors_to_exit
def models_cmd(models_dir: Path | None, as_json: bool) -> None:
    """List model versions with their metrics; `*` marks the current one.

    Example: replyqa models
    """
    from ..registry import format_versions, list_versions

    versions = list_versions(models_dir or get_settings().models_dir)
    if as_json:
        out = [
            {
                "version": v.version,
                "current": v.current,
                "created": v.manifest.get("created"),
                "metrics": v.manifest.get("metrics", {}),
            }
            for v in versions
        ]
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        click.echo(format_versions(versions))


@main.command()
@click.argument("input_path", metavar="FILE", type=click.Path(path_type=Path))
@click.option("-n", "n", default=50, show_default=True, help="How many replies to suggest.")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, allow_dash=True), default="-", help="JSONL to write ('-')."
)
@click.option("--text-column", "--text-field", "text_column", default="text", show_default=True)
@click.option(
    "--diversity", default=0.5, show_default=True, help="0: most uncertain only; 1: most unlike each other only."
)
@click.option("--prefill", is_flag=True, help="Put the model's guess in `category` (still flagged needs_review).")
@_data_option
@model_option
@errors_to_exit
def suggest(
    input_path: Path,
    n: int,
    output: Path,
    text_column: str,
    diversity: float,
    prefill: bool,
    data_dir: Path | None,
    model_path: Path | None,
) -> None:
    """Pick the replies whose labels would teach the model most, in the labeling format.

    Replies already in the labeled data are left out. Each suggestion is flagged
    `needs_review` with the model's guess in `suggested`; fill in `category`, drop the
    flag, then `replyqa feedback add` the file.

    Example: replyqa suggest unlabeled.jsonl -n 50 -o to_label.jsonl
    """
    from ..active import suggest as suggest_replies
    from ..active import write_suggestions
    from ..feedback import iter_samples, labeled_index

    report = suggest_replies(
        load_classifier(model_path),
        iter_samples(input_path, text_field=text_column),
        n,
        text_field=text_column,
        exclude=labeled_index(data_dir or get_settings().data_dir).keys(),
        diversity=diversity,
    )
    if str(output) == "-":
        write_suggestions(sys.stdout, report.suggestions, prefill=prefill)
    else:
        from ..atomic import atomic_open

        with atomic_open(output) as fh:
            write_suggestions(fh, report.suggestions, prefill=prefill)
    click.echo(report.summary(), err=True)


@main.command()
@click.argument("file_a", metavar="A", type=click.Path(path_type=Path))
@click.argument("file_b", metavar="B", type=click.Path(path_type=Path))
@click.option(
    "--by",
    type=click.Choice(["auto", "id", "text"]),
    default="auto",
    show_default=True,
    help="Match replies by id (when every record has one) or by text.",
)
@click.option("--show", default=50, show_default=True, help="How many disagreements to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every disagreement).")
@errors_to_exit
def agreement(file_a: Path, file_b: Path, by: str, show: int, as_json: bool) -> None:
    """Compare two label sets: Cohen's kappa (quality and category), per-category agreement, disagreements.

    Works for two reviewers, or for a model's labels (`replyqa label`) against a reviewer's.

    Example: replyqa agreement alice.jsonl bob.jsonl
    """
    from ..agreement import agreement as compare_files

    result = compare_files(file_a, file_b, by=by)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(result.text(max_disagreements=show))

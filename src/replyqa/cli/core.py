"""Core commands: classify, train, evaluate, data check."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..config import get_settings
from .common import errors_to_exit, load_classifier, main, model_option


@main.command()
@click.argument("text")
@model_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@errors_to_exit
def classify(text: str, model_path: Path | None, as_json: bool) -> None:
    """Classify one reply and show the evidence behind the label.

    Example: replyqa classify "Error 110 means the token expired; renew it before joining."
    """
    explanation = load_classifier(model_path).explain(text)
    if as_json:
        click.echo(json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2))
        return
    p = explanation.prediction
    click.echo(
        f"{p.quality}  ({p.category}, p_substantive={p.p_substantive:.3f}, confidence={p.confidence:.3f}, model {p.model_version})"
    )
    click.echo(
        "toward substantive: " + ", ".join(f"{f.feature} (+{f.weight:.2f})" for f in explanation.toward_substantive)
    )
    click.echo(
        "toward boilerplate: " + ", ".join(f"{f.feature} ({f.weight:.2f})" for f in explanation.toward_boilerplate)
    )
    click.echo("sentences:")
    for s in explanation.sentences:
        click.echo(f"  {s.p_substantive:.2f}  {s.text[:100]}")


@main.command("train")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Labeled data folder (default: data/labeled).",
)
@click.option(
    "--models", "models_dir", type=click.Path(path_type=Path), default=None, help="Models folder (default: models/)."
)
@click.option(
    "--devset",
    "devset_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Real-world devset folder (default: ../shared/devset, if present).",
)
@click.option("--version", "version", default=None, help="Version name (default: from the time).")
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--cv/--no-cv", default=True, show_default=True, help="Record grouped cross-validation on the training split."
)
@click.option(
    "--promote/--no-promote",
    default=True,
    show_default=True,
    help="Make the new version current if it passes the quality gate (always, when none is).",
)
@click.option("--force", is_flag=True, help="Promote even if the quality gate fails.")
@errors_to_exit
def train_cmd(
    data_dir: Path | None,
    models_dir: Path | None,
    devset_dir: Path | None,
    version: str | None,
    seed: int,
    cv: bool,
    promote: bool,
    force: bool,
) -> None:
    """Train a model version, evaluate it next to the current one, and promote it if it passes the quality gate.

    Trains on the training split plus feedback (minus its held-aside slice), compares with the
    current model on the test split and the held-aside feedback, and exits with code 1 when the
    gate refuses the new version (it stays saved; see `replyqa promote --force`).

    Example: replyqa train
    """
    from ..registry import train_and_save

    s = get_settings()
    result = train_and_save(
        data_dir=data_dir or s.data_dir,
        models_dir=models_dir or s.models_dir,
        devset_dir=devset_dir or s.devset_dir,
        version=version,
        seed=seed,
        cv=cv,
        promote=promote,
        force=force,
        progress=lambda msg: click.echo(msg, err=True),
    )
    click.echo(result.summary_text())
    result.raise_for_gate()


@main.command("evaluate")
@model_option
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None, help="Labeled data folder.")
@click.option("--devset", "devset_dir", type=click.Path(path_type=Path), default=None, help="Real-world devset folder.")
@click.option("--cv", is_flag=True, help="Also cross-validate on the training split (slower).")
@click.option("--curve", is_flag=True, help="Also train on growing fractions of the training split (slower).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to save the report (default: reports/).",
)
@errors_to_exit
def evaluate_cmd(
    model_path: Path | None, data_dir: Path | None, devset_dir: Path | None, cv: bool, curve: bool, out_dir: Path | None
) -> None:
    """Evaluate a model on the fixed test split, the devset and (optionally) grouped CV and a learning curve.

    Example: replyqa evaluate --cv
    """
    from ..evaluate import evaluate_model

    s = get_settings()
    report = evaluate_model(
        load_classifier(model_path),
        data_dir=data_dir or s.data_dir,
        devset_dir=devset_dir or s.devset_dir,
        cv=cv,
        curve=curve,
        progress=lambda msg: click.echo(msg, err=True),
    )
    click.echo(report.text())
    path = report.save(out_dir or s.reports_dir)
    click.echo(f"\nsaved {path}", err=True)


@main.group()
def data() -> None:
    """Check and split labeled data."""


@data.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--threshold", default=0.8, show_default=True, help="Shingle Jaccard at which two texts are near duplicates."
)
@click.option(
    "--against",
    "against",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="An evaluation set (e.g. ../shared/devset): fail if any labeled text looks derived from one of its texts.",
)
@errors_to_exit
def data_check(path: Path | None, threshold: float, against: Path | None) -> None:
    """Validate labeled data: schema, labels, exact and near duplicates, balance.

    Example: replyqa data check data/labeled --against ../shared/devset
    """
    from ..data import check, format_balance, overlap_pairs
    from ..evaluate import read_devset

    report = check(path or get_settings().data_dir, threshold=threshold)
    overlaps: list[tuple[int, int, float, str]] = []
    if against is not None:
        reference = read_devset(against)
        overlaps = overlap_pairs([e.text for e in report.examples], [e.text for e in reference])
        for i, j, sim, reason in overlaps:
            click.echo(
                f"derived from the evaluation set? {report.examples[i].id} ~ {reference[j].id} ({reason}, {sim:.2f})",
                err=True,
            )
    for issue in report.issues:
        click.echo(str(issue), err=True)
    for a, b in report.exact_duplicates:
        click.echo(f"exact duplicate: {a} ~ {b}", err=True)
    for a, b, sim in report.near_duplicates:
        click.echo(f"near duplicate ({sim:.2f}): {a} ~ {b}", err=True)
    click.echo(format_balance(report.examples))
    click.echo()
    click.echo(format_balance(report.examples, ("domain", "lang")))
    errors = sum(i.severity == "error" for i in report.issues)
    click.echo(
        f"\n{len(report.examples)} examples, {errors} errors, {len(report.exact_duplicates)} exact and "
        f"{len(report.near_duplicates)} near duplicate pairs; {len(report.contrast_pairs)} contrast pairs"
        " (same group, different category: allowed)"
        + (f"; {len(overlaps)} texts close to the evaluation set" if against is not None else "")
    )
    if not report.ok or overlaps:
        sys.exit(1)


@data.command("split")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Folder for train.jsonl and test.jsonl."
)
@click.option("--test-fraction", default=0.22, show_default=True, help="Share of examples for the test split.")
@click.option("--seed", default=13, show_default=True)
@errors_to_exit
def data_split(inputs: tuple[Path, ...], out_dir: Path, test_fraction: float, seed: int) -> None:
    """Split labeled data into train/test by group, stratified by category and language.

    Example: replyqa data split corpus/*.jsonl --out data/labeled
    """
    from ..data import TEST_FILE, TRAIN_FILE, format_balance, read_examples, split_by_group, write_examples

    examples = [e for path in inputs for e in read_examples(path)]
    train, test = split_by_group(examples, test_fraction=test_fraction, seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_examples(out_dir / TRAIN_FILE, train)
    write_examples(out_dir / TEST_FILE, test)
    click.echo(f"train: {len(train)}  test: {len(test)} ({len(test) / max(1, len(examples)):.1%})")
    click.echo(format_balance(test))

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_jsonl
from replyqa.artifacts import save
from replyqa.cli import main
from replyqa.errors import InvalidInputError
from replyqa.model import Classifier
from replyqa.report import (
    build_report,
    duration,
    month_of,
    percentile,
    read_scored,
    render_csv,
    render_html,
    write_report,
)

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
CHROMIUM = Path("/usr/bin/chromium")


def msg(role: str, quality: str | None = None, category: str | None = None, author: str = "a1", ts: str = "") -> dict:
    m: dict = {"role": role, "author": author, "text": f"{role} text", "timestamp": ts or "2026-03-02T10:00:00+00:00"}
    if quality:
        m |= {"quality": quality, "category": category, "p_substantive": 0.9 if quality == "substantive" else 0.1}
    return m


def scored(
    tid: str,
    vendor: str,
    ttfr: float | None,
    ttfsr: float | None,
    agent: list[tuple[str, str]],
    *,
    month: str = "2026-03",
    sla: tuple[str, str] = ("met", "met"),
    author: str = "a1",
) -> dict:
    messages = [msg("customer", author="cust", ts=f"{month}-02T10:00:00+00:00")]
    messages += [msg("agent", q, c, author=author, ts=f"{month}-02T11:00:00+00:00") for q, c in agent]
    first_sub = next((i for i, (q, _) in enumerate(agent) if q == "substantive"), None)
    return {
        "id": tid,
        "severity": "P2",
        "vendor": vendor,
        "team": f"{vendor}-team",
        "title": f"ticket {tid}",
        "created_at": f"{month}-02T10:00:00+00:00",
        "messages": messages,
        "first_response_seconds": ttfr,
        "first_substantive_response_seconds": ttfsr,
        "acknowledgement_gap_seconds": None if ttfr is None or ttfsr is None else ttfsr - ttfr,
        "boilerplate_rounds": first_sub if first_sub is not None else len(agent),
        "agent_messages": len(agent),
        "boilerplate_share": None,
        "sla": {
            "first_response": {"state": sla[0], "target_seconds": 3600, "elapsed_seconds": ttfr},
            "first_substantive_response": {"state": sla[1], "target_seconds": 7200, "elapsed_seconds": ttfsr},
        },
    }


B = ("boilerplate", "acknowledgement")
S = ("substantive", "solution")


@pytest.fixture()
def rows() -> list[dict]:
    return [
        scored("A1", "Acme", 60, 600, [B, S]),
        scored("A2", "Acme", 120, 7200, [B, B, S], sla=("met", "breached")),
        scored("A3", "Acme", 300, None, [B, ("boilerplate", "info_request")], sla=("met", "breached"), month="2026-04"),
        scored("Z1", "Zeta", 3600, 3600, [S], sla=("met", "met"), author="z1"),
        scored("Z2", "Zeta", None, None, [], sla=("breached", "pending"), author="z1"),
    ]


def test_percentile_by_hand() -> None:
    assert percentile([], 50) is None
    assert percentile([60, 120, 300], 50) == 120
    assert percentile([60, 120, 300], 90) == pytest.approx(120 + 0.8 * 180)
    assert percentile([5], 90) == 5


def test_numbers_per_vendor_by_hand(rows: list[dict]) -> None:
    report = build_report(enumerate(rows, 1), "vendor")
    acme, zeta = report.groups
    a = acme.to_dict()
    assert (a["group"], a["tickets"], a["agent_messages"]) == ("Acme", 3, 7)
    assert a["boilerplate_share"] == round(5 / 7, 4)
    assert a["categories"]["acknowledgement"] == 4 and a["categories"]["info_request"] == 1
    assert a["first_response_median_seconds"] == 120
    assert a["first_substantive_median_seconds"] == (600 + 7200) / 2
    assert a["acknowledgement_gap_median_seconds"] == (540 + 7080) / 2
    assert a["boilerplate_rounds_mean"] == round((1 + 2 + 2) / 3, 4)
    assert a["never_substantive_tickets"] == 1
    assert a["sla_first_response_attainment"] == 1.0
    assert a["sla_first_substantive_attainment"] == round(1 / 3, 4)
    z = zeta.to_dict()
    assert z["sla_first_response_attainment"] == 0.5 and z["sla_first_substantive_attainment"] == 1.0
    assert report.overall.tickets == 5
    assert [m.name for m in report.months] == ["2026-03", "2026-04"]
    # Never answered with substance first, then the slowest.
    assert [w.id for w in report.worst[:3]] == ["A3", "Z2", "A2"]


def test_grouping_by_agent_team_and_month(rows: list[dict]) -> None:
    by_agent = build_report(enumerate(rows, 1), "agent")
    names = {g.name: g for g in by_agent.groups}
    assert names["a1"].agent_messages == 7 and names["z1"].agent_messages == 1
    assert names["(no agent reply)"].tickets == 1
    assert [g.name for g in build_report(enumerate(rows, 1), "team").groups] == ["Acme-team", "Zeta-team"]
    by_month = build_report(enumerate(rows, 1), "month")
    assert [(g.name, g.tickets) for g in by_month.groups] == [("2026-03", 4), ("2026-04", 1)]
    with pytest.raises(InvalidInputError, match="cannot group by"):
        build_report([], "country")


def test_month_of_uses_created_at_then_messages() -> None:
    assert month_of({"created_at": "2026-01-31T23:30:00-02:00", "messages": []}) == "2026-02"
    assert month_of({"messages": [{"timestamp": "2025-12-01T00:00:00Z"}]}) == "2025-12"
    assert month_of({"messages": []}) == "(unknown)"


def test_html_is_self_contained_escaped_and_has_its_charts(rows: list[dict]) -> None:
    rows[0]["vendor"] = "<script>alert('x')</script>"
    rows[1]["messages"][1]["text"] = "<img src=x onerror=alert(1)>"
    page = render_html(build_report(enumerate(rows, 1), "vendor", worst=5))
    assert page.startswith("<!doctype html>")
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    charts = re.findall(r'<svg class="chart" data-chart="([\w-]+)"', page)
    assert charts == ["time-distribution", "medians", "category-mix", "trend"]
    # Nothing is fetched: no external scripts, styles, images or fonts.
    assert not re.search(r'(src|href)="(https?:)?//', page.replace('href="#', ""))
    assert page.count("<details") == 5 and 'href="#t0"' in page


def test_csv_and_json_give_the_same_numbers(rows: list[dict], tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "scored.jsonl", [*rows, "{bad", {"no": "messages"}])
    report = write_report(src, tmp_path / "r.json", by="vendor")
    assert [r.line for r in report.skipped] == [6, 7]
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["groups"][0]["group"] == "Acme" and data["overall"]["tickets"] == 5
    assert data["skipped_lines"][0]["line"] == 6
    write_report(src, tmp_path / "r.csv")
    table = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text())))
    assert [r["vendor"] for r in table] == ["Acme", "Zeta", "all"]
    assert float(table[0]["first_substantive_median_seconds"]) == data["groups"][0]["first_substantive_median_seconds"]
    assert table[0]["solution"] == "2"
    assert render_csv(report) == (tmp_path / "r.csv").read_text()
    with pytest.raises(InvalidInputError, match="replyqa score"):
        list(read_scored(tmp_path / "missing.jsonl"))


def test_duration() -> None:
    assert [duration(v) for v in (None, 5, 600, 5400, 2 * 86400)] == ["–", "5s", "10m", "1.5h", "2.0d"]


@pytest.fixture()
def model_dir(classifier: Classifier, tmp_path: Path) -> Path:
    return save(classifier, tmp_path / "models", version="vtest")


def test_import_score_report_end_to_end(model_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    transcripts = tmp_path / "t.jsonl"
    result = runner.invoke(
        main, ["import", "--from", "github", str(EXPORTS / "github_issues.jsonl"), "-o", str(transcripts)]
    )
    assert result.exit_code == 0, result.output
    scored_path = tmp_path / "scored.jsonl"
    result = runner.invoke(main, ["score", str(transcripts), "-o", str(scored_path), "--model", str(model_dir)])
    assert result.exit_code == 0, result.output
    for fmt in ("html", "csv", "json"):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(main, ["report", str(scored_path), "-o", str(out), "--by", "team"])
        assert result.exit_code == 0, result.output
        assert "2 groups, 2 tickets" in result.stderr
    assert "skymeet-react-native" in (tmp_path / "report.html").read_text(encoding="utf-8")
    forced = runner.invoke(main, ["report", str(scored_path), "-o", str(tmp_path / "r.txt"), "--format", "json"])
    assert forced.exit_code == 0 and json.loads((tmp_path / "r.txt").read_text())["by"] == "vendor"
    missing = runner.invoke(main, ["report", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "x.html")])
    assert missing.exit_code == 1 and "replyqa score" in missing.stderr


def test_report_renders_in_a_real_browser(rows: list[dict], tmp_path: Path) -> None:
    """Chromium lays the page out and the charts have a size; install it with `apt-get install chromium`."""
    if not CHROMIUM.exists():
        pytest.skip("needs Chromium at /usr/bin/chromium (apt-get install chromium); not installed here")
    page = tmp_path / "report.html"
    page.write_text(render_html(build_report(enumerate(rows, 1), "vendor")), encoding="utf-8")
    flags = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*flags, "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert 'data-charts-rendered="4"' in dom, dom[:500]
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)

"""The vendor report: who answers with substance, and how fast, from scored transcripts.

`build_report` reads the lines `replyqa score` writes and aggregates them per vendor,
team, agent or month: boilerplate share and category mix, median and p90 time to first
response and to first substantive response, the acknowledgement gap, boilerplate
rounds and SLA attainment. `render_html` makes one self-contained page (inline CSS and
SVG charts, nothing fetched); `render_csv` and `render_json` give the same numbers.

For `by="agent"` a message counts for the agent who wrote it, and a ticket's times and
SLA verdicts for the agent of its first response (the one who picked it up).
"""

from __future__ import annotations

import csv
import heapq
import html
import io
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .atomic import atomic_write_text
from .batch import Reject
from .errors import InvalidInputError
from .labels import BOILERPLATE_CATEGORIES, CATEGORIES, SUBSTANTIVE, SUBSTANTIVE_CATEGORIES

GROUP_BY = ("vendor", "team", "agent", "month")
REPORT_FORMATS = ("html", "csv", "json")
SLA_MEASURES = ("first_response", "first_substantive_response")
UNKNOWN = "(unknown)"
# Bins of the time distribution chart: upper edges in seconds, with their labels.
TIME_BINS = ((900, "<15m"), (3600, "15m-1h"), (4 * 3600, "1-4h"), (86400, "4h-1d"), (3 * 86400, "1-3d"))
TIME_BINS_LAST = (">3d", "never")
CATEGORY_COLOURS = {
    "acknowledgement": "#f4a582",
    "info_request": "#fddbc7",
    "status_update": "#d6604d",
    "generic_advice": "#b2182b",
    "deflection": "#67001f",
    "diagnosis": "#92c5de",
    "solution": "#4393c3",
    "root_cause": "#2166ac",
}


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class GroupStats:
    """Everything counted for one group (a vendor, team, agent or month)."""

    name: str
    tickets: int = 0
    agent_messages: int = 0
    boilerplate_messages: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    first_response: list[float] = field(default_factory=list)
    first_substantive: list[float] = field(default_factory=list)
    acknowledgement_gap: list[float] = field(default_factory=list)
    boilerplate_rounds: list[int] = field(default_factory=list)
    never_substantive: int = 0
    sla: dict[str, Counter[str]] = field(default_factory=lambda: {m: Counter() for m in SLA_MEASURES})

    def add_ticket(self, row: dict[str, Any]) -> None:
        """Count a ticket's measures."""
        self.tickets += 1
        for key, values in (
            ("first_response_seconds", self.first_response),
            ("first_substantive_response_seconds", self.first_substantive),
            ("acknowledgement_gap_seconds", self.acknowledgement_gap),
        ):
            value = row.get(key)
            if isinstance(value, int | float):
                values.append(float(value))
        if int(row.get("agent_messages") or 0) > 0:
            self.boilerplate_rounds.append(int(row.get("boilerplate_rounds") or 0))
            if row.get("first_substantive_response_seconds") is None and not _has_substantive(row):
                self.never_substantive += 1
        for measure in SLA_MEASURES:
            state = (row.get("sla") or {}).get(measure, {}).get("state")
            if state:
                self.sla[measure][state] += 1

    def add_message(self, message: dict[str, Any]) -> None:
        """Count an agent message's label."""
        self.agent_messages += 1
        if message.get("quality") != SUBSTANTIVE:
            self.boilerplate_messages += 1
        self.categories[str(message.get("category"))] += 1

    def attainment(self, measure: str) -> float | None:
        """Share of decided tickets (met or breached) that met the target."""
        c = self.sla[measure]
        decided = c["met"] + c["breached"]
        return c["met"] / decided if decided else None

    def to_dict(self) -> dict[str, Any]:
        """The group's numbers, JSON-ready."""
        share = self.boilerplate_messages / self.agent_messages if self.agent_messages else None
        return {
            "group": self.name,
            "tickets": self.tickets,
            "agent_messages": self.agent_messages,
            "boilerplate_share": _round(share),
            "categories": {c: self.categories.get(c, 0) for c in CATEGORIES},
            "first_response_median_seconds": _round(percentile(self.first_response, 50)),
            "first_response_p90_seconds": _round(percentile(self.first_response, 90)),
            "first_substantive_median_seconds": _round(percentile(self.first_substantive, 50)),
            "first_substantive_p90_seconds": _round(percentile(self.first_substantive, 90)),
            "acknowledgement_gap_median_seconds": _round(percentile(self.acknowledgement_gap, 50)),
            "boilerplate_rounds_mean": _round(
                sum(self.boilerplate_rounds) / len(self.boilerplate_rounds) if self.boilerplate_rounds else None
            ),
            "never_substantive_tickets": self.never_substantive,
            "sla_first_response_attainment": _round(self.attainment("first_response")),
            "sla_first_substantive_attainment": _round(self.attainment("first_substantive_response")),
            "sla_first_response": dict(self.sla["first_response"]),
            "sla_first_substantive_response": dict(self.sla["first_substantive_response"]),
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _has_substantive(row: dict[str, Any]) -> bool:
    return any(m.get("role") == "agent" and m.get("quality") == SUBSTANTIVE for m in row.get("messages") or [])


@dataclass(frozen=True)
class WorstTicket:
    """A ticket among the slowest to get a substantive answer, with its messages."""

    id: str
    group: str
    title: str | None
    url: str | None
    first_response: float | None
    first_substantive: float | None
    boilerplate_rounds: int
    messages: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (message texts included)."""
        return {
            "id": self.id,
            "group": self.group,
            "title": self.title,
            "url": self.url,
            "first_response_seconds": self.first_response,
            "first_substantive_response_seconds": self.first_substantive,
            "boilerplate_rounds": self.boilerplate_rounds,
            "messages": self.messages,
        }


@dataclass
class Report:
    """Per-group statistics, the overall numbers, the monthly trend and the worst tickets."""

    by: str
    groups: list[GroupStats]
    overall: GroupStats
    months: list[GroupStats]
    worst: list[WorstTicket]
    skipped: list[Reject] = field(default_factory=list)
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The report's numbers, JSON-ready."""
        return {
            "by": self.by,
            "source": self.source,
            "overall": self.overall.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
            "months": [m.to_dict() for m in self.months],
            "worst_tickets": [w.to_dict() for w in self.worst],
            "skipped_lines": [{"line": r.line, "reason": r.reason} for r in self.skipped],
        }


def read_scored(path: Path | str) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
    """Lines of a scored JSONL file (what `replyqa score` writes), or Rejects for lines that are not."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"scored file {path} does not exist; make one with `replyqa score`")
    with path.open(encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield lineno, Reject(lineno, f"bad JSON: {exc.msg}", line.strip()[:500])
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
                yield lineno, Reject(lineno, "not a scored transcript (no 'messages' list)", line.strip()[:500])
                continue
            yield lineno, obj


def month_of(row: dict[str, Any]) -> str:
    """The ticket's month (UTC) from its creation time or first timestamp, `YYYY-MM`."""
    stamps = [row.get("created_at")] + [m.get("timestamp") for m in row.get("messages") or []]
    for value in stamps:
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m")
            except ValueError:
                continue
    return UNKNOWN


def _ticket_group(row: dict[str, Any], by: str) -> str:
    if by == "month":
        return month_of(row)
    if by == "agent":
        first = next((m for m in row.get("messages") or [] if m.get("role") == "agent"), None)
        return str(first.get("author") or UNKNOWN) if first else "(no agent reply)"
    value = row.get(by)
    return str(value) if value not in (None, "") else UNKNOWN


def _badness(row: dict[str, Any]) -> tuple[float, int]:
    ttfsr = row.get("first_substantive_response_seconds")
    return (math.inf if ttfsr is None else float(ttfsr), int(row.get("boilerplate_rounds") or 0))


def build_report(
    rows: Iterable[tuple[int, dict[str, Any] | Reject]], by: str = "vendor", *, worst: int = 20, source: str = ""
) -> Report:
    """Aggregate scored transcripts per group; keeps only numbers and the `worst` slowest tickets."""
    if by not in GROUP_BY:
        raise InvalidInputError(f"cannot group by {by!r}; use one of {', '.join(GROUP_BY)}")
    groups: dict[str, GroupStats] = {}
    months: dict[str, GroupStats] = {}
    overall = GroupStats("all")
    heap: list[tuple[tuple[float, int], int, dict[str, Any]]] = []
    skipped: list[Reject] = []
    for n, (_, row) in enumerate(rows):
        if isinstance(row, Reject):
            skipped.append(row)
            continue
        name = _ticket_group(row, by)
        month = month_of(row)
        group = groups.setdefault(name, GroupStats(name))
        month_group = months.setdefault(month, GroupStats(month))
        for g in {id(x): x for x in (group, month_group, overall)}.values():
            g.add_ticket(row)
        for m in row["messages"]:
            if not isinstance(m, dict) or m.get("role") != "agent":
                continue
            if by == "agent":
                author = str(m.get("author") or UNKNOWN)
                groups.setdefault(author, GroupStats(author)).add_message(m)
            else:
                group.add_message(m)
            if month_group is not group:
                month_group.add_message(m)
            overall.add_message(m)
        if int(row.get("agent_messages") or 0) == 0 and row.get("first_response_seconds") is None:
            key = (math.inf, 0)
        else:
            key = _badness(row)
        item = (key, -n, {**row, "_group": name})
        if len(heap) < worst:
            heapq.heappush(heap, item)
        elif worst and item[:2] > heap[0][:2]:
            heapq.heapreplace(heap, item)
    worst_rows = [r for _, _, r in sorted(heap, key=lambda x: (x[0], x[1]), reverse=True)]
    ordered = sorted(groups.values(), key=lambda g: (-g.tickets, -g.agent_messages, g.name))
    return Report(
        by=by,
        groups=ordered,
        overall=overall,
        months=[months[k] for k in sorted(months)],
        worst=[_worst(r) for r in worst_rows],
        skipped=skipped,
        source=source,
    )


def _worst(row: dict[str, Any]) -> WorstTicket:
    messages = [
        {
            k: (v[:4000] if k == "text" and isinstance(v, str) else v)
            for k, v in m.items()
            if k in ("role", "author", "timestamp", "text", "category", "quality", "p_substantive")
        }
        for m in row.get("messages") or []
        if isinstance(m, dict)
    ]
    return WorstTicket(
        id=str(row.get("id") or "?"),
        group=str(row["_group"]),
        title=row.get("title"),
        url=row.get("url"),
        first_response=row.get("first_response_seconds"),
        first_substantive=row.get("first_substantive_response_seconds"),
        boilerplate_rounds=int(row.get("boilerplate_rounds") or 0),
        messages=messages,
    )


# --- csv and json --------------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "group",
    "tickets",
    "agent_messages",
    "boilerplate_share",
    "first_response_median_seconds",
    "first_response_p90_seconds",
    "first_substantive_median_seconds",
    "first_substantive_p90_seconds",
    "acknowledgement_gap_median_seconds",
    "boilerplate_rounds_mean",
    "never_substantive_tickets",
    "sla_first_response_attainment",
    "sla_first_substantive_attainment",
)


def render_csv(report: Report) -> str:
    """One row per group (and `all`), with the category counts as columns."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([report.by, *CSV_COLUMNS[1:], *CATEGORIES])
    for g in [*report.groups, report.overall]:
        d = g.to_dict()
        writer.writerow(
            [*("" if d[c] is None else d[c] for c in CSV_COLUMNS), *(d["categories"][c] for c in CATEGORIES)]
        )
    return buf.getvalue()


def render_json(report: Report) -> str:
    """The report's numbers as indented JSON."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


# --- html ----------------------------------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """A duration for people: `45s`, `12m`, `3.5h`, `2.1d`; an en dash for none."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _bins(values: list[float], never: int) -> list[int]:
    counts = [0] * (len(TIME_BINS) + 2)
    for v in values:
        counts[next((i for i, (edge, _) in enumerate(TIME_BINS) if v < edge), len(TIME_BINS))] += 1
    counts[-1] = never
    return counts


def svg_grouped_bars(title: str, labels: list[str], series: list[tuple[str, str, list[int]]], chart: str) -> str:
    """Vertical grouped bars: one group per label, one bar per series."""
    width, height, left, bottom, top = 640, 260, 44, 40, 28
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max([1, *(v for _, _, vals in series for v in vals)])
    slot = plot_w / max(1, len(labels))
    bar = slot * 0.8 / max(1, len(series))
    parts = [_svg_open(width, height, title, chart)]
    for t in range(5):
        y = top + plot_h - plot_h * t / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{peak * t / 4:.0f}</text>')
    for i, label in enumerate(labels):
        x0 = left + i * slot + slot * 0.1
        for j, (name, colour, vals) in enumerate(series):
            h = plot_h * vals[i] / peak
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}"'
                f' fill="{colour}"><title>{_e(name)} {_e(label)}: {vals[i]}</title></rect>'
            )
        parts.append(
            f'<text x="{left + (i + 0.5) * slot:.1f}" y="{height - bottom + 16}" text-anchor="middle">{_e(label)}</text>'
        )
    parts.append(_legend([(n, c) for n, c, _ in series], left, height - 8))
    parts.append("</svg>")
    return "".join(parts)


def svg_category_mix(title: str, rows: list[tuple[str, Counter[str]]], chart: str) -> str:
    """One horizontal 100% bar per group, split by category."""
    left, right, bar_h, top = 150, 20, 18, 28
    width = 640
    height = top + len(rows) * (bar_h + 6) + 44
    plot_w = width - left - right
    parts = [_svg_open(width, height, title, chart)]
    for i, (name, counts) in enumerate(rows):
        y = top + i * (bar_h + 6)
        total = sum(counts.values()) or 1
        parts.append(f'<text x="{left - 6}" y="{y + bar_h - 5}" text-anchor="end">{_e(_short(name, 22))}</text>')
        x = float(left)
        for cat in CATEGORIES:
            w = plot_w * counts.get(cat, 0) / total
            if w <= 0:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{CATEGORY_COLOURS[cat]}">'
                f"<title>{_e(name)}: {_e(cat)} {counts.get(cat, 0)} ({100 * counts.get(cat, 0) / total:.0f}%)</title></rect>"
            )
            x += w
    parts.append(_legend([(c, CATEGORY_COLOURS[c]) for c in CATEGORIES], 10, height - 26, per_row=4))
    parts.append("</svg>")
    return "".join(parts)


def svg_trend(title: str, months: list[str], series: list[tuple[str, str, list[float | None]]], chart: str) -> str:
    """Lines over months, each series on a 0-100% scale."""
    width, height, left, bottom, top = 640, 240, 44, 44, 28
    plot_w, plot_h = width - left - 40, height - bottom - top
    step = plot_w / max(1, len(months) - 1)
    parts = [_svg_open(width, height, title, chart)]
    for t in range(5):
        y = top + plot_h - plot_h * t / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{25 * t}%</text>')
    label_every = max(1, len(months) // 8)
    for i, m in enumerate(months):
        if i % label_every == 0:
            parts.append(
                f'<text x="{left + i * step:.1f}" y="{height - bottom + 16}" text-anchor="middle">{_e(m)}</text>'
            )
    for name, colour, values in series:
        points = [(left + i * step, top + plot_h * (1 - v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (x, y), v in zip(points, [v for v in values if v is not None], strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{_e(name)}: {100 * v:.0f}%</title></circle>'
            )
    parts.append(_legend([(n, c) for n, c, _ in series], left, height - 8, spacing=190))
    parts.append("</svg>")
    return "".join(parts)


def svg_medians(title: str, rows: list[tuple[str, float | None, float | None]], chart: str) -> str:
    """Per group, median time to first response against median time to first substantive response (log scale)."""
    left, right, row_h, top = 150, 20, 22, 28
    width = 640
    height = top + len(rows) * row_h + 40
    plot_w = width - left - right
    known = [v for _, a, b in rows for v in (a, b) if v]
    lo = math.log10(max(30.0, min(known) / 1.5)) if known else 1.0
    hi = math.log10(max(known) * 1.5) if known else 2.0
    hi = max(hi, lo + 1)

    def x(v: float) -> float:
        return left + plot_w * (math.log10(max(v, 10**lo)) - lo) / (hi - lo)

    parts = [_svg_open(width, height, title, chart)]
    for tick in (60, 600, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400):
        if lo <= math.log10(tick) <= hi:
            parts.append(
                f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top - 4}" y2="{height - 36}" class="grid"/>'
            )
            parts.append(f'<text x="{x(tick):.1f}" y="{height - 24}" text-anchor="middle">{duration(tick)}</text>')
    for i, (name, first, substantive) in enumerate(rows):
        y = top + i * row_h + row_h / 2
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(_short(name, 22))}</text>')
        if first and substantive:
            parts.append(f'<line x1="{x(first):.1f}" x2="{x(substantive):.1f}" y1="{y:.1f}" y2="{y:.1f}" class="gap"/>')
        for value, colour, what in (
            (first, "#999999", "first response"),
            (substantive, "#2166ac", "first substantive"),
        ):
            if value:
                parts.append(
                    f'<circle cx="{x(value):.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
                    f"<title>{_e(name)} median {what}: {duration(value)}</title></circle>"
                )
    parts.append(
        _legend([("median first response", "#999999"), ("median first substantive", "#2166ac")], left, height - 6)
    )
    parts.append("</svg>")
    return "".join(parts)


def _svg_open(width: int, height: int, title: str, chart: str) -> str:
    return (
        f'<svg class="chart" data-chart="{_e(chart)}" xmlns="http://www.w3.org/2000/svg" width="{width}"'
        f' height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">'
        f'<text x="8" y="16" class="title">{_e(title)}</text>'
    )


def _legend(items: list[tuple[str, str]], x0: float, y: float, per_row: int = 8, spacing: int = 150) -> str:
    parts = []
    for i, (name, colour) in enumerate(items):
        x = x0 + (i % per_row) * spacing
        yy = y + (i // per_row) * 14 - (14 * ((len(items) - 1) // per_row))
        parts.append(f'<rect x="{x:.0f}" y="{yy - 9:.0f}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14:.0f}" y="{yy:.0f}">{_e(name)}</text>')
    return "".join(parts)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}
.sub{color:#666}.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:150px}
.card b{display:block;font-size:20px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eee;padding:4px 6px;text-align:right}th{cursor:pointer;background:#fafafa;position:sticky;top:0}
td:first-child,th:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}
svg.chart{border:1px solid #eee;border-radius:6px;background:#fff;max-width:100%;height:auto}
svg text{font-size:11px;fill:#333}svg text.title{font-size:13px;font-weight:600}
svg .grid{stroke:#eee}svg .gap{stroke:#c7c7c7;stroke-width:3}
.msg{border-left:4px solid #ccc;padding:4px 8px;margin:6px 0;white-space:pre-wrap;word-break:break-word}
.msg.customer{background:#f7f7f7}.msg.substantive{border-color:#2166ac}.msg.boilerplate{border-color:#d6604d}
.meta{color:#666;font-size:12px}details{margin:8px 0}summary{cursor:pointer}
"""

# Progressive enhancement only: sorting tables by a header click, and a count of the
# charts the browser actually laid out (tests read it from the rendered DOM).
_JS = """
document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){
var tb=th.closest('table').tBodies[0],rows=Array.from(tb.rows),dir=th.dataset.dir==='asc'?-1:1;th.dataset.dir=dir>0?'asc':'desc';
rows.sort(function(a,b){var x=a.cells[i].dataset.v||a.cells[i].textContent,y=b.cells[i].dataset.v||b.cells[i].textContent;
var nx=parseFloat(x),ny=parseFloat(y);return(isNaN(nx)||isNaN(ny)?x.localeCompare(y):nx-ny)*dir});rows.forEach(function(r){tb.appendChild(r)})})});
document.documentElement.dataset.chartsRendered=Array.from(document.querySelectorAll('svg.chart')).filter(function(s){
var r=s.getBoundingClientRect();return r.width>0&&r.height>0&&s.querySelectorAll('rect,circle,polyline').length>0}).length;
"""


def _cell(value: object, sort: float | None = None) -> str:
    attr = f' data-v="{sort}"' if sort is not None else (' data-v="-1"' if value == "–" else "")
    return f"<td{attr}>{_e(value)}</td>"


def render_html(report: Report, *, title: str = "replyqa report") -> str:
    """A self-contained HTML page: summary, charts, the table per group and the worst tickets."""
    o = report.overall.to_dict()
    by = report.by
    top_groups = report.groups[:25]
    never = report.overall.never_substantive
    ttfr_bins = _bins(report.overall.first_response, report.overall.tickets - len(report.overall.first_response))
    ttfsr_bins = _bins(report.overall.first_substantive, report.overall.tickets - len(report.overall.first_substantive))
    labels = [label for _, label in TIME_BINS] + list(TIME_BINS_LAST)
    charts = [
        svg_grouped_bars(
            "Tickets by time to first response and to first substantive response",
            labels,
            [("first response", "#999999", ttfr_bins), ("first substantive response", "#2166ac", ttfsr_bins)],
            "time-distribution",
        ),
        svg_medians(
            f"Median times per {by}",
            [(g.name, percentile(g.first_response, 50), percentile(g.first_substantive, 50)) for g in top_groups],
            "medians",
        ),
        svg_category_mix(f"Category mix per {by}", [(g.name, g.categories) for g in top_groups], "category-mix"),
        svg_trend(
            "Trend over months",
            [m.name for m in report.months],
            [
                ("boilerplate share", "#d6604d", [_share(m) for m in report.months]),
                (
                    "SLA first substantive met",
                    "#2166ac",
                    [m.attainment("first_substantive_response") for m in report.months],
                ),
                ("SLA first response met", "#999999", [m.attainment("first_response") for m in report.months]),
            ],
            "trend",
        ),
    ]
    cards = [
        ("tickets", f"{o['tickets']:,}"),
        ("agent messages", f"{o['agent_messages']:,}"),
        ("boilerplate share", _pct(o["boilerplate_share"])),
        ("median first response", duration(o["first_response_median_seconds"])),
        ("median first substantive", duration(o["first_substantive_median_seconds"])),
        ("acknowledgement gap (median)", duration(o["acknowledgement_gap_median_seconds"])),
        ("never substantive", f"{never:,}"),
        ("SLA substantive met", _pct(o["sla_first_substantive_attainment"])),
    ]
    head = [
        by,
        "tickets",
        "agent msgs",
        "boilerplate",
        "1st resp. median",
        "1st resp. p90",
        "1st subst. median",
        "1st subst. p90",
        "ack. gap median",
        "boilerplate rounds",
        "never subst.",
        "SLA 1st resp.",
        "SLA 1st subst.",
    ]
    rows = []
    for g in report.groups:
        d = g.to_dict()
        rows.append(
            "<tr>"
            + f"<td>{_e(g.name)}</td>"
            + _cell(d["tickets"])
            + _cell(d["agent_messages"])
            + _cell(_pct(d["boilerplate_share"]), d["boilerplate_share"])
            + "".join(
                _cell(duration(d[k]), d[k])
                for k in (
                    "first_response_median_seconds",
                    "first_response_p90_seconds",
                    "first_substantive_median_seconds",
                    "first_substantive_p90_seconds",
                    "acknowledgement_gap_median_seconds",
                )
            )
            + _cell("–" if d["boilerplate_rounds_mean"] is None else f"{d['boilerplate_rounds_mean']:.2f}")
            + _cell(d["never_substantive_tickets"])
            + _cell(_pct(d["sla_first_response_attainment"]), d["sla_first_response_attainment"])
            + _cell(_pct(d["sla_first_substantive_attainment"]), d["sla_first_substantive_attainment"])
            + "</tr>"
        )
    worst_rows, details = [], []
    for i, w in enumerate(report.worst):
        anchor = f"t{i}"
        worst_rows.append(
            f'<tr><td><a href="#{anchor}">{_e(w.id)}</a></td><td>{_e(w.group)}</td>'
            f"<td style='text-align:left'>{_e(_short(w.title or '', 60))}</td>"
            + _cell(duration(w.first_response), w.first_response)
            + _cell(
                "never" if w.first_substantive is None else duration(w.first_substantive), w.first_substantive or 1e18
            )
            + _cell(w.boilerplate_rounds)
            + "</tr>"
        )
        msgs = []
        for m in w.messages:
            role = m.get("role", "")
            label = f" · {m.get('category')} ({m.get('quality')})" if role == "agent" else ""
            cls = f"{role} {m.get('quality', '')}".strip()
            msgs.append(
                f'<div class="msg {_e(cls)}"><div class="meta">{_e(role)} · {_e(m.get("author") or "")}'
                f" · {_e(m.get('timestamp') or '')}{_e(label)}</div>{_e(m.get('text', ''))}</div>"
            )
        link = f' · <a href="{_e(w.url)}">open in the helpdesk</a>' if w.url and str(w.url).startswith("http") else ""
        details.append(
            f'<details id="{anchor}"><summary><b>{_e(w.id)}</b> · {_e(w.title or "")}{link}</summary>{"".join(msgs)}</details>'
        )
    skipped = (
        f"<p class='sub'>{len(report.skipped)} lines of the input were not scored transcripts and were skipped"
        f" (first: line {report.skipped[0].line}, {_e(report.skipped[0].reason)}).</p>"
        if report.skipped
        else ""
    )
    legend = " ".join(
        f'<span style="border-left:10px solid {CATEGORY_COLOURS[c]};padding-left:4px;margin-right:8px">{c}</span>'
        for c in (*BOILERPLATE_CATEGORIES, *SUBSTANTIVE_CATEGORIES)
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{_e(title)}</title><style>{_CSS}</style></head><body>
<h1>{_e(title)}</h1>
<p class="sub">By {_e(by)} · {o["tickets"]:,} tickets from {_e(report.source or "scored transcripts")} · generated {generated}.
Time to first <i>substantive</i> response is what a customer waiting on a fix feels; a fast but empty reply cannot improve it.</p>
{skipped}
<div class="cards">{"".join(f"<div class='card'>{_e(k)}<b>{_e(v)}</b></div>" for k, v in cards)}</div>
<h2>Charts</h2><div class="charts">{"".join(charts)}</div>
<h2>Per {_e(by)}</h2>
<p class="sub">Click a header to sort. Boilerplate share and categories count agent messages; times, rounds and SLA count tickets.
SLA attainment is met ÷ (met + breached).</p>
<table class="sortable"><thead><tr>{"".join(f"<th>{_e(h)}</th>" for h in head)}</tr></thead><tbody>{"".join(rows)}</tbody></table>
<p class="sub">{legend}</p>
<h2>Worst tickets</h2>
<p class="sub">The slowest to get a substantive answer (never answered with substance first). Click an id for the transcript.</p>
<table class="sortable"><thead><tr><th>ticket</th><th>{_e(by)}</th><th>title</th><th>1st response</th><th>1st substantive</th><th>boilerplate rounds</th></tr></thead>
<tbody>{"".join(worst_rows)}</tbody></table>
{"".join(details)}
<script>{_JS}</script>
</body></html>
"""


def _share(g: GroupStats) -> float | None:
    return g.boilerplate_messages / g.agent_messages if g.agent_messages else None


def render(report: Report, fmt: str) -> str:
    """The report as `html`, `csv` or `json`."""
    if fmt == "html":
        return render_html(report)
    if fmt == "csv":
        return render_csv(report)
    if fmt == "json":
        return render_json(report)
    raise InvalidInputError(f"unknown report format {fmt!r}; use one of {', '.join(REPORT_FORMATS)}")


def write_report(
    input_path: Path | str, output_path: Path | str, *, by: str = "vendor", fmt: str | None = None, worst: int = 20
) -> Report:
    """Read scored transcripts, build the report and write it atomically (format from `fmt` or the extension)."""
    output_path = Path(output_path)
    if fmt is None:
        fmt = {".csv": "csv", ".json": "json"}.get(output_path.suffix.lower(), "html")
    if fmt not in REPORT_FORMATS:
        raise InvalidInputError(f"unknown report format {fmt!r}; use one of {', '.join(REPORT_FORMATS)}")
    report = build_report(read_scored(input_path), by, worst=worst, source=Path(input_path).name)
    atomic_write_text(output_path, render(report, fmt))
    return report

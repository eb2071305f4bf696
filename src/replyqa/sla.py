"""SLA policies: per-severity targets, business hours, holidays and clock pauses."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import PolicyError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)?\s*$", re.I)
_UNIT = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800, None: 60}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(value: object, where: str) -> float:
    """Seconds from '90m', '4h', '2d', '30s' or a bare number of minutes."""
    if isinstance(value, bool):
        raise PolicyError(f"{where}: expected a duration like '4h', got {value!r}")
    if isinstance(value, int | float):
        return float(value) * 60
    m = _DURATION.match(str(value))
    if not m:
        raise PolicyError(f"{where}: expected a duration like '30m', '4h' or '2d', got {value!r}")
    unit = m.group(2).lower() if m.group(2) else None
    return float(m.group(1)) * _UNIT[unit]


@dataclass(frozen=True)
class Target:
    """Targets of one severity, in seconds of the clock that applies to it."""

    first_response: float | None
    first_substantive_response: float | None
    business_hours: bool


@dataclass(frozen=True)
class BusinessHours:
    """When the business clock runs: weekdays, opening hours, a time zone, holidays."""

    timezone: ZoneInfo
    start: time
    end: time
    days: frozenset[int]
    holidays: frozenset[date] = frozenset()

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The open windows of business time that overlap [start, end]."""
        out: list[tuple[datetime, datetime]] = []
        local = start.astimezone(self.timezone).date() - timedelta(days=1)
        last = end.astimezone(self.timezone).date()
        while local <= last:
            if local.weekday() in self.days and local not in self.holidays:
                a = datetime.combine(local, self.start, self.timezone)
                b = datetime.combine(local, self.end, self.timezone)
                a, b = max(a, start), min(b, end)
                if a < b:
                    out.append((a, b))
            local += timedelta(days=1)
        return out


@dataclass(frozen=True)
class Policy:
    """An SLA policy: targets per severity, aliases, business hours and pause statuses."""

    name: str
    targets: dict[str, Target]
    default_severity: str
    aliases: dict[str, str] = field(default_factory=dict)
    business_hours: BusinessHours | None = None
    pause_statuses: frozenset[str] = frozenset()

    def severity(self, value: str | None) -> str:
        """The canonical severity for a name or alias (the default when None)."""
        if value is None:
            return self.default_severity
        key = str(value).strip()
        for candidate in (key, key.upper(), key.lower()):
            if candidate in self.targets:
                return candidate
            if candidate in self.aliases:
                return self.aliases[candidate]
        known = sorted([*self.targets, *self.aliases])
        raise PolicyError(f"unknown severity {value!r}; policy {self.name!r} knows {', '.join(known)}")

    def elapsed(
        self,
        severity: str,
        start: datetime,
        end: datetime,
        pauses: list[tuple[datetime, datetime]] = [],  # noqa: B006
    ) -> float:
        """Seconds on the clock between start and end: business time if the severity uses it, less pauses."""
        if end <= start:
            return 0.0
        target = self.targets[severity]
        if target.business_hours and self.business_hours is not None:
            running = self.business_hours.windows(start, end)
        else:
            running = [(start, end)]
        total = 0.0
        for a, b in running:
            total += (b - a).total_seconds()
            for pa, pb in pauses:
                lo, hi = max(a, pa), min(b, pb)
                if lo < hi:
                    total -= (hi - lo).total_seconds()
        return max(0.0, total)


def policy_from_dict(raw: dict[str, Any], name: str = "inline") -> Policy:
    """Build and validate a Policy from its TOML/JSON structure."""
    if not isinstance(raw, dict):
        raise PolicyError(f"policy {name}: expected a table/object")
    sev_raw = raw.get("severities")
    if not isinstance(sev_raw, dict) or not sev_raw:
        raise PolicyError(f"policy {name}: needs a [severities.<NAME>] table for at least one severity")
    targets: dict[str, Target] = {}
    for sev, spec in sev_raw.items():
        if not isinstance(spec, dict):
            raise PolicyError(f"policy {name}: severities.{sev} must be a table")
        fr = spec.get("first_response")
        fsr = spec.get("first_substantive_response")
        targets[str(sev)] = Target(
            first_response=None if fr is None else parse_duration(fr, f"severities.{sev}.first_response"),
            first_substantive_response=None
            if fsr is None
            else parse_duration(fsr, f"severities.{sev}.first_substantive_response"),
            business_hours=bool(spec.get("business_hours", False)),
        )
    aliases = {str(k): str(v) for k, v in (raw.get("aliases") or {}).items()}
    for alias, sev in aliases.items():
        if sev not in targets:
            raise PolicyError(f"policy {name}: alias {alias!r} points to unknown severity {sev!r}")
    default = str(raw.get("default_severity", next(iter(targets))))
    default = aliases.get(default, default)
    if default not in targets:
        raise PolicyError(f"policy {name}: default_severity {default!r} is not a severity")
    bh = None
    if raw.get("business_hours") is not None:
        bh = _business_hours(raw["business_hours"], name)
    elif any(t.business_hours for t in targets.values()):
        raise PolicyError(f"policy {name}: a severity uses business_hours but no [business_hours] table is given")
    pauses = frozenset(str(s).lower() for s in raw.get("pause_statuses", []))
    return Policy(str(raw.get("name", name)), targets, default, aliases, bh, pauses)


def _business_hours(raw: object, name: str) -> BusinessHours:
    if not isinstance(raw, dict):
        raise PolicyError(f"policy {name}: business_hours must be a table")
    try:
        tz = ZoneInfo(str(raw.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyError(f"policy {name}: unknown time zone {raw.get('timezone')!r}") from exc
    try:
        start = time.fromisoformat(str(raw.get("start", "09:00")))
        end = time.fromisoformat(str(raw.get("end", "18:00")))
    except ValueError as exc:
        raise PolicyError(f"policy {name}: business_hours start/end must be HH:MM ({exc})") from exc
    if end <= start:
        raise PolicyError(f"policy {name}: business_hours end must be after start")
    days_raw = raw.get("days", ["mon", "tue", "wed", "thu", "fri"])
    try:
        days = frozenset(_DAYS.index(str(d).lower()[:3]) for d in days_raw)
    except ValueError as exc:
        raise PolicyError(f"policy {name}: business_hours days must be names like 'mon'") from exc
    try:
        holidays = frozenset(date.fromisoformat(str(d)) for d in raw.get("holidays", []))
    except ValueError as exc:
        raise PolicyError(f"policy {name}: holidays must be YYYY-MM-DD dates ({exc})") from exc
    return BusinessHours(tz, start, end, days, holidays)


def load_policy(path: Path | str | None = None) -> Policy:
    """Load a TOML policy file (default: the shipped default policy)."""
    if path is None:
        text = resources.files("replyqa").joinpath("default_sla.toml").read_text(encoding="utf-8")
        name = "default"
    else:
        p = Path(path)
        if not p.is_file():
            raise PolicyError(f"SLA policy file {p} does not exist")
        text, name = p.read_text(encoding="utf-8"), p.stem
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"SLA policy {name}: invalid TOML ({exc})") from exc
    return policy_from_dict(raw, name)

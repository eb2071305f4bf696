"""The label set of LABELING.md: two qualities, eight categories."""

from __future__ import annotations

from typing import Final

BOILERPLATE: Final = "boilerplate"
SUBSTANTIVE: Final = "substantive"
QUALITIES: Final = (BOILERPLATE, SUBSTANTIVE)

BOILERPLATE_CATEGORIES: Final = (
    "acknowledgement",
    "info_request",
    "status_update",
    "generic_advice",
    "deflection",
)
# Ordered by rule 1 of LABELING.md: the most substantive part wins.
SUBSTANTIVE_CATEGORIES: Final = ("diagnosis", "solution", "root_cause")
CATEGORIES: Final = BOILERPLATE_CATEGORIES + SUBSTANTIVE_CATEGORIES

LANGS: Final = ("en", "zh", "mixed")


def quality_of(category: str) -> str:
    """Return the quality (`boilerplate`/`substantive`) that a category implies."""
    if category in SUBSTANTIVE_CATEGORIES:
        return SUBSTANTIVE
    if category in BOILERPLATE_CATEGORIES:
        return BOILERPLATE
    raise ValueError(f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")


def is_substantive(category: str) -> bool:
    """True when the category counts as a substantive reply."""
    return quality_of(category) == SUBSTANTIVE

import pytest

import replyqa
from replyqa.labels import BOILERPLATE_CATEGORIES, CATEGORIES, SUBSTANTIVE_CATEGORIES, is_substantive, quality_of


def test_eight_categories_split_into_two_qualities() -> None:
    assert len(CATEGORIES) == 8
    assert set(BOILERPLATE_CATEGORIES) | set(SUBSTANTIVE_CATEGORIES) == set(CATEGORIES)
    assert {quality_of(c) for c in BOILERPLATE_CATEGORIES} == {"boilerplate"}
    assert {quality_of(c) for c in SUBSTANTIVE_CATEGORIES} == {"substantive"}
    assert is_substantive("root_cause") and not is_substantive("deflection")


def test_unknown_category_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="acknowledgement"):
        quality_of("vibes")


def test_public_api_is_exactly_all() -> None:
    public = {n for n in dir(replyqa) if not n.startswith("_") or n == "__version__"}
    modules = {n for n in public if type(getattr(replyqa, n)).__name__ == "module"}
    assert set(replyqa.__all__) == public - modules
    for name in replyqa.__all__:
        assert getattr(replyqa, name) is not None

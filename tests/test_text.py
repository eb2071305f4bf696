from hypothesis import given
from hypothesis import strategies as st

from replyqa.text import analyze, detect_lang, mask, normalise, normalise_unicode, sentences, split_parts


def test_placeholders_for_noise_that_carries_meaning() -> None:
    out = mask(
        "Hi @dev_lee, error -1004 at /sdcard/a/b.log, fixed in v4.2.1-beta.2, see https://x.io/a "
        "or mail help@x.io, dup of #12, call `renewToken()`; ERR_TOKEN_EXPIRED"
    )
    for token in (
        "__mention__",
        "__errcode__",
        "__path__",
        "__version__",
        "__url__",
        "__email__",
        "__issue__",
        "__ident__",
    ):
        assert token in out, token
    assert "1004" not in out and "4.2.1" not in out


def test_code_blocks_and_log_lines_become_single_tokens() -> None:
    text = "Look:\n```java\nengine.join();\nfoo();\n```\n03-01 12:00:00.123 E/Rtc( 12): boom\nat a.B.c(B.java:1)\nok"
    out = mask(text)
    assert out.count("__code__") == 1
    assert out.count("__log__") == 1
    assert "engine" not in out


def test_quoted_customer_text_and_signature_are_set_apart() -> None:
    parts = split_parts("Set the full path.\n\nBest regards,\nKevin\n\nOn Mon, Mar 1 Bob <b@x.io> wrote:\n> it crashes")
    assert parts.body == "Set the full path."
    assert "it crashes" in parts.quoted
    assert parts.signature.startswith("Best regards")
    assert normalise("> it crashes\nUse v2.").startswith("__quote__")


def test_greeting_thanks_is_not_mistaken_for_a_signature() -> None:
    assert split_parts("Thanks!\nFixed in 1.2.3").body == "Thanks!\nFixed in 1.2.3"


def test_unicode_fullwidth_and_traditional() -> None:
    assert normalise_unicode("ＳＤＫ　４．２．１") == "SDK 4.2.1"
    assert normalise_unicode("請確認這個問題") == "请确认这个问题"


def test_analyze_mixes_english_stems_and_cjk_ngrams() -> None:
    feats = analyze(normalise("Restarting 从日志看 token 过期"))
    assert "restart" in feats
    assert "日志" in feats and "从日志" in feats
    assert any(f.startswith("__len_") for f in feats)


def test_sentences_split_english_and_chinese() -> None:
    assert sentences("您好。4.2.1 已修复！请升级。") == ["您好。", "4.2.1 已修复!", "请升级。"]
    assert sentences("Thanks. Fixed in 1.2.3! Upgrade?") == ["Thanks.", "Fixed in 1.2.3!", "Upgrade?"]


def test_detect_lang() -> None:
    assert detect_lang("Please upgrade.") == "en"
    assert detect_lang("请升级到最新版本。") == "zh"
    assert detect_lang("这个是 AEC 的问题, please enable the hardware echo canceller first") == "mixed"


@given(st.text(max_size=300))
def test_normalisation_never_fails_on_any_text(text: str) -> None:
    out = normalise(text)
    assert isinstance(out, str)
    assert all(isinstance(f, str) and f for f in analyze(out))
    for s in sentences(text):
        assert s.strip()


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_unicode_normalisation_is_idempotent(text: str) -> None:
    once = normalise_unicode(text)
    assert normalise_unicode(once) == once

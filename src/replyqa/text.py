"""Text normalisation and tokenisation for vendor replies in English, Chinese or both.

Real replies carry links, versions, error codes, code blocks, logs, quoted customer
text and signatures. The *presence* of those generalises across vendors while their
exact strings do not, so they become placeholder tokens (``__url__``, ``__version__``,
``__log__``...). Quoted customer text and signatures are set apart: they are not the
vendor's words. English is tokenised with a regexp and the nltk Snowball stemmer
(neither needs downloaded data); Chinese becomes character n-grams.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from nltk.stem.snowball import SnowballStemmer

PLACEHOLDERS = (
    "code",
    "log",
    "url",
    "email",
    "mention",
    "issue",
    "version",
    "errcode",
    "path",
    "ident",
    "num",
    "quote",
)

# Common traditional characters in support replies mapped to simplified; a full
# OpenCC table is not worth a dependency, these cover the frequent words.
_TRAD = (
    "們们這这個个問问題题請请謝谢復复現现錯错誤误點点開开關关發发後后來来時时會会說说見见試试對对應应該该"
    "為为無无線线網网絡络頻频視视聲声錄录製制體体設设備备機机號号碼码數数據据務务術术級级將将與与從从則则"
    "進进過过還还邊边麼么嗎吗沒没當当裡里裏里際际實实處处傳传輸输協协議议認认證证權权單单長长間间連连斷断"
    "響响導导舊旧層层檔档歷历環环專专業业經经驗验態态標标準准確确報报紀纪載载轉转換换異异潰溃類类參参檢检"
    "測测調调優优語语訊讯話话戶户帳帐員员難难決决釋释屬属啟启動动編编譯译庫库壓压縮缩幀帧碼码觸触屏屏"
    "於于並并裝装據据寫写讀读態态雜杂卻却嗎吗礙碍驅驱圖图畫画廠厂牆墙該该迴回溝沟鏈链續续屬属繫系顯显"
)
_TRAD_TABLE = str.maketrans({_TRAD[i]: _TRAD[i + 1] for i in range(0, len(_TRAD) - 1, 2)})
# str.translate with a dict walks every character in Python-level lookups; most replies
# have no traditional character at all, and a character-class search finds that in C.
_HAS_TRAD = re.compile("[" + "".join(sorted({_TRAD[i] for i in range(0, len(_TRAD) - 1, 2)})) + "]")

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_HAS_CJK = re.compile(f"[{_CJK}]")

_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_INDENTED_CODE = re.compile(r"(?m)^(?: {4}|\t)\S.*$")
_INLINE_CODE = re.compile(r"`[^`\n]{1,200}`")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>()\"'，。）]+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9][\w.-]{0,38}")
_ISSUE = re.compile(r"(?<![\w&])#\d{1,6}\b")
_VERSION = re.compile(
    r"(?i)(?<![\w.])v?\d+(?:\.\d+){1,3}(?:[-+._]?(?:alpha|beta|rc|preview|snapshot|build|hotfix|patch)[.\-]?\d*)?(?![\w.])"
)
_ERRCODE = re.compile(r"(?<![\w.])(?:-\d{1,6}|0x[0-9a-fA-F]{2,16}|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+){1,6})(?![\w.])")
_PATH = re.compile(r"(?:(?<=\s)|^)(?:[A-Za-z]:\\|~?/)[\w.\-]+(?:[/\\][\w.\-]+)+/?")
_IDENT = re.compile(
    r"\b(?:[a-z]+[A-Z][A-Za-z0-9]*|[a-z0-9]+(?:_[a-z0-9]+){1,5}|[A-Z][a-z]+[A-Z][A-Za-z0-9]*)\b(?:\(\))?"
)
_DIGIT = re.compile(r"\d")
_NUM = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:ms|s|kbps|mbps|fps|hz|k|m|%)?(?![\w.])", re.I)

_LOG_LINE = re.compile(
    r"""(?x)^\s*(?:
        \d{4}[-/]\d{2}[-/]\d{2}[ T]\d{1,2}:\d{2}      # 2024-03-01 12:00
      | \d{2}-\d{2}\s+\d{2}:\d{2}:\d{2}               # logcat 03-01 12:00:00
      | \[?\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\]?\s       # 12:00:00.123
      | [VDIWEF]/[\w.$-]+\s*(?:\(\s*\d+\))?:          # logcat tag
      | at\s+[\w.$<>]+\(.*\)                          # java frame
      | \#\d+\s+0x[0-9a-f]+                           # native frame
      | \d+\s+[\w.]+\s+0x[0-9a-f]+                    # iOS frame
      | Traceback\s\(most\srecent                     # python
      | File\s"[^"]+",\sline\s\d+                     # python frame
      | (?:Caused\sby|Exception\sin|FATAL\sEXCEPTION)\b
      | (?:ERROR|WARN|INFO|DEBUG|TRACE|FATAL)[\s:\]]
      | \[(?:ERROR|WARN|INFO|DEBUG|E|W|I|D)\]
    )"""
)
_QUOTE_LINE = re.compile(r"^\s*>")
_REPLY_HEADER = re.compile(
    r"(?im)^\s*(?:on\s.{4,200}\swrote:|在\s?.{2,80}写道[:：]|-{2,}\s*original message\s*-{2,}|发件人[:：].*)\s*$"
)
_SIGNOFF = re.compile(
    r"""(?ix)^\s*(?:
        (?:best|kind|warm)?\s*regards[,!.]?
      | best(?:\s+wishes)?[,!]
      | cheers[,!]?
      | sincerely[,!]?
      | thanks(?:\s+again)?[,!]
      | thank\s+you[,!]
      | br[,]
      | --\s*
      | 此致 | 祝好[!！,，]? | 顺祝(?:商祺|工作顺利)[!！。]? | 谢谢[!！,，]? | 感谢[!！,，]?
    )\s*$"""
)

_EN_TOKEN = re.compile(r"__[a-z]+__|[a-z]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(rf"(?<=[.!?。！？；;])\s+|(?<=[。！？；])|(?<=[!?;])(?=[{_CJK}])|\n+")

_STEMMER = SnowballStemmer("english")


@dataclass(frozen=True)
class Parts:
    """A reply split into the vendor's own words, quoted customer text and signature."""

    body: str
    quoted: str
    signature: str


def normalise_unicode(text: str) -> str:
    """NFKC (full-width forms to ASCII), traditional to simplified where cheap, tidy spaces."""
    text = unicodedata.normalize("NFKC", text)
    if _HAS_TRAD.search(text):
        text = text.translate(_TRAD_TABLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u200b", "")
    return text


def split_parts(text: str) -> Parts:
    """Set apart quoted customer text ("> ..." lines, "On ... wrote:" tails) and a signature."""
    text = normalise_unicode(text)
    quoted: list[str] = []
    header = _REPLY_HEADER.search(text)
    if header and header.start() > 0:
        quoted.append(text[header.start() :])
        text = text[: header.start()]
    body_lines: list[str] = []
    for line in text.split("\n"):
        (quoted if _QUOTE_LINE.match(line) else body_lines).append(line)
    signature = ""
    nonblank = [i for i, line in enumerate(body_lines) if line.strip()]
    # A sign-off line among the last few lines, with the vendor's words before it.
    for i in nonblank[-4:]:
        if _SIGNOFF.match(body_lines[i]) and any(j < i for j in nonblank):
            signature = "\n".join(body_lines[i:])
            body_lines = body_lines[:i]
            break
    return Parts(body="\n".join(body_lines).strip(), quoted="\n".join(quoted).strip(), signature=signature.strip())


def _mask_logs(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        if _LOG_LINE.match(line):
            if not out or out[-1] != " __log__ ":
                out.append(" __log__ ")
        else:
            out.append(line)
    return "\n".join(out)


def mask(text: str) -> str:
    """Replace code, logs, links, versions, error codes, paths and identifiers by placeholders."""
    # Each guard is a character every match of its pattern needs: a pattern that cannot
    # match is not run (the batch hot path; the output is the same either way).
    if "```" in text:
        text = _FENCE.sub(" __code__ \n", text)
    text = _mask_logs(text)
    if "    " in text or "\t" in text:
        text = _INDENTED_CODE.sub(" __code__ ", text)
    if "`" in text:
        text = _INLINE_CODE.sub(" __ident__ ", text)
    if "://" in text or "www." in text.lower():
        text = _URL.sub(" __url__ ", text)
    if "@" in text:
        text = _EMAIL.sub(" __email__ ", text)
        text = _MENTION.sub(" __mention__ ", text)
    if "#" in text:
        text = _ISSUE.sub(" __issue__ ", text)
    if "/" in text or "\\" in text:
        text = _PATH.sub(" __path__ ", text)
    digits = _DIGIT.search(text) is not None  # placeholders add no digit, so this holds below
    if digits:
        text = _VERSION.sub(" __version__ ", text)
    text = _ERRCODE.sub(" __errcode__ ", text)
    text = _IDENT.sub(" __ident__ ", text)
    if digits:
        text = _NUM.sub(" __num__ ", text)
    return text


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stem(word))


def normalise(text: str) -> str:
    """The text the model sees: the vendor's own words, masked, with a quote marker if any."""
    parts = split_parts(text)
    body = mask(parts.body)
    if parts.quoted:
        body = "__quote__ " + body
    return body


def _length_bucket(n_chars: int) -> str:
    for limit, name in ((12, "xs"), (40, "s"), (120, "m"), (400, "l")):
        if n_chars <= limit:
            return name
    return "xl"


class Analyzer:
    """Features of normalised text: English words (1..n-grams), CJK char n-grams, shape tokens.

    Words keep their surface form by default: stemming folds "fixed" and "will be fixed"
    together, and that tense is what separates a solution from a status update.
    """

    def __init__(self, stem: bool = False, word_ngrams: int = 2, cjk_ngrams: tuple[int, int] = (1, 3)) -> None:
        self.stem = stem
        self.word_ngrams = word_ngrams
        self.cjk_ngrams = cjk_ngrams

    def __call__(self, normalised: str) -> list[str]:
        """The feature tokens of one normalised text."""
        features: list[str] = []
        lowered = normalised.lower()
        # English (and placeholders), with CJK runs acting as token boundaries.
        words = _EN_TOKEN.findall(lowered)
        if self.stem:
            words = [w if w.startswith("__") else _stem(w) for w in words]
        features.extend(words)
        if self.word_ngrams >= 2:
            features.extend([f"{a} {b}" for a, b in itertools.pairwise(words)])
        for n in range(3, self.word_ngrams + 1):
            features.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
        lo, hi = self.cjk_ngrams
        for run in _CJK_RUN.findall(lowered):
            for n in range(lo, hi + 1):
                features.extend([run[i : i + n] for i in range(len(run) - n + 1)])
        stripped = re.sub(r"__[a-z]+__", "X", normalised)
        n_cjk = sum(len(r) for r in _CJK_RUN.findall(stripped))
        # CJK characters carry about two English words' worth of text each.
        size = len(stripped) - n_cjk + 3 * n_cjk
        features.append(f"__len_{_length_bucket(size)}__")
        if "?" in normalised or "？" in normalised or "吗" in normalised:
            features.append("__question__")
        return features


_DEFAULT_ANALYZER = Analyzer(stem=True)


def analyze(normalised: str) -> list[str]:
    """Features of normalised text with stemming (see `Analyzer`)."""
    return _DEFAULT_ANALYZER(normalised)


def detect_lang(text: str) -> str:
    """Guess `en`, `zh` or `mixed` from the share of CJK characters among letters."""
    body = mask(split_parts(text).body)
    body = re.sub(r"__[a-z]+__", " ", body)
    cjk = sum(len(r) for r in _CJK_RUN.findall(body))
    latin = len(re.findall(r"[A-Za-z]+", body))
    if cjk == 0:
        return "en"
    if latin == 0 or cjk >= 4 * latin:
        return "zh"
    return "mixed" if latin >= 3 else "zh"


def sentences(text: str) -> list[str]:
    """Split the vendor's own words into sentences (English and Chinese punctuation, lines)."""
    body = split_parts(text).body
    body = _FENCE.sub(lambda m: m.group(0).replace("\n", " \u2063 "), body)
    pieces = [p.replace(" \u2063 ", "\n").strip() for p in _SENTENCE_END.split(body)]
    return [p for p in pieces if p and re.search(rf"[\w{_CJK}]", p)]


def has_cjk(text: str) -> bool:
    """True when the text contains any CJK ideograph."""
    return bool(_HAS_CJK.search(text))

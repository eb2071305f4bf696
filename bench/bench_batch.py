"""Benchmark of offline batch labeling: replies/s end to end, memory on a 1 GB file, and fastText.

    .venv/bin/python bench/bench_batch.py                 # everything (the 1 GB run takes minutes)
    .venv/bin/python bench/bench_batch.py --skip-big      # throughput and fastText only

What it measures, on this machine, in one run:

1. replies/s of `replyqa.batch.label_file` end to end (read, parse, normalise, classify,
   write) on JSON Lines of realistic replies, with 1 and N worker processes, and on a
   worst case where every reply is distinct;
2. a fastText classifier trained on the same labeled data and run end to end (read,
   parse, predict, write) on the same file, and both models' accuracy on a held-out split;
3. peak resident memory (the labeling process and its workers together) of `replyqa label`
   on a generated file of about 1 GB.

The model: the current one under models/ if `replyqa.artifacts.resolve()` finds one,
else one trained here from data/labeled/ (train.jsonl, or the drafts) and cached in the
work folder. Generated files live in the work folder (default /tmp/replyqa-bench), never
in the repository. fastText is optional: `pip install fasttext-wheel` (the `bench` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from replyqa.artifacts import resolve, save  # noqa: E402
from replyqa.batch import label_file  # noqa: E402
from replyqa.data import Example, fingerprint, load_split, read_examples, split_by_group  # noqa: E402
from replyqa.errors import ReplyQAError  # noqa: E402
from replyqa.labels import BOILERPLATE_CATEGORIES, quality_of  # noqa: E402
from replyqa.model import Classifier, train  # noqa: E402

NAMES = [
    "Ana", "Bo", "Chen", "Dana", "Emeka", "Fatima", "Giulia", "Hiro", "Ivan", "Jun", "Kai", "Lena", "Mateo",
    "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wei", "Xin", "Yara", "Zoe",
]  # fmt: skip
AGENTS = ["Jordan (Support)", "Mei (SDK team)", "Priya (Platform)", "王工 (技术支持)", "Tomás", "Kenji", "Rafael"]
SIGNATURES = ["\n\nBest regards,\n{agent}", "\n\nThanks,\n{agent}", "\n\n祝好！\n{agent}", "", "", ""]
GREETINGS = ["Hi {name},\n\n", "Hello {name}, ", "您好，", "Hey {name} - ", "", "", ""]
DETAILS = [
    " Ticket ref {ticket}.",
    " (build {build})",
    " We checked channel {channel} at {hh}:{mm} UTC.",
    " Your app id ends in {hex}.",
    " 设备型号 {model}，时间 {hh}:{mm}。",
    "",
]
MODELS = ["Pixel 8", "Redmi Note 12", "iPhone 15", "Galaxy S23", "Mate 60", "OPPO Reno 10", "Vivo X90"]


def log(msg: str) -> None:
    print(msg, flush=True)


# --- data and model ------------------------------------------------------------------------------------------------


def corpus() -> tuple[list[Example], list[Example], str]:
    """(train, held-out test, where from): the fixed split if present, else a group split of the drafts."""
    labeled = ROOT / "data" / "labeled"
    if (labeled / "train.jsonl").is_file() and (labeled / "test.jsonl").is_file():
        train_set, test_set = load_split(labeled)
        return train_set, test_set, "data/labeled train.jsonl / test.jsonl"
    drafts = sorted((labeled / "drafts").glob("*.jsonl"))
    if not drafts:
        sys.exit("no labeled data in data/labeled/ (train.jsonl or drafts/*.jsonl); cannot train a model")
    examples = [e for f in drafts for e in read_examples(f)]
    train_set, test_set = split_by_group(examples)
    return train_set, test_set, f"data/labeled/drafts ({len(drafts)} files), split by group"


def model(train_set: list[Example], work: Path) -> tuple[Classifier, str]:
    """The current model if there is one, else one trained on `train_set` (cached in `work`)."""
    try:
        path = resolve()
        return Classifier.load(path), f"current model {path.relative_to(ROOT)}"
    except ReplyQAError:
        pass
    cache = work / "models" / f"bench-{fingerprint(train_set)[:12]}"
    if (cache / "manifest.json").is_file():
        return Classifier.load(cache), f"trained here on {len(train_set)} examples (cached in {cache})"
    log(f"no current model: training one on {len(train_set)} examples (default parameters; takes a minute) ...")
    start = time.perf_counter()
    classifier = train(train_set)
    save(classifier, cache.parent, version=cache.name)
    log(f"  trained in {time.perf_counter() - start:.0f}s")
    return Classifier.load(cache), f"trained here on {len(train_set)} examples"


# --- generated inputs ----------------------------------------------------------------------------------------------


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        name=rng.choice(NAMES),
        agent=rng.choice(AGENTS),
        ticket=rng.randint(10000, 999999),
        build=f"{rng.randint(3, 5)}.{rng.randint(0, 9)}.{rng.randint(0, 30)}",
        channel=f"room-{rng.randint(1, 99999)}",
        hh=f"{rng.randint(0, 23):02d}",
        mm=f"{rng.randint(0, 59):02d}",
        hex=f"{rng.getrandbits(24):06x}",
        model=rng.choice(MODELS),
    )


def realistic_texts(examples: list[Example], rng: random.Random) -> Iterator[str]:
    """Replies as a helpdesk history has them.

    35% canned macros sent verbatim (a few dominate); 25% the same replies with a
    greeting, a signature or a ticket detail around them; 40% replies written for the
    ticket (two or three sentences of different replies plus ticket details), nearly all
    distinct.
    """
    canned = [e.text for e in examples if e.category in BOILERPLATE_CATEGORIES]
    texts = [e.text for e in examples]
    weights = [1 / (i + 1) for i in range(len(canned))]  # Zipf: a few macros dominate
    while True:
        r = rng.random()
        if r < 0.35:
            yield rng.choices(canned, weights)[0]
        elif r < 0.60:
            body = rng.choice(texts)
            yield _fill(rng.choice(GREETINGS), rng) + body + _fill(rng.choice(DETAILS) + rng.choice(SIGNATURES), rng)
        else:
            parts = [rng.choice(texts) for _ in range(rng.randint(2, 3))]
            yield (
                _fill(rng.choice(GREETINGS), rng)
                + " ".join(parts)
                + _fill(rng.choice(DETAILS) + rng.choice(DETAILS), rng)
            )


def unique_texts(examples: list[Example], rng: random.Random) -> Iterator[str]:
    """The worst case: every reply distinct after normalisation (a random name inside each)."""
    texts = [e.text for e in examples]
    n = 0
    while True:
        n += 1
        yield f"{rng.choice(texts)} {rng.choice(NAMES)}{n:x}z {rng.choice(texts)}"


def write_rows(path: Path, texts: Iterator[str], *, rows: int | None = None, size: int | None = None) -> int:
    """Write JSONL rows (ticket, author, time, channel, text) until `rows` rows or `size` bytes."""
    rng = random.Random(7)
    written = n = 0
    with path.open("w", encoding="utf-8") as fh:
        buf = []
        while (rows is None or n < rows) and (size is None or written < size):
            row = {
                "ticket_id": f"T-{rng.randint(100000, 999999)}",
                "message_id": n,
                "author": rng.choice(AGENTS),
                "created_at": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z",
                "channel": rng.choice(["email", "web", "github", "chat"]),
                "text": next(texts),
            }
            line = json.dumps(row, ensure_ascii=False) + "\n"
            buf.append(line)
            written += len(line.encode("utf-8"))
            n += 1
            if len(buf) >= 10000:
                fh.write("".join(buf))
                buf = []
        fh.write("".join(buf))
    return n


# --- fastText ------------------------------------------------------------------------------------------------------


def fasttext_prepare(text: str) -> str:
    """fastText's input: one line, lower-cased, CJK characters spaced so they become tokens."""
    out = []
    for ch in text.lower().replace("\n", " ").replace("\r", " "):
        out.append(f" {ch} " if "\u3400" <= ch <= "\u9fff" else ch)
    return "".join(out)


def fasttext_train(train_set: list[Example], work: Path):
    import fasttext

    path = work / "fasttext-train.txt"
    with path.open("w", encoding="utf-8") as fh:
        for e in train_set:
            fh.write(f"__label__{e.category} {fasttext_prepare(e.text)}\n")
    return fasttext.train_supervised(
        str(path), epoch=30, lr=0.5, wordNgrams=2, minn=2, maxn=4, dim=50, loss="softmax", verbose=0, thread=2
    )


def fasttext_predict(ft, texts: list[str]) -> tuple[list[str], list[float]]:
    # The binding directly: fasttext's Python wrapper breaks on numpy 2 for batches.
    labels, probs = ft.f.multilinePredict([fasttext_prepare(t) for t in texts], 1, 0.0, "strict")
    return [lab[0][9:] for lab in labels], [float(p[0]) for p in probs]


def fasttext_label_file(ft, src: Path, out: Path) -> tuple[int, float]:
    """fastText end to end on the same file: read, parse, predict, write; returns (rows, seconds)."""
    start = time.perf_counter()
    n = 0
    with src.open("rb") as fin, out.open("w", encoding="utf-8") as fout:
        chunk: list[dict] = []

        def flush() -> None:
            cats, probs = fasttext_predict(ft, [r["text"] for r in chunk])
            fout.write(
                "".join(
                    json.dumps(
                        {**r, "quality": quality_of(c), "category": c, "confidence": round(p, 4)}, ensure_ascii=False
                    )
                    + "\n"
                    for r, c, p in zip(chunk, cats, probs, strict=True)
                )
            )

        for line in fin:
            chunk.append(json.loads(line))
            n += 1
            if len(chunk) >= 2048:
                flush()
                chunk = []
        if chunk:
            flush()
    return n, time.perf_counter() - start


# --- memory --------------------------------------------------------------------------------------------------------


def _kb(pid: int, name: str, key: str) -> int:
    try:
        with open(f"/proc/{pid}/{name}") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def run_measured(cmd: list[str]) -> tuple[float, int, int, int]:
    """Run a command; (seconds, peak PSS and peak RSS summed over its process tree, peak RSS of the main one), kB.

    PSS (proportional set size) counts a page shared by k processes as 1/k in each: the
    memory the job really occupies. Summed RSS counts shared library pages once per process.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_pss = peak_rss = peak_main = 0
    while proc.poll() is None:
        tree = _tree(proc.pid)
        peak_pss = max(peak_pss, sum(_kb(p, "smaps_rollup", "Pss:") for p in tree))
        peak_rss = max(peak_rss, sum(_kb(p, "status", "VmRSS:") for p in tree))
        peak_main = max(peak_main, _kb(proc.pid, "status", "VmRSS:"))
        time.sleep(0.2)
    stderr = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{stderr}")
    return time.perf_counter() - start, peak_pss, peak_rss, peak_main


# --- main ----------------------------------------------------------------------------------------------------------


def _busy() -> tuple[int, int]:
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def throughput(classifier: Classifier, src: Path, out: Path, jobs: int, repeat: int) -> tuple[float, float]:
    """Best replies/s over `repeat` runs, and the share of the machine's CPU in use during that run."""
    best, busy_share = 0.0, 0.0
    for _ in range(repeat):
        before = _busy()
        stats = label_file(classifier, src, out, jobs=jobs)
        after = _busy()
        assert stats.read == stats.labeled + stats.rejected
        rate = stats.read / stats.elapsed
        if rate > best:
            best = rate
            busy_share = (after[0] - before[0]) / max(1, after[1] - before[1])
    return best, busy_share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the realistic throughput file")
    parser.add_argument("--unique-rows", type=int, default=40_000, help="rows of the all-distinct file")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="worker processes for the parallel run")
    parser.add_argument("--big-gb", type=float, default=1.0, help="size of the memory-run file in GB")
    parser.add_argument("--skip-big", action="store_true", help="skip the 1 GB memory run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per throughput number (the best is kept)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/replyqa-bench"), help="folder for generated files")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    log(f"replyqa batch benchmark · {os.cpu_count()} cores · Python {sys.version.split()[0]}")
    log(f"load average before the run: {os.getloadavg()[0]:.2f} (other work on the machine slows every number below)")

    train_set, test_set, where = corpus()
    classifier, model_note = model(train_set, args.work)
    log(f"data: {where}: {len(train_set)} train / {len(test_set)} held out")
    log(f"model: {model_note} (version {classifier.version})")

    realistic = args.work / "realistic.jsonl"
    unique = args.work / "unique.jsonl"
    examples = train_set + test_set
    write_rows(realistic, realistic_texts(examples, random.Random(1)), rows=args.rows)
    write_rows(unique, unique_texts(examples, random.Random(2)), rows=args.unique_rows)
    size_mb = realistic.stat().st_size / 1e6
    log(f"inputs: {args.rows:,} realistic replies ({size_mb:.0f} MB), {args.unique_rows:,} all-distinct replies")

    log(f"\n== replyqa label, end to end (read, parse, normalise, classify, write JSONL), best of {args.repeat} ==")
    results = {}
    for name, src in (("realistic", realistic), ("all distinct", unique)):
        for jobs in sorted({1, args.jobs}):
            rate, busy = throughput(classifier, src, args.work / "out.jsonl", jobs, args.repeat)
            results[(name, jobs)] = rate
            log(f"  {name:<13} jobs={jobs}: {rate:>9,.0f} replies/s  (machine CPU busy {100 * busy:.0f}%)")
    best = max(results[("realistic", j)] for j in sorted({1, args.jobs}))
    log(f"  target >= 10,000 replies/s on realistic replies: {'met' if best >= 10_000 else 'NOT met'} ({best:,.0f})")

    log("\n== fastText on the same data and file ==")
    try:
        import fasttext  # noqa: F401
    except ImportError:
        log("  fastText is not installed: `.venv/bin/pip install fasttext-wheel` (or `pip install -e '.[bench]'`)")
        ft = None
    else:
        ft = fasttext_train(train_set, args.work)
    if ft is not None:
        ft_rate = 0.0
        for _ in range(args.repeat):
            n, seconds = fasttext_label_file(ft, realistic, args.work / "out-fasttext.jsonl")
            ft_rate = max(ft_rate, n / seconds)
        log(
            f"  fastText      jobs=1: {ft_rate:>9,.0f} replies/s (best of {args.repeat}; one process, as replyqa jobs=1)"
        )
        ours1 = results[("realistic", 1)]
        log(f"  replyqa / fastText: {ours1 / ft_rate:.2f}x at jobs=1, {best / ft_rate:.2f}x at best")
    texts = [e.text for e in test_set]
    predictions = classifier.predict(texts)
    acc = sum(p.category == e.category for p, e in zip(predictions, test_set, strict=True)) / len(test_set)
    qacc = sum(p.quality == e.quality for p, e in zip(predictions, test_set, strict=True)) / len(test_set)
    log(f"\n== accuracy on the {len(test_set)} held-out replies ==")
    log(f"  replyqa:  category {acc:.3f}, quality {qacc:.3f}")
    if ft is not None:
        cats, _ = fasttext_predict(ft, texts)
        fa = sum(c == e.category for c, e in zip(cats, test_set, strict=True)) / len(test_set)
        fq = sum(quality_of(c) == e.quality for c, e in zip(cats, test_set, strict=True)) / len(test_set)
        log(f"  fastText: category {fa:.3f}, quality {fq:.3f}")
    if "current model" in model_note:
        log("  (the current model may have seen these replies in training if it was not trained on train.jsonl)")

    if args.skip_big:
        return
    big = args.work / "big.jsonl"
    target = int(args.big_gb * 1e9)
    if not big.is_file() or abs(big.stat().st_size - target) > 0.05 * target:
        log(f"\ngenerating {args.big_gb:g} GB of realistic replies in {big} ...")
        rows = write_rows(big, realistic_texts(examples, random.Random(3)), size=target)
    else:
        rows = sum(1 for _ in big.open("rb"))
    model_dir = resolve() if "current model" in model_note else args.work / "models" / classifier.version
    size_gb = big.stat().st_size / 1e9
    for jobs in sorted({1, args.jobs}):
        log(f"\n== memory: replyqa label on {size_gb:.2f} GB ({rows:,} rows), jobs={jobs} ==")
        cmd = [
            sys.executable, "-c", "from replyqa.cli import main; main()", "label", str(big),
            "-o", str(args.work / "big-out.jsonl"), "--model", str(model_dir), "--jobs", str(jobs), "--quiet",
        ]  # fmt: skip
        before = _busy()
        seconds, pss, rss, main_rss = run_measured(cmd)
        after = _busy()
        busy = (after[0] - before[0]) / max(1, after[1] - before[1])
        log(f"  {rows / seconds:,.0f} replies/s over {seconds:.0f}s (machine CPU busy {100 * busy:.0f}%)")
        log(f"  peak memory, all its processes: {pss / 1024:.0f} MB PSS ({rss / 1024:.0f} MB if shared pages")
        log(f"  are counted in every process); main process {main_rss / 1024:.0f} MB RSS")
        log(f"  target < 500 MB: {'met' if pss < 500 * 1024 else 'NOT met'}")
        (args.work / "big-out.jsonl").unlink(missing_ok=True)


if __name__ == "__main__":
    main()

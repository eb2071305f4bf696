"""Model benchmark: accuracy (test split, devset), artifact size, load time, prediction speed.

Run: .venv/bin/python bench/bench_model.py [--model models/] [--devset ../shared/devset]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from replyqa.artifacts import resolve
from replyqa.data import load_split
from replyqa.evaluate import evaluate, read_devset
from replyqa.model import Classifier

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=ROOT / "models")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "labeled")
    parser.add_argument("--devset", type=Path, default=ROOT.parent / "shared" / "devset")
    args = parser.parse_args()

    version_dir = resolve(args.model)
    size = sum(p.stat().st_size for p in version_dir.iterdir())
    loads = []
    for _ in range(5):
        t = time.perf_counter()
        clf = Classifier.load(version_dir)
        loads.append(time.perf_counter() - t)
    print(f"model {clf.version}: artifact {size / 1e6:.2f} MB, load median {statistics.median(loads) * 1000:.0f} ms")

    _, test = load_split(args.data, with_feedback=False)
    sets = [("test split", test)]
    if args.devset.exists():
        sets.append(("devset", read_devset(args.devset)))
    for name, examples in sets:
        res = evaluate(clf, examples)
        m, b = res["model"], res["baseline"]
        langs = "  ".join(f"{k} {v['binary_macro_f1']:.3f}" for k, v in m["per_lang"].items())
        print(
            f"{name:11} n={m['n']:4}  binary macro-F1 {m['binary_macro_f1']:.3f} (baseline {b['binary_macro_f1']:.3f})"
            f"  category macro-F1 {m['category_macro_f1']:.3f}  ECE {m['ece']:.3f}  per language: {langs}"
        )

    texts = [e.text for e in test]
    singles = []
    for t in texts[:300]:
        s = time.perf_counter()
        clf.predict([t])
        singles.append(time.perf_counter() - s)
    singles.sort()
    print(
        f"single predict: median {statistics.median(singles) * 1000:.2f} ms, "
        f"p99 {singles[int(len(singles) * 0.99) - 1] * 1000:.2f} ms"
    )
    batch = (texts * (10000 // len(texts) + 1))[:10000]
    s = time.perf_counter()
    clf.predict(batch)
    elapsed = time.perf_counter() - s
    print(f"batch predict: {len(batch) / elapsed:,.0f} replies/s ({len(batch)} replies, one process)")


if __name__ == "__main__":
    main()

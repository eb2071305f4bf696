"""Training benchmark: time to train on 20,000 labeled replies (budget: 60 s on 2 cores).

The labeled corpus has a few thousand replies, so the 20,000 are made here, in memory, by
sampling the training split and perturbing each copy (greetings and sign-offs, numbers and
versions, product names, dropped words, sentence order). Copies keep their original's group,
so calibration folds stay grouped as in real training. Nothing is written into data/.

Run: .venv/bin/python bench/bench_train.py [--n 20000] [--budget 60]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from replyqa.data import Example, load_split
from replyqa.evaluate import score
from replyqa.model import TrainParams, train
from replyqa.text import has_cjk

ROOT = Path(__file__).resolve().parents[1]

GREETINGS_EN = ("Hi,", "Hello,", "Hi there,", "Hey,", "Dear developer,", "Hi team,")
GREETINGS_ZH = ("您好，", "你好，", "Hi，", "您好！", "同学你好，")
SIGNOFFS_EN = ("\n\nBest regards,\nAlex", "\n\nThanks,\nMia | Support", "\n\nCheers", "")
SIGNOFFS_ZH = ("\n\n谢谢", "\n\n祝好", "\n\n技术支持 小王", "")
PRODUCTS = ("SkyMeet", "LinkRTC", "CloudPush", "PayLane", "MapNest", "AuthKit", "极光云", "云信通")
_NUMBER = re.compile(r"\d+")
_PRODUCT = re.compile("|".join(PRODUCTS))
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*")


def perturb(text: str, rng: random.Random) -> str:
    """A variant of a reply that a different engineer, product or ticket could have produced."""
    zh = has_cjk(text)
    out = _NUMBER.sub(lambda m: str(rng.randint(0, 10 ** len(m.group(0)) - 1)), text) if rng.random() < 0.5 else text
    out = _PRODUCT.sub(lambda _m: rng.choice(PRODUCTS), out)
    if rng.random() < 0.3 and "```" not in out:
        parts = [p for p in _SENTENCE.split(out) if p]
        if len(parts) > 2:
            head, tail = parts[0], parts[1:]
            rng.shuffle(tail)
            out = " ".join([head, *tail])
    if not zh and rng.random() < 0.4:
        words = out.split(" ")
        if len(words) > 6:
            out = " ".join(w for w in words if rng.random() > 0.08)
    if rng.random() < 0.5:
        out = f"{rng.choice(GREETINGS_ZH if zh else GREETINGS_EN)} {out}"
    if rng.random() < 0.4 or out == text:
        out += rng.choice(SIGNOFFS_ZH if zh else SIGNOFFS_EN)
    if out == text:
        out = f"{rng.choice(GREETINGS_ZH if zh else GREETINGS_EN)} {out}"
    return out


def synthesize(seed_examples: list[Example], n: int, seed: int = 0) -> list[Example]:
    """n examples: every original once, then perturbed copies of random originals."""
    rng = random.Random(seed)
    out = list(seed_examples[:n])
    k = 0
    while len(out) < n:
        base = rng.choice(seed_examples)
        k += 1
        out.append(replace(base, id=f"{base.id}-p{k}", text=perturb(base.text, rng)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "labeled")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--budget", type=float, default=60.0, help="Seconds allowed for training.")
    args = parser.parse_args()

    train_split, test_split = load_split(args.data, with_feedback=False)
    t = time.perf_counter()
    examples = synthesize(train_split, args.n)
    built = time.perf_counter() - t
    distinct = len({e.text for e in examples})
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs; corpus train split {len(train_split)}, "
        f"built {len(examples)} examples ({distinct} distinct texts) in {built:.1f} s (not timed below)"
    )

    params = TrainParams()
    t = time.perf_counter()
    classifier = train(examples, params)
    elapsed = time.perf_counter() - t
    vocab = len(classifier.model.feature_names())
    print(
        f"train({len(examples)} examples, default TrainParams, {params.calibration_folds} calibration folds): "
        f"{elapsed:.1f} s, {vocab:,} features, {len(examples) / elapsed:,.0f} examples/s"
    )

    t = time.perf_counter()
    proba = classifier.predict_proba([e.text for e in test_split])
    predicted = time.perf_counter() - t
    m = score(test_split, proba)
    print(
        f"test split n={m['n']}: binary macro-F1 {m['binary_macro_f1']:.3f}, category macro-F1 "
        f"{m['category_macro_f1']:.3f} (predicted in {predicted:.2f} s; a sanity check, not a model to ship)"
    )
    verdict = "within" if elapsed <= args.budget else "OVER"
    print(f"budget: {elapsed:.1f} s {verdict} {args.budget:.0f} s")
    if elapsed > args.budget:
        sys.exit(1)


if __name__ == "__main__":
    main()

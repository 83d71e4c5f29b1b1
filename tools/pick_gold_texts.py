#!/usr/bin/env python3
"""Picks the corpus texts of the entity gold set, reproducibly.

For each saga (the prototype model's label in sklearn-predictions.tsv), the
texts are ordered by sha256(f"{seed}:{id}") and the first N are taken. With
the defaults (seed 11, 15 per saga) this writes data/entities/gold/texts.tsv:

  /usr/bin/python3 tools/pick_gold_texts.py \
      ../shared/models/sklearn-predictions.tsv > data/entities/gold/texts.tsv
"""
import argparse
import hashlib
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("predictions", help="sklearn-predictions.tsv (id, label, scores)")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--per-saga", type=int, default=15)
    args = ap.parse_args()
    by_saga = {}
    with open(args.predictions, encoding="utf-8") as f:
        next(f)  # header
        for line in f:
            text_id, label = line.split("\t")[:2]
            by_saga.setdefault(label, []).append(text_id)
    out = sys.stdout
    out.write(f"# gold texts: seed {args.seed}, {args.per_saga} per saga (tools/pick_gold_texts.py)\n")
    out.write("saga\tid\n")
    for saga in ("got", "lotr", "hp"):
        ids = sorted(by_saga[saga], key=lambda i: hashlib.sha256(f"{args.seed}:{i}".encode()).hexdigest())
        for text_id in ids[: args.per_saga]:
            out.write(f"{saga}\t{text_id}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Reference throughputs ("anchors") for `sagaflow bench text`.

    /usr/bin/python3 tools/bench_anchors.py --texts texts.jsonl --model pipeline.joblib \
        [--names flat=names.txt --names curated=other.txt] [--repetitions 5] [--seconds 1] [--clock cpu]

Measures, single thread, on the "text" field of every JSON line of --texts:

  * sklearn: the fitted Pipeline's in-process batch `predict(texts)`, the
    fastest way scikit-learn classifies (one call for the whole corpus);
  * ahocorasick:<name>: pyahocorasick's Automaton built from the names of
    each --names file (one name per line, as sagaflow normalized them) and
    `iter_long(text)` consumed for every text (leftmost-longest matches, like
    sagaflow's matcher; no word-boundary check, so it does less work).

Each measurement repeats whole passes over the corpus until --seconds of
--clock time have passed (CPU time of the process by default, which other
processes on the machine do not inflate); it is taken --repetitions times and
the median is reported. Prints
one JSON object on stdout. Throughput is in MB/s of UTF-8 text (1 MB = 1e6
bytes), the unit `sagaflow bench text` uses.

Run with Debian's /usr/bin/python3 (scikit-learn 1.2.1, python3-ahocorasick).
"""

import argparse
import json
import statistics
import sys
import time
import warnings


def measure(run_pass, seconds, repetitions, clock):
    """Median over repetitions of (passes / elapsed seconds of `clock`)."""
    run_pass()  # warm-up: caches, lazy initialisation
    rates = []
    for _ in range(repetitions):
        passes = 0
        start = clock()
        while True:
            run_pass()
            passes += 1
            elapsed = clock() - start
            if elapsed >= seconds:
                break
        rates.append(passes / elapsed)
    return statistics.median(rates), rates


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", required=True)
    ap.add_argument("--model", help="joblib of a fitted scikit-learn Pipeline")
    ap.add_argument("--names", action="append", default=[], metavar="LABEL=FILE")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                    help="cpu: CPU time of the process (all its threads); wall: elapsed time")
    args = ap.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter

    texts = []
    with open(args.texts, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                texts.append(json.loads(line)["text"])
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    out = {"documents": len(texts), "bytes": int(round(mb * 1e6)), "repetitions": args.repetitions,
           "seconds": args.seconds, "clock": args.clock, "python": sys.version.split()[0], "results": {}}

    if args.model:
        import joblib
        import sklearn
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pickled by an older scikit-learn
            model = joblib.load(args.model)
        rate, rates = measure(lambda: model.predict(texts), args.seconds, args.repetitions, clock)
        out["results"]["sklearn"] = {
            "what": "scikit-learn %s Pipeline.predict(all texts), in process" % sklearn.__version__,
            "mb_per_s": mb * rate, "docs_per_s": len(texts) * rate, "mb_per_s_all": [mb * r for r in rates]}

    for spec in args.names:
        label, _, path = spec.partition("=")
        import ahocorasick
        with open(path, encoding="utf-8") as f:
            names = [n for n in f.read().split("\n") if n]
        automaton = ahocorasick.Automaton()
        for i, name in enumerate(names):
            automaton.add_word(name, i)
        automaton.make_automaton()
        found = [0]

        def run_pass():
            n = 0
            for t in texts:
                for _ in automaton.iter_long(t):
                    n += 1
            found[0] = n

        rate, rates = measure(run_pass, args.seconds, args.repetitions, clock)
        out["results"]["ahocorasick:" + label] = {
            "what": "pyahocorasick iter_long over %d names" % len(names),
            "patterns": len(names), "matches_per_pass": found[0],
            "mb_per_s": mb * rate, "docs_per_s": len(texts) * rate, "mb_per_s_all": [mb * r for r in rates]}

    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

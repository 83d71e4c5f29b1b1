#!/usr/bin/python3
"""Independent expected results of `sagaflow run` + `sagaflow query` for an events file.

Computes, without any sagaflow code, what the store must answer after ingesting EVENTS:
  - the saga of each event from scikit-learn's own predictions (sklearn-predictions.tsv, by article id),
    or none when the text is blank (Python's text.strip() == "");
  - entity mentions with the reference counter of tests/reference/entity_reference.py;
  - `query sagas` rows and `query top-entities --limit 0` rows of every saga, in the documented order
    (mentions desc, readers desc, name in byte order; for --by readers, readers first), and
    `query rejected` rows.
Prints one JSON object: {"sagas": [...], "top": {saga: [...]}, "top_by_readers": {saga: [...]},
"rejected": [...]}. Events that break the contract are counted as rejected by a deliberately simple
check (the crafted cases the tests append), not by a re-implementation of every rule.

Usage: pipeline_reference.py --events EVENTS.jsonl --predictions TSV --entities DICT [--sagas got,lotr,hp]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import entity_reference  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", required=True)
    ap.add_argument("--predictions", required=True)
    ap.add_argument("--entities", required=True)
    ap.add_argument("--sagas", default="got,lotr,hp")
    args = ap.parse_args()

    label_of = {}
    with open(args.predictions, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        id_col, label_col = header.index("id"), header.index("label")
        for line in f:
            fields = line.rstrip("\n").split("\t")
            label_of[fields[id_col]] = fields[label_col]

    entities, titles = entity_reference.load_dictionary(args.entities)
    scopes = {}
    known_sagas = set(args.sagas.split(",")) | {e[1] for e in entities if e[1]} | {t[0] for t in titles if t[0]}
    sagas = {s: [0, 0] for s in known_sagas}
    empty = [0, 0]
    totals = {}  # (saga, entity) -> [mentions, readers]
    rejected = {}
    counted = {}  # (saga, text) -> mentions, the corpus repeats texts
    with open(args.events, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if not line.strip(" \t\r\n"):
                continue
            try:
                event = json.loads(line)
                ok = isinstance(event, dict) and all(k in event for k in ("id", "time", "readers", "text"))
            except ValueError:
                event, ok = None, False
            if not ok:
                reason = "invalid_json" if event is None else "missing_field"
                rejected[reason] = rejected.get(reason, 0) + 1
                continue
            text, readers = event["text"], event["readers"]
            if text.strip() == "":
                empty[0] += 1
                empty[1] += readers
                continue
            saga = label_of[event["id"]]
            sagas[saga][0] += 1
            sagas[saga][1] += readers
            key = (saga, text)
            if key not in counted:
                if saga not in scopes:
                    scopes[saga] = entity_reference.Scope(entities, titles, saga)
                counted[key] = entity_reference.count(scopes[saga].find(text))
            for name, n in counted[key].items():
                t = totals.setdefault((saga, name), [0, 0])
                t[0] += n
                t[1] += readers

    out = {"sagas": [{"saga": s, "events": sagas[s][0], "readers": sagas[s][1]} for s in sorted(sagas)]}
    out["sagas"].append({"saga": None, "events": empty[0], "readers": empty[1]})
    out["top"], out["top_by_readers"] = {}, {}
    for s in sorted(sagas):
        rows = [{"entity": name, "mentions": m, "readers": r} for (saga, name), (m, r) in totals.items() if saga == s]
        out["top"][s] = sorted(rows, key=lambda x: (-x["mentions"], -x["readers"], x["entity"].encode()))
        out["top_by_readers"][s] = sorted(rows, key=lambda x: (-x["readers"], -x["mentions"], x["entity"].encode()))
    out["rejected"] = [{"reason": r, "events": n} for r, n in sorted(rejected.items(), key=lambda x: (-x[1], x[0]))]
    json.dump(out, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Reference entity counter for sagaflow's differential tests (docs/entities.md).

An independent implementation of EntityMatcher::Count with Python's `re`: each
surface form becomes a pattern whose spaces are \\s+, all forms a text may see
are joined longest first between (?<!\\w) and (?!\\w), and re.finditer scans
left to right taking, at each position, the first (longest) alternative whose
boundaries hold. It also parses both dictionary formats itself.

Usage: entity_reference.py --entities DICT --input TEXTS.jsonl [--sagas TSV] [--output OUT]
  TEXTS.jsonl: {"id", "text"} lines. TSV: id and saga in the first two columns
  (a first line starting with "id" is a header); texts not in it have saga "".
  Writes one {"id": ..., "mentions": {canonical name: count}} line per text.
"""
import argparse
import json
import re
import sys

CURATED_HEADER = "saga\tname\tkind\taliases"


def lines_of(text):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def load_dictionary(path):
    """Returns a list of (canonical name, saga or "", [surface forms])."""
    with open(path, encoding="utf-8") as f:
        lines = lines_of(f.read())
    significant = [l for l in lines if l.strip() and not l.startswith("#")]
    entities = []
    if significant and significant[0] == CURATED_HEADER:
        for line in significant[1:]:
            fields = line.split("\t")
            saga = "" if fields[0] == "*" else fields[0]
            aliases = fields[3].split("|") if len(fields) > 3 and fields[3] else []
            entities.append((fields[1], saga, [fields[1]] + aliases))
    else:
        seen = set()
        for line in lines:
            name = " ".join(line.split())  # str.split() splits on str.isspace() runs
            if name and name not in seen:
                seen.add(name)
                entities.append((name, "", [name]))
    return entities


class Scope:
    """The surface forms a text of one saga sees, and their canonical names."""

    def __init__(self, entities, saga):
        self.canonical = {}
        for name, entity_saga, forms in entities:
            if saga and entity_saga == saga:
                for form in forms:
                    self.canonical[form] = name
        for name, entity_saga, forms in entities:
            if entity_saga == "":
                for form in forms:
                    self.canonical.setdefault(form, name)  # a saga's own entry shadows it
        # A form can only match where its first word occurs literally.
        self.first_word = {form: form.split(" ")[0] for form in self.canonical}

    def count(self, text):
        forms = [f for f in self.canonical if self.first_word[f] in text]
        counts = {}
        if not forms:
            return counts
        forms.sort(key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(re.escape(word) for word in f.split(" ")) for f in forms)
        pattern = re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)")
        for m in pattern.finditer(text):
            name = self.canonical[" ".join(m.group().split())]
            counts[name] = counts.get(name, 0) + 1
        return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--sagas")
    ap.add_argument("--output")
    args = ap.parse_args()

    entities = load_dictionary(args.entities)
    saga_of = {}
    if args.sagas:
        with open(args.sagas, encoding="utf-8") as f:
            for i, line in enumerate(lines_of(f.read())):
                fields = line.split("\t")
                if i == 0 and fields[0] == "id":
                    continue
                saga_of[fields[0]] = fields[1] if len(fields) > 1 else ""
    scopes = {}
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    with open(args.input, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            doc = json.loads(line)
            saga = saga_of.get(str(doc["id"]), "")
            if saga not in scopes:
                scopes[saga] = Scope(entities, saga)
            mentions = scopes[saga].count(doc["text"])
            out.write(json.dumps({"id": doc["id"], "mentions": mentions}, ensure_ascii=False) + "\n")
    out.close()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Reference entity counter for sagaflow's differential tests (docs/entities.md).

An independent implementation of EntityMatcher::Count with Python's `re`: each
surface form becomes a pattern whose spaces are \\s+ and whose quote characters
are the class ['\u2019\u2018], all forms a text may see are joined longest first
between (?<!\\w) and (?!\\w), and re.finditer scans left to right taking, at each
position, the first (longest) alternative whose boundaries hold. It parses both
dictionary formats itself, and derives title forms and ALL-CAPS spellings
(str.upper()) as docs/entities.md says; a match's entity is looked up by its
exact spelling, else by its spelling with quotes folded to "'".

Usage: entity_reference.py --entities DICT --input TEXTS.jsonl [--sagas TSV] [--output OUT]
  TEXTS.jsonl: {"id", "text"} lines. TSV: id and saga in the first two columns
  (a first line starting with "id" is a header); texts not in it have saga "".
  Writes one {"id": ..., "mentions": {canonical name: count}} line per text;
  with --spans also "spans": [[start, end, canonical name], ...] in code points.
"""
import argparse
import json
import re
import sys

CURATED_HEADER = "saga\tname\tkind\taliases"
QUOTES = "'\u2019\u2018"
FOLD_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'"})


def lines_of(text):
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def load_dictionary(path):
    """Returns ([(canonical name, saga or "", kind, [surface forms])], [(saga or "", [title spellings])])."""
    with open(path, encoding="utf-8") as f:
        lines = lines_of(f.read())
    significant = [l for l in lines if l.strip() and not l.startswith("#")]
    entities = []
    titles = []
    if significant and significant[0] == CURATED_HEADER:
        for line in significant[1:]:
            fields = line.split("\t")
            saga = "" if fields[0] == "*" else fields[0]
            aliases = fields[3].split("|") if len(fields) > 3 and fields[3] else []
            if fields[2] == "title":
                titles.append((saga, [fields[1]] + aliases))
            else:
                entities.append((fields[1], saga, fields[2], [fields[1]] + aliases))
    else:
        seen = set()
        for line in lines:
            name = " ".join(line.split())  # str.split() splits on str.isspace() runs
            if name and name not in seen:
                seen.add(name)
                entities.append((name, "", "other", [name]))
    return entities, titles


def form_pattern(form):
    """A form's spaces match whitespace runs, its quote characters any of QUOTES."""
    words = []
    for word in form.split(" "):
        words.append("".join("[" + QUOTES + "]" if c in QUOTES else re.escape(c) for c in word))
    return r"\s+".join(words)


class Scope:
    """The strings a text of one saga matches, and their canonical names."""

    def __init__(self, entities, titles, saga):
        # Explicit forms: the saga's own entries shadow unscoped ones.
        explicit = {}
        for index, (name, entity_saga, kind, forms) in enumerate(entities):
            if saga and entity_saga == saga:
                for form in forms:
                    explicit[form] = index
        for index, (name, entity_saga, kind, forms) in enumerate(entities):
            if entity_saga == "":
                for form in forms:
                    explicit.setdefault(form, index)
        # Title + character form; explicit strings win, then the lowest entity.
        exact = dict(explicit)
        generated = {}
        spellings = [s for title_saga, ss in titles if title_saga in ("", saga) for s in ss]
        for spelling in spellings:
            for form, index in explicit.items():
                if entities[index][2] == "character":
                    key = spelling + " " + form
                    if key not in explicit and (key not in generated or index < generated[key]):
                        generated[key] = index
        exact.update(generated)
        # ALL-CAPS and quote spellings: looked up by quote-folded spelling,
        # explicit sources before generated ones, then the lowest entity.
        self.folded = {}
        for string, index in exact.items():
            rank = (0 if string in explicit else 1, index)
            for spelling in (string, string.upper()):
                key = spelling.translate(FOLD_QUOTES)
                if key not in self.folded or rank < self.folded[key]:
                    self.folded[key] = rank
        self.exact = exact
        self.names = [e[0] for e in entities]
        strings = set(exact) | {s.upper() for s in exact}
        # A string can only match where each of its words occurs (quotes folded).
        self.by_first_word = {}
        for string in strings:
            words = string.translate(FOLD_QUOTES).split(" ")
            self.by_first_word.setdefault(words[0], []).append((string, words[1:]))

    def name_of(self, matched):
        spelling = " ".join(matched.split())
        if spelling in self.exact:
            return self.names[self.exact[spelling]]
        return self.names[self.folded[spelling.translate(FOLD_QUOTES)][1]]

    def find(self, text):
        folded = text.translate(FOLD_QUOTES)
        present = {}

        def has(word):
            if word not in present:
                present[word] = word in folded
            return present[word]

        forms = []
        for first, candidates in self.by_first_word.items():
            if has(first):
                forms.extend(s for s, rest in candidates if all(has(w) for w in rest))
        if not forms:
            return []
        forms.sort(key=len, reverse=True)
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(form_pattern(f) for f in forms) + r")(?!\w)")
        return [(m.start(), m.end(), self.name_of(m.group())) for m in pattern.finditer(text)]


def count(spans):
    counts = {}
    for _, _, name in spans:
        counts[name] = counts.get(name, 0) + 1
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--sagas")
    ap.add_argument("--output")
    ap.add_argument("--spans", action="store_true")
    args = ap.parse_args()

    entities, titles = load_dictionary(args.entities)
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
                scopes[saga] = Scope(entities, titles, saga)
            spans = scopes[saga].find(doc["text"])
            result = {"id": doc["id"], "mentions": count(spans)}
            if args.spans:
                result["spans"] = [list(span) for span in spans]
            out.write(json.dumps(result, ensure_ascii=False) + "\n")
    out.close()


if __name__ == "__main__":
    main()

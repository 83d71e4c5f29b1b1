#!/usr/bin/python3
"""Reference values from Python and scikit-learn for sagaflow's differential tests.

Run with Debian's /usr/bin/python3 (Python 3.11, Unicode 14.0.0, scikit-learn
1.2.1): the point is to ask the very interpreter whose behaviour sagaflow
reproduces. Subcommands (JSON lines on stdin/stdout unless stated):

  unicode-table        every code point (no surrogates) whose \\w, isspace()
                       or lower() is not the default, as "cp word space lower-hex..."
  lower                {"text"} -> {"lower": text.lower(), "blank": text.strip() == ""}
  analyze CONFIG       {"text"} -> {"terms": [...]}: CountVectorizer(**CONFIG)
                       .build_analyzer() output (CONFIG is a JSON object)
  predict MODEL        {"text"} -> {"label": i, "scores": [...]}: the pipeline's
                       predicted class index and decision_function (or, for
                       MultinomialNB, joint log likelihood) per class
  train CORPUS LABELS OUTDIR
                       fits the small pipelines of trained_pipelines() on the
                       even lines of the corpus (texts.jsonl; labels from a
                       predictions .tsv)
                       and writes OUTDIR/<name>.joblib; prints the names
"""

import json
import re
import sys
import warnings


def read_texts():
    return [json.loads(line)["text"] for line in sys.stdin if line.strip()]


def write_lines(objs):
    out = sys.stdout
    for o in objs:
        out.write(json.dumps(o, ensure_ascii=False))
        out.write("\n")


def cmd_unicode_table():
    word = re.compile(r"\w")
    out = []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        w = 1 if word.fullmatch(ch) else 0
        s = 1 if ch.isspace() else 0
        low = ch.lower()
        if w or s or low != ch:
            out.append(f"{cp:x} {w} {s} " + ",".join(f"{ord(x):x}" for x in low))
    sys.stdout.write("\n".join(out) + "\n")


def cmd_lower():
    write_lines({"lower": t.lower(), "blank": t.strip() == ""} for t in read_texts())


def cmd_analyze(config):
    from sklearn.feature_extraction.text import CountVectorizer

    cfg = json.loads(config)
    if "ngram_range" in cfg:
        cfg["ngram_range"] = tuple(cfg["ngram_range"])
    analyze = CountVectorizer(**cfg).build_analyzer()
    write_lines({"terms": analyze(t)} for t in read_texts())


def load(path):
    import joblib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return joblib.load(path)


def cmd_predict(model):
    from sklearn.naive_bayes import MultinomialNB

    pipe = load(model)
    texts = read_texts()
    clf = pipe.steps[-1][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(clf, MultinomialNB):
            scores = clf.predict_joint_log_proba(pipe[:-1].transform(texts))
        else:
            scores = pipe.decision_function(texts)
        predicted = pipe.predict(texts)
    classes = list(clf.classes_)
    out = []
    for i in range(len(texts)):
        row = scores[i]
        row = [float(row)] if scores.ndim == 1 else [float(x) for x in row]
        out.append({"label": classes.index(predicted[i]), "scores": row})
    write_lines(out)


def trained_pipelines():
    """name -> (unfitted pipeline, binary target?) covering every exported feature."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    return {
        "tfidf_lr": (Pipeline([("vec", TfidfVectorizer(min_df=3, max_features=20000)),
                               ("clf", LogisticRegression(max_iter=2000))]), False),
        "count_nb_stop": (Pipeline([("vec", CountVectorizer(stop_words="english", max_features=5000)),
                                    ("clf", MultinomialNB(alpha=0.5))]), False),
        "tfidf_bigram_stop_sublinear_sgd": (Pipeline([
            ("vec", TfidfVectorizer(ngram_range=(1, 2), stop_words="english", min_df=2, sublinear_tf=True,
                            max_features=20000)),
            ("clf", SGDClassifier(random_state=0))]), False),
        "count_binary_tfidftransformer_l1_svc": (Pipeline([
            ("vec", CountVectorizer(binary=True, lowercase=False, token_pattern=r"(?u)\b\w+\b",
                                    ngram_range=(2, 3), min_df=2, max_features=20000)),
            ("tfidf", TfidfTransformer(norm="l1", smooth_idf=False)),
            ("clf", LinearSVC(C=0.5))]), False),
        "tfidf_noidf_w3_binary_target_svc": (Pipeline([
            ("vec", TfidfVectorizer(token_pattern=r"\b\w{3,}\b", use_idf=False, max_df=0.5, max_features=20000)),
            ("clf", LinearSVC())]), True),
        "tfidf_nonorm_binary_target_lr": (Pipeline([
            ("vec", TfidfVectorizer(norm=None, sublinear_tf=True, min_df=2, max_features=20000)),
            ("clf", LogisticRegression(max_iter=2000, solver="liblinear"))]), True),
        "count_trigram_only_nb": (Pipeline([
            ("vec", CountVectorizer(ngram_range=(3, 3), stop_words=["the", "and", "of", "to", "a"], min_df=2,
                                    max_features=20000)),
            ("clf", MultinomialNB())]), False),
    }


def cmd_train(corpus, labels_tsv, outdir):
    import os

    import joblib

    label_of = {}
    with open(labels_tsv, encoding="utf-8") as f:
        next(f)
        for line in f:
            fields = line.rstrip("\n").split("\t")
            label_of[fields[0]] = fields[1]
    texts, labels = [], []
    with open(corpus, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i % 2:
                continue  # fit on the even lines; the tests predict the odd ones
            doc = json.loads(line)
            texts.append(doc["text"])
            labels.append(label_of[doc["id"]])
    for name, (pipe, binary) in trained_pipelines().items():
        y = [("got" if l == "got" else "other") if binary else l for l in labels]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(texts, y)
        joblib.dump(pipe, os.path.join(outdir, name + ".joblib"))
        print(name)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd, args = argv[1], argv[2:]
    commands = {
        "unicode-table": cmd_unicode_table,
        "lower": cmd_lower,
        "analyze": cmd_analyze,
        "predict": cmd_predict,
        "train": cmd_train,
    }
    if cmd not in commands:
        raise SystemExit(f"unknown subcommand {cmd!r}\n{__doc__}")
    commands[cmd](*args)


if __name__ == "__main__":
    main(sys.argv)

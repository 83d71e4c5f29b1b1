#!/usr/bin/python3
"""Exports a fitted scikit-learn text Pipeline to sagaflow's model format.

    /usr/bin/python3 tools/export_sklearn_model.py IN.joblib OUT.json [--labels got,lotr,hp]

IN is a joblib/pickle of a fitted Pipeline:
    CountVectorizer | TfidfVectorizer, [TfidfTransformer after CountVectorizer],
    LinearSVC | LogisticRegression | SGDClassifier | MultinomialNB
('passthrough' steps are skipped, as the Pipeline does). --labels names the
classifier's classes_ in order (default: str() of each class).

The output (docs/model-format.md) makes sagaflow predict exactly what the
pipeline predicts. Settings that only shape fitting (min_df, max_df,
max_features, C, penalty, alpha, ...) are accepted. Anything that would change
a prediction and that sagaflow does not reproduce (a custom analyzer,
preprocessor or tokenizer, strip_accents, a token_pattern outside the
"maximal runs of \\w" family, float32 tf-idf, an unknown step...) is REFUSED
with a message naming the step and the parameter; nothing is written then.

Run with Debian's /usr/bin/python3 (scikit-learn 1.2.1).
"""

import argparse
import json
import math
import os
import re
import sys

import numpy as np

FORMAT = "sagaflow-text-classifier"
VERSION = 1


class Refused(Exception):
    """The pipeline cannot be exported without changing its predictions."""


def token_pattern_min_length(pattern):
    """Mirror of TokenPatternMinLength (src/text/tokenizer.cc): k for the
    family "maximal runs of \\w of at least k characters", else None."""
    if not isinstance(pattern, str):
        return None
    s = pattern
    if s.startswith("(?u)"):
        s = s[4:]
    if s.startswith("\\b"):
        s = s[2:]
    if s.endswith("\\b"):
        s = s[:-2]
    units = 0
    while s.startswith("\\w"):
        s = s[2:]
        units += 1
    if units == 0:
        return None
    if s == "+":
        last = 1
    else:
        m = re.fullmatch(r"\{([0-9]{1,4}),\}", s)
        if not m or int(m.group(1)) < 1:
            return None
        last = int(m.group(1))
    return units - 1 + last


def _refuse(step, cls, param, value, why):
    raise Refused(f"refused: step '{step}' ({cls}): parameter {param}={value!r} {why}")


def _finite(step, name, array):
    a = np.asarray(array)
    if a.dtype != np.float64:
        raise Refused(f"refused: step '{step}': {name} has dtype {a.dtype}, expected float64")
    if not np.all(np.isfinite(a)):
        raise Refused(f"refused: step '{step}': {name} contains NaN or infinite values")
    return a


def _floats(a):
    return [float(x) for x in np.ravel(a)]


def export_vectorizer(step, vec):
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    cls = type(vec).__name__
    if type(vec) not in (CountVectorizer, TfidfVectorizer):
        raise Refused(f"refused: step '{step}' ({cls}): the first step must be a CountVectorizer or TfidfVectorizer")
    p = vec.get_params()
    if p["input"] != "content":
        _refuse(step, cls, "input", p["input"], "reads files; sagaflow classifies text content")
    if p["analyzer"] != "word":
        _refuse(step, cls, "analyzer", p["analyzer"], "is not supported (only analyzer='word')")
    if p["preprocessor"] is not None:
        _refuse(step, cls, "preprocessor", p["preprocessor"], "is custom code sagaflow cannot run")
    if p["tokenizer"] is not None:
        _refuse(step, cls, "tokenizer", p["tokenizer"], "is custom code sagaflow cannot run")
    if p["strip_accents"] is not None:
        _refuse(step, cls, "strip_accents", p["strip_accents"], "changes tokens and is not supported")
    k = token_pattern_min_length(p["token_pattern"])
    if k is None:
        _refuse(step, cls, "token_pattern", p["token_pattern"],
                "is not supported: only maximal runs of \\w, e.g. (?u)\\b\\w\\w+\\b, (?u)\\b\\w+\\b, \\b\\w{3,}\\b")
    if not isinstance(p["lowercase"], (bool, np.bool_)):
        _refuse(step, cls, "lowercase", p["lowercase"], "must be True or False")
    nmin, nmax = p["ngram_range"]
    if not (1 <= nmin <= nmax <= 16):
        _refuse(step, cls, "ngram_range", p["ngram_range"], "must satisfy 1 <= min <= max <= 16")
    dtype = np.dtype(p["dtype"])
    if cls == "TfidfVectorizer":
        if dtype != np.float64:
            _refuse(step, cls, "dtype", p["dtype"], "changes tf-idf arithmetic (only float64 is reproduced)")
    elif not (dtype == np.float64 or (dtype.kind in "iu" and dtype.itemsize >= 4)):
        _refuse(step, cls, "dtype", p["dtype"], "can overflow or round counts (use an integer type of 32+ bits or float64)")
    if not hasattr(vec, "vocabulary_"):
        raise Refused(f"refused: step '{step}' ({cls}): not fitted (no vocabulary_)")

    n = len(vec.vocabulary_)
    terms = [None] * n
    for term, index in vec.vocabulary_.items():
        index = int(index)
        if not (0 <= index < n) or terms[index] is not None:
            raise Refused(f"refused: step '{step}' ({cls}): vocabulary_ indices are not 0..{n - 1}")
        terms[index] = str(term)

    out = {
        "type": "count",
        "lowercase": bool(p["lowercase"]),
        "token_pattern": p["token_pattern"],
        "ngram_range": [int(nmin), int(nmax)],
        "binary": bool(p["binary"]),
    }
    stop = vec.get_stop_words()
    # With unigrams, removing stop words only drops tokens the vocabulary
    # cannot contain, unless a term is itself a stop word (fixed vocabulary).
    if stop and (nmax > 1 or any(t in stop for t in terms)):
        out["stop_words"] = sorted(stop)
    out["terms"] = terms
    if cls == "TfidfVectorizer":
        out["type"] = "tfidf"
        out["tfidf"] = export_tfidf(step, vec._tfidf, n, dict(
            norm=p["norm"], use_idf=p["use_idf"], smooth_idf=p["smooth_idf"], sublinear_tf=p["sublinear_tf"]))
    return out


def export_tfidf(step, transformer, n_features, params):
    cls = type(transformer).__name__
    if params["norm"] not in ("l1", "l2", None):
        _refuse(step, cls, "norm", params["norm"], "is not supported (l1, l2 or None)")
    out = {
        "norm": params["norm"],
        "use_idf": bool(params["use_idf"]),
        "smooth_idf": bool(params["smooth_idf"]),
        "sublinear_tf": bool(params["sublinear_tf"]),
    }
    if params["use_idf"]:
        if not hasattr(transformer, "_idf_diag"):
            raise Refused(f"refused: step '{step}' ({cls}): idf vector is not fitted")
        # The values transform() multiplies by: the idf diagonal itself.
        idf = _finite(step, "idf_", transformer._idf_diag.diagonal())
        if idf.shape[0] != n_features:
            raise Refused(f"refused: step '{step}' ({cls}): idf_ has {idf.shape[0]} entries for {n_features} features")
        out["idf"] = _floats(idf)
    return out


def export_classifier(step, clf, n_features, labels):
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.svm import LinearSVC
    import scipy.sparse as sp

    cls = type(clf).__name__
    if type(clf) not in (LinearSVC, LogisticRegression, SGDClassifier, MultinomialNB):
        raise Refused(f"refused: step '{step}' ({cls}): the last step must be LinearSVC, "
                      f"LogisticRegression, SGDClassifier or MultinomialNB")
    if not hasattr(clf, "classes_"):
        raise Refused(f"refused: step '{step}' ({cls}): not fitted (no classes_)")
    classes = list(clf.classes_)
    if labels is None:
        labels = [str(c) for c in classes]
    if len(labels) != len(classes):
        raise Refused(f"refused: --labels names {len(labels)} classes but step '{step}' ({cls}) has "
                      f"{len(classes)}: {classes}")
    if len(set(labels)) != len(labels) or any(not l for l in labels):
        raise Refused(f"refused: --labels must be distinct and non-empty: {labels}")
    if cls == "MultinomialNB":
        coef_name, intercept_name = "feature_log_prob_", "class_log_prior_"
    else:
        coef_name, intercept_name = "coef_", "intercept_"
    coef = getattr(clf, coef_name)
    if sp.issparse(coef):
        raise Refused(f"refused: step '{step}' ({cls}): {coef_name} is sparse (sparsify() was called); "
                      f"call densify() first")
    coef = _finite(step, coef_name, coef)
    intercept = _finite(step, intercept_name, np.atleast_1d(getattr(clf, intercept_name)))
    if coef.ndim != 2 or coef.shape[1] != n_features:
        raise Refused(f"refused: step '{step}' ({cls}): {coef_name} has shape {coef.shape}, "
                      f"expected (rows, {n_features})")
    rows = coef.shape[0]
    if rows == 1 and len(classes) == 2 and cls != "MultinomialNB":
        scheme = "binary"
    elif rows == len(classes):
        multinomial = cls == "MultinomialNB" or (
            cls == "LogisticRegression" and getattr(clf, "multi_class", "auto") in ("multinomial", "auto")
            and getattr(clf, "solver", "lbfgs") != "liblinear")
        scheme = "multinomial" if multinomial else "ovr"
    else:
        raise Refused(f"refused: step '{step}' ({cls}): {rows} coefficient rows for {len(classes)} classes")
    if intercept.shape != (rows,):
        raise Refused(f"refused: step '{step}' ({cls}): {intercept_name} has shape {intercept.shape}, expected ({rows},)")
    return labels, {
        "kind": cls,
        "scheme": scheme,
        "coef": [_floats(row) for row in coef],
        "intercept": _floats(intercept),
    }


def export_pipeline(pipeline, labels=None, source=None):
    """The model document (a dict) for a fitted Pipeline, or raises Refused."""
    import sklearn
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
    from sklearn.pipeline import Pipeline

    if type(pipeline) is not Pipeline:
        raise Refused(f"refused: expected a sklearn Pipeline, got {type(pipeline).__name__}")
    steps = [(name, est) for name, est in pipeline.steps if est is not None and not
             (isinstance(est, str) and est == "passthrough")]
    if len(steps) < 2:
        raise Refused("refused: the pipeline needs a vectorizer step and a classifier step")
    (vec_name, vec), rest = steps[0], steps[1:]
    vectorizer = export_vectorizer(vec_name, vec)
    n_features = len(vectorizer["terms"])
    if len(rest) == 2:
        tf_name, tf = rest[0]
        if type(tf) is not TfidfTransformer:
            raise Refused(f"refused: step '{tf_name}' ({type(tf).__name__}) is not supported between the "
                          f"vectorizer and the classifier (only TfidfTransformer)")
        if type(vec) is not CountVectorizer:
            raise Refused(f"refused: step '{tf_name}' (TfidfTransformer) after a {type(vec).__name__}: "
                          f"only CountVectorizer output may be re-weighted")
        vectorizer["type"] = "tfidf"
        vectorizer["tfidf"] = export_tfidf(tf_name, tf, n_features, tf.get_params())
        rest = rest[1:]
    elif len(rest) > 2:
        names = ", ".join(f"'{n}' ({type(e).__name__})" for n, e in rest[:-1])
        raise Refused(f"refused: steps {names}: unsupported steps between the vectorizer and the classifier")
    clf_name, clf = rest[0]
    labels, classifier = export_classifier(clf_name, clf, n_features, labels)
    provenance = {
        "exported_by": "tools/export_sklearn_model.py",
        "sklearn_version": sklearn.__version__,
        "pipeline": [f"{n}: {type(e).__name__}" for n, e in pipeline.steps],
        "classes": [str(c) for c in clf.classes_],
    }
    if source:
        provenance["source"] = os.path.basename(source)
    return {
        "format": FORMAT,
        "version": VERSION,
        "labels": labels,
        "vectorizer": vectorizer,
        "classifier": classifier,
        "provenance": provenance,
    }


def dumps(model):
    # repr-precision floats (round-trip exact); NaN/inf were refused above.
    return json.dumps(model, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="fitted Pipeline (.joblib)")
    ap.add_argument("output", help="model JSON to write ('-' for stdout)")
    ap.add_argument("--labels", help="comma-separated names of classes_, in order (e.g. got,lotr,hp)")
    args = ap.parse_args(argv)
    import warnings

    import joblib

    with warnings.catch_warnings():
        # Unpickling across scikit-learn versions warns; the export checks what it relies on.
        warnings.simplefilter("ignore")
        pipeline = joblib.load(args.input)
    labels = args.labels.split(",") if args.labels else None
    try:
        model = export_pipeline(pipeline, labels, source=args.input)
    except Refused as e:
        print(f"export_sklearn_model: {e}", file=sys.stderr)
        return 2
    text = dumps(model)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        tmp = args.output + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Tests of tools/export_sklearn_model.py: which fitted pipelines it exports and
which it refuses (with a message naming the step and the parameter). Small
pipelines are fitted here, at test time. Run by ctest with /usr/bin/python3."""

import io
import json
import os
import sys
import tempfile
import unittest
import warnings

import joblib
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Perceptron, SGDClassifier
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer
from sklearn.svm import LinearSVC

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import export_sklearn_model as exporter  # noqa: E402

TEXTS = [
    "The ring of power was forged in Mordor by the dark lord",
    "Winter is coming said Ned Stark in Winterfell",
    "Harry raised his wand at Hogwarts and cast a spell",
    "Frodo carried the ring to the fires of Mount Doom",
    "The Lannisters always pay their debts in Kings Landing",
    "Hermione read the spell book in the Hogwarts library",
    "Gandalf the grey wizard fought the Balrog",
    "Jon Snow knows nothing beyond the Wall",
    "Dumbledore led the Order of the Phoenix",
] * 3
LABELS = ["lotr", "got", "hp"] * 9


def fit(*steps, y=LABELS):
    pipe = Pipeline([(f"s{i}", s) for i, s in enumerate(steps)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(TEXTS, y)
    return pipe


class ExportAccepts(unittest.TestCase):
    def export(self, pipe, labels=None):
        model = exporter.export_pipeline(pipe, labels)
        json.loads(exporter.dumps(model))  # strict JSON (no NaN)
        return model

    def test_count_linear_svc(self):
        m = self.export(fit(CountVectorizer(min_df=1, max_df=0.9, max_features=30, stop_words="english"),
                            LinearSVC()), ["got", "hp", "lotr"])
        self.assertEqual(m["format"], "sagaflow-text-classifier")
        self.assertEqual(m["version"], 1)
        self.assertEqual(m["labels"], ["got", "hp", "lotr"])
        v = m["vectorizer"]
        self.assertEqual(v["type"], "count")
        self.assertEqual(len(v["terms"]), 30)
        self.assertNotIn("stop_words", v)  # unigrams: the vocabulary already excludes them
        self.assertNotIn("tfidf", v)
        c = m["classifier"]
        self.assertEqual((c["kind"], c["scheme"]), ("LinearSVC", "ovr"))
        self.assertEqual(len(c["coef"]), 3)
        self.assertEqual(len(c["coef"][0]), 30)

    def test_terms_are_in_feature_index_order(self):
        pipe = fit(CountVectorizer(), LinearSVC())
        m = self.export(pipe)
        vocab = pipe.steps[0][1].vocabulary_
        for j, t in enumerate(m["vectorizer"]["terms"]):
            self.assertEqual(vocab[t], j)
        self.assertEqual(m["classifier"]["coef"][1], [float(x) for x in pipe.steps[-1][1].coef_[1]])

    def test_tfidf_bigrams_keep_stop_words(self):
        m = self.export(fit(TfidfVectorizer(ngram_range=(1, 2), stop_words="english", sublinear_tf=True,
                                            norm="l1", dtype=np.float64), LogisticRegression()))
        v = m["vectorizer"]
        self.assertEqual(v["type"], "tfidf")
        self.assertEqual(v["ngram_range"], [1, 2])
        self.assertIn("the", v["stop_words"])
        self.assertEqual(v["tfidf"]["norm"], "l1")
        self.assertTrue(v["tfidf"]["sublinear_tf"])
        self.assertEqual(len(v["tfidf"]["idf"]), len(v["terms"]))
        self.assertEqual(m["classifier"]["scheme"], "multinomial")

    def test_count_then_tfidf_transformer(self):
        m = self.export(fit(CountVectorizer(binary=True), TfidfTransformer(use_idf=False, norm=None),
                            SGDClassifier(random_state=0)))
        v = m["vectorizer"]
        self.assertEqual(v["type"], "tfidf")
        self.assertTrue(v["binary"])
        self.assertEqual(v["tfidf"], {"norm": None, "use_idf": False, "smooth_idf": True, "sublinear_tf": False})
        self.assertEqual(m["classifier"]["kind"], "SGDClassifier")

    def test_multinomial_nb_uses_log_probabilities(self):
        pipe = fit(CountVectorizer(token_pattern=r"\b\w{3,}\b", lowercase=False), MultinomialNB())
        m = self.export(pipe)
        nb = pipe.steps[-1][1]
        self.assertEqual(m["classifier"]["intercept"], [float(x) for x in nb.class_log_prior_])
        self.assertEqual(m["classifier"]["coef"][0], [float(x) for x in nb.feature_log_prob_[0]])
        self.assertFalse(m["vectorizer"]["lowercase"])

    def test_binary_classifier(self):
        y = ["got" if l == "got" else "other" for l in LABELS]
        m = self.export(fit(TfidfVectorizer(), LinearSVC(), y=y), ["got", "other"])
        self.assertEqual(m["classifier"]["scheme"], "binary")
        self.assertEqual(len(m["classifier"]["coef"]), 1)
        nb = self.export(fit(CountVectorizer(), MultinomialNB(), y=y))
        self.assertEqual(len(nb["classifier"]["coef"]), 2)

    def test_stop_word_in_fixed_vocabulary_is_exported(self):
        m = self.export(fit(CountVectorizer(vocabulary=["the", "ring", "wand"], stop_words=["the"]), LinearSVC()))
        self.assertEqual(m["vectorizer"]["stop_words"], ["the"])

    def test_passthrough_steps_are_skipped(self):
        pipe = Pipeline([("vec", CountVectorizer()), ("skip", "passthrough"), ("clf", LinearSVC())])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(TEXTS, LABELS)
        self.assertEqual(self.export(pipe)["classifier"]["kind"], "LinearSVC")

    def test_command_line_writes_the_file(self):
        with tempfile.TemporaryDirectory() as d:
            src, out = os.path.join(d, "p.joblib"), os.path.join(d, "m.json")
            joblib.dump(fit(CountVectorizer(), LinearSVC()), src)
            self.assertEqual(exporter.main([src, out, "--labels", "got,hp,lotr"]), 0)
            with open(out, encoding="utf-8") as f:
                self.assertEqual(json.load(f)["labels"], ["got", "hp", "lotr"])


class ExportRefuses(unittest.TestCase):
    def refused(self, pipe, *needles, labels=None):
        with self.assertRaises(exporter.Refused) as cm:
            exporter.export_pipeline(pipe, labels)
        message = str(cm.exception)
        for n in needles:
            self.assertIn(n, message)
        return message

    def test_vectorizer_parameters_that_change_predictions(self):
        cases = [
            (dict(analyzer="char"), "analyzer"),
            (dict(analyzer="char_wb"), "analyzer"),
            (dict(analyzer=str.split), "analyzer"),
            (dict(preprocessor=str.upper), "preprocessor"),
            (dict(tokenizer=str.split), "tokenizer"),
            (dict(strip_accents="unicode"), "strip_accents"),
            (dict(strip_accents="ascii"), "strip_accents"),
            (dict(token_pattern=r"[a-z]+"), "token_pattern"),
            (dict(token_pattern=r"(?u)\b\w\w\b"), "token_pattern"),
            (dict(token_pattern=r"\b\w{2,4}\b"), "token_pattern"),
            (dict(dtype=np.int8), "dtype"),
        ]
        for params, name in cases:
            with self.subTest(params=params):
                self.refused(fit(CountVectorizer(**params), LinearSVC()), "'s0'", "CountVectorizer", name)
        self.refused(fit(TfidfVectorizer(dtype=np.float32), LinearSVC()), "TfidfVectorizer", "dtype")

    def test_unknown_steps(self):
        self.refused(fit(CountVectorizer(), Normalizer(), LinearSVC()), "'s1'", "Normalizer")
        self.refused(fit(TfidfVectorizer(), TfidfTransformer(), LinearSVC()), "'s1'", "TfidfTransformer")
        self.refused(fit(CountVectorizer(), Perceptron()), "'s1'", "Perceptron")
        self.refused(fit(CountVectorizer(), ComplementNB()), "'s1'", "ComplementNB")
        self.refused(fit(HashingVectorizer(alternate_sign=False), MultinomialNB()), "'s0'", "HashingVectorizer")
        self.refused(fit(CountVectorizer(), TfidfTransformer(), Normalizer(), LinearSVC()), "Normalizer")

    def test_classifier_state(self):
        pipe = fit(CountVectorizer(), LinearSVC())
        pipe.steps[-1][1].sparsify()
        self.refused(pipe, "'s1'", "sparse")
        self.refused(fit(CountVectorizer(), LinearSVC()), "--labels", labels=["got", "hp"])
        self.refused(fit(CountVectorizer(), LinearSVC()), "distinct", labels=["got", "got", "hp"])
        pipe = fit(CountVectorizer(), LinearSVC())
        pipe.steps[-1][1].coef_[0, 0] = np.nan
        self.refused(pipe, "'s1'", "coef_", "NaN")

    def test_command_line_refusal_writes_nothing(self):
        with tempfile.TemporaryDirectory() as d:
            src, out = os.path.join(d, "p.joblib"), os.path.join(d, "m.json")
            joblib.dump(fit(CountVectorizer(strip_accents="unicode"), LinearSVC()), src)
            err = io.StringIO()
            old, sys.stderr = sys.stderr, err
            try:
                rc = exporter.main([src, out])
            finally:
                sys.stderr = old
            self.assertEqual(rc, 2)
            self.assertIn("strip_accents", err.getvalue())
            self.assertFalse(os.path.exists(out))


class TokenPatternFamily(unittest.TestCase):
    def test_mirrors_the_cpp_parser(self):
        f = exporter.token_pattern_min_length
        self.assertEqual(f(r"(?u)\b\w\w+\b"), 2)
        self.assertEqual(f(r"(?u)\b\w+\b"), 1)
        self.assertEqual(f(r"\b\w{3,}\b"), 3)
        self.assertEqual(f(r"\w\w\w+"), 3)
        for bad in [r"\w*", r"\w{0,}", r"\w\w", r"(\w+)", r"[\w]+", None, ""]:
            self.assertIsNone(f(bad), bad)


if __name__ == "__main__":
    unittest.main()

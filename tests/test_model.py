import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from replyqa.errors import InvalidInputError
from replyqa.labels import CATEGORIES, quality_of
from replyqa.model import Classifier, Prediction, TrainParams, rule1_mixes, train
from replyqa.text import sentences


def test_predictions_are_typed_and_consistent(classifier: Classifier) -> None:
    preds = classifier.predict(["Fixed in 4.2.1, please upgrade.", "请发一下日志", "Thanks, we'll look into it."])
    assert len(preds) == 3
    for p in preds:
        assert isinstance(p, Prediction)
        assert p.category in CATEGORIES
        assert p.quality == quality_of(p.category)
        assert 0.0 <= p.p_substantive <= 1.0
        assert (p.p_substantive >= 0.5) == (p.quality == "substantive")
        assert abs(sum(p.probabilities.values()) - 1.0) < 1e-6
        assert p.model_version == "unsaved"


def test_model_learns_the_tiny_set(classifier: Classifier, examples: list) -> None:
    preds = classifier.predict([e.text for e in examples])
    acc = np.mean([p.quality == e.quality for p, e in zip(preds, examples, strict=True)])
    assert acc >= 0.9


def test_training_is_deterministic_for_a_seed(examples: list) -> None:
    params = TrainParams(min_df=1, calibration_folds=2, char_max_features=5000, seed=3)
    a = train(examples, params).predict_proba(["Set the full absolute path."])
    b = train(examples, params).predict_proba(["Set the full absolute path."])
    assert np.array_equal(a, b)


def test_temperature_is_fitted(classifier: Classifier) -> None:
    assert classifier.model.temperature != 1.0
    assert classifier.manifest["training_data"]["n_examples"] == 32


def test_empty_text_is_refused(classifier: Classifier) -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        classifier.predict(["ok", "   "])
    with pytest.raises(InvalidInputError):
        train([], TrainParams())


def test_explain_gives_features_and_sentence_scores(classifier: Classifier) -> None:
    text = "Thanks for reporting! The root cause is the token was built with uid 0, so validation fails."
    exp = classifier.explain(text)
    assert exp.prediction.category == classifier.predict([text])[0].category
    assert len(exp.sentences) == 2
    assert exp.sentences[1].p_substantive > exp.sentences[0].p_substantive
    assert exp.toward_substantive and all(f.weight > 0 for f in exp.toward_substantive)
    assert all(f.weight < 0 for f in exp.toward_boilerplate)
    assert "prediction" in exp.to_dict()


def test_quality_weights_balance_both_levels() -> None:
    from replyqa.model import quality_weights

    labels = np.array([0] * 10 + [1] * 30 + [5] * 5 + [6] * 5 + [7] * 20)
    w = quality_weights(labels)
    sub = np.isin(labels, [5, 6, 7])
    assert w[sub].sum() == pytest.approx(w[~sub].sum())
    assert w[labels == 0].sum() == pytest.approx(w[labels == 1].sum())
    assert w[labels == 5].sum() == pytest.approx(w[labels == 7].sum())
    assert w.sum() == pytest.approx(len(labels))


def test_fast_inference_path_equals_scikit_learn(classifier: Classifier) -> None:
    from replyqa.text import normalise

    texts = [normalise(t) for t in ["Fixed in 4.2.1, please upgrade.", "请发一下日志", "xyzzy", "Thanks! 根因是驱动"]]
    model = classifier.model
    fast = model._word_features(texts)
    slow = model.word.transform(texts)
    assert np.allclose(fast.toarray(), slow.toarray(), atol=1e-6)
    assert np.allclose(model._decision(slow), model.clf.decision_function(slow), atol=1e-5)
    # Rows without any known feature (here the middle one) get the intercept alone.
    gaps = sp.vstack([slow[:1], sp.csr_matrix((1, slow.shape[1])), slow[1:]], format="csr")
    assert np.allclose(model._decision(gaps), model.clf.decision_function(gaps), atol=1e-5)
    assert "_weight_rows" not in pickle.loads(pickle.dumps(model)).__dict__


def test_feature_name_cache_is_reused_and_never_pickled(classifier: Classifier) -> None:
    import pickle

    exp = classifier.explain("Fixed in 4.2.1, please upgrade.")
    names = classifier.model.feature_name_list()
    assert names is classifier.model.feature_name_list()
    assert names == classifier.model.feature_names()
    assert {f.feature for f in exp.toward_substantive + exp.toward_boilerplate} <= set(names)
    assert "_names" not in pickle.loads(pickle.dumps(classifier.model)).__dict__


@pytest.mark.parametrize("options", [{"binary_head": True}, {"char_ngrams": True}, {"stem": True, "word_ngrams": 3}])
def test_optional_feature_and_head_settings_stay_consistent(examples: list, options: dict) -> None:
    clf = train(examples, TrainParams(min_df=1, calibration_folds=2, char_max_features=3000, **options))
    texts = ["Fixed in 4.2.1, please upgrade.", "请发一下日志", "Thanks, looking."]
    proba = clf.predict_proba(texts)
    assert np.allclose(proba.sum(axis=1), 1.0)
    for p in clf.predict(texts):
        assert p.quality == quality_of(p.category)
    exp = clf.explain("The root cause is the token uid, so validation fails.")
    assert exp.toward_substantive or exp.toward_boilerplate
    if options.get("binary_head"):
        assert clf.model.binary is not None and clf.manifest["binary_temperature"] > 0


def test_rule1_mixes_keep_the_source_and_add_only_boilerplate_sentences(examples: list) -> None:
    mixes = rule1_mixes(examples, substantive=2.0, boilerplate=0.5, seed=1)
    boilerplate_sentences = {
        (e.lang != "en", s) for e in examples if e.quality == "boilerplate" for s in sentences(e.text) or [e.text]
    }
    n_sub = sum(e.quality == "substantive" for e in examples)
    assert sum(examples[i].quality == "substantive" for i, _ in mixes) == 2 * n_sub  # whole rates are exact
    for i, text in mixes:
        source = examples[i]
        assert source.text in text and text != source.text
        added = text.replace(source.text, "", 1).strip()
        cjk = source.lang != "en"
        # The added part is one or two boilerplate sentences of the same script.
        assert any(added.startswith(s) or added.endswith(s) for c, s in boilerplate_sentences if c == cjk), added
    assert mixes == rule1_mixes(examples, substantive=2.0, boilerplate=0.5, seed=1)
    assert mixes != rule1_mixes(examples, substantive=2.0, boilerplate=0.5, seed=2)
    assert rule1_mixes(examples, substantive=0.0, boilerplate=0.0, seed=1) == []


def test_mixes_are_trained_on_but_calibrated_without(examples: list) -> None:
    params = TrainParams(min_df=1, calibration_folds=2, mix_substantive=1.0, mix_boilerplate=0.5)
    clf = train(examples, params)
    n_mixes = clf.manifest["training_data"]["rule1_mixes"]
    assert n_mixes == len(rule1_mixes(examples, 1.0, 0.5, params.seed)) > 0
    assert clf.manifest["training_data"]["n_examples"] == len(examples)
    off = train(examples, TrainParams(min_df=1, calibration_folds=2, mix_substantive=0.0, mix_boilerplate=0.0))
    assert off.manifest["training_data"]["rule1_mixes"] == 0
    text = ["Thanks for the report! Fixed in 4.2.1, please upgrade."]
    assert not np.allclose(clf.predict_proba(text), off.predict_proba(text))
    # Vocabulary and idf come from the replies as written: the mixes only add rows.
    assert clf.model.word.vocabulary_ == off.model.word.vocabulary_
    assert np.array_equal(clf.model.word.idf_, off.model.word.idf_)

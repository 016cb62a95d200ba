"""The store's sentiment adapter, on its own: it starts as the model, learns from people's
labels what resembles them, and leaves the rest as the model says."""

import io

import numpy as np
import pytest

from nlp.sentiment import Sentiment
from nlp.sentiment_adapter import LabelledText, SentimentAdapter, fit
from nlp.touchpoint_model import fingerprint

DIM = 16


def unit(*hot: int) -> np.ndarray:
    vector = np.zeros(DIM, np.float32)
    vector[list(hot)] = 1.0
    return vector / np.linalg.norm(vector)


NEUTRAL = np.array([0.1, 0.8, 0.1], np.float32)
# a store where "the update came" (dimension 0) is a complaint the model calls neutral
COMPLAINTS = [LabelledText(NEUTRAL, unit(0, i), "negative") for i in range(2, 10)]


def labels(adapter: SentimentAdapter, probabilities, vectors) -> list[str]:
    out = adapter.adjust_probabilities(np.array(probabilities, np.float32),
                                       np.array(vectors, np.float32))
    return [("negative", "neutral", "positive")[i] for i in out.argmax(axis=1)]


def test_labels_teach_what_resembles_them_and_leave_the_rest_to_the_model():
    adapter = fit(COMPLAINTS, fingerprint("store"))
    unseen_complaint, other_topic = unit(0, 12), unit(13, 14)
    assert labels(adapter, [NEUTRAL, NEUTRAL], [unseen_complaint, other_topic]) == [
        "negative", "neutral"]
    confident_positive = np.array([0.02, 0.08, 0.9], np.float32)
    assert labels(adapter, [confident_positive], [unit(13)]) == ["positive"]


def test_labels_that_agree_with_the_model_leave_its_clear_answers_alone():
    agreeing = [LabelledText(NEUTRAL, unit(0, i), "neutral") for i in range(2, 10)]
    adapter = fit(agreeing, fingerprint("store"))
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(3), size=200).astype(np.float32)
    probabilities = probabilities[probabilities.max(axis=1) >= 0.6]
    vectors = rng.normal(size=(len(probabilities), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    model_says = probabilities.argmax(axis=1)
    adapted = adapter.adjust_probabilities(probabilities, vectors).argmax(axis=1)
    assert len(probabilities) > 50 and (model_says == adapted).all()


def test_adjust_keeps_the_sentiment_shape_and_survives_storage():
    adapter = fit(COMPLAINTS, fingerprint("store", 1))
    again = SentimentAdapter.from_bytes(adapter.to_bytes())
    assert again.version == adapter.version and again.labels == len(COMPLAINTS)
    prediction = Sentiment("neutral", 0.8, {"negative": 0.1, "neutral": 0.8, "positive": 0.1})
    (adapted,) = again.adjust([prediction], unit(0, 11)[None, :])
    assert adapted.label == "negative"
    assert sum(adapted.scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert adapted.score == adapted.scores["negative"]
    assert fit(COMPLAINTS, fingerprint("store", 2)).version != adapter.version


def test_an_adapter_needs_labels_and_a_blob_of_its_own_kind():
    with pytest.raises(ValueError, match="at least one"):
        fit([], fingerprint("store"))
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array('{"format": "something-else"}'))
    with pytest.raises(ValueError, match="not a sentiment adapter"):
        SentimentAdapter.from_bytes(buffer.getvalue())

"""Tests for the decision-bias search of models/train_sentiment.py."""

import numpy as np

from models.train_sentiment import MIN_BIAS_GAIN, LabelledSplit, search_bias


def _split(labels: list[str]) -> LabelledSplit:
    return LabelledSplit("ru/set", "ru", [f"post {i}" for i in range(len(labels))], labels)


def _probs(rows: list[tuple[float, float, float]]) -> dict:
    return {"ru/set": {"probs": np.array(rows)}}


def test_a_bias_that_fixes_a_skewed_model_is_kept():
    # every neutral post scores slightly negative: a neutral offset fixes all of them
    labels = ["negative"] * 50 + ["neutral"] * 50 + ["positive"] * 50
    rows = [(0.8, 0.1, 0.1)] * 50 + [(0.5, 0.4, 0.1)] * 50 + [(0.1, 0.1, 0.8)] * 50
    bias, mean = search_bias([_split(labels)], _probs(rows))
    assert bias[1] > 0.2 and mean == 1.0


def test_a_bias_that_gains_almost_nothing_is_refused():
    # 199 posts already right, one borderline neutral post: an offset would win it (+0.005
    # macro-F1 at most on 300 rows) but moves the class boundary for every other post
    labels = ["negative"] * 100 + ["neutral"] * 100 + ["positive"] * 100
    rows = ([(0.8, 0.1, 0.1)] * 100 + [(0.1, 0.8, 0.1)] * 99 + [(0.5, 0.45, 0.05)]
            + [(0.1, 0.1, 0.8)] * 100)
    split = _split(labels)
    bias, mean = search_bias([split], _probs(rows))
    assert bias.tolist() == [0.0, 0.0, 0.0]
    assert mean < 1.0 and 1.0 - mean < MIN_BIAS_GAIN

"""One pass for sentiment and sentence vectors: the layers a sentiment model shares with the
base encoder run once, and both answers equal those of running each model alone."""

import numpy as np
import pytest
import torch

from nlp.embeddings import Encoder
from nlp.model_config import SentimentSettings
from nlp.sentence_reader import SeparatePasses, SharedPass
from nlp.sentiment import SentimentModel, shared_layers

TEXTS = ["Связь пропала третий день подряд, поддержка молчит.",
         "Дякую, що так швидко полагодили вежу!",
         "How do I change my plan?",
         "ok"]


@pytest.fixture(scope="module")
def encoder():
    return Encoder(prefix="", precision="fp32")


@pytest.fixture(scope="module")
def sharing_model(encoder):
    """The shipped sentiment model with its embeddings and lowest six layers set to the
    base encoder's own, as training with ``--freeze-layers 6`` leaves them."""
    model = SentimentModel.load(SentimentSettings(precision="fp32"))
    base = encoder.model.state_dict()
    with torch.no_grad():
        for name, parameter in model.model.bert.named_parameters():
            if name.startswith("embeddings.") or (
                    name.startswith("encoder.layer.") and int(name.split(".")[2]) < 6):
                parameter.copy_(base[name])
    model.shared_layers = 6
    return model


def test_one_pass_gives_the_encoders_vectors_and_the_models_labels(encoder, sharing_model):
    predictions, vectors = SharedPass(sharing_model, encoder).read(TEXTS)
    assert np.allclose(vectors, encoder.encode(TEXTS), atol=1e-4)
    alone = sharing_model.predict(TEXTS)
    assert [p.label for p in predictions] == [p.label for p in alone]
    for ours, theirs in zip(predictions, alone, strict=True):
        assert ours.scores == pytest.approx(theirs.scores, abs=1e-4)


def test_separate_passes_answer_the_same(encoder, sharing_model):
    shared = SharedPass(sharing_model, encoder).read(TEXTS)
    separate = SeparatePasses(sharing_model.predict, encoder).read(TEXTS)
    assert [p.label for p in shared[0]] == [p.label for p in separate[0]]
    assert np.allclose(shared[1], separate[1], atol=1e-4)


def test_a_model_without_shared_layers_cannot_share_a_pass(encoder):
    model = SentimentModel.load(SentimentSettings(precision="fp32"))
    model.shared_layers = 0
    with pytest.raises(ValueError, match="shares no layers"):
        SharedPass(model, encoder)


def test_shared_layers_are_those_the_weights_file_lacks(sharing_model):
    names = {f"bert.encoder.layer.{i}.output.dense.weight": None for i in range(6, 12)}
    assert shared_layers(names | {"classifier.weight": None}, sharing_model.model) == 6
    assert shared_layers(names | {"bert.embeddings.LayerNorm.weight": None},
                         sharing_model.model) == 0
    assert shared_layers({"classifier.weight": None}, sharing_model.model) == 12

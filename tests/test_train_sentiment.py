"""A reduced-depth run of models/train_sentiment.py end to end, and loading what it wrote."""

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest
from safetensors.torch import load_file

from models import train_sentiment
from nlp import sentiment
from nlp.model_config import SentimentSettings

ROWS = {
    "negative": ["Третий день нет связи, поддержка молчит.", "The app crashes on every login."],
    "neutral": ["Офис работает с 9 до 20.", "How do I move my number to a new SIM?"],
    "positive": ["Спасибо, всё починили за час!", "Great coverage on the whole trip."],
}


def _write_set(root, split: str) -> None:
    folder = root / "ru" / "tiny"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"text": text, "label": label} for label, texts in ROWS.items() for text in texts]
    (folder / f"{split}.jsonl").write_text(
        "\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")


def test_a_two_layer_model_trains_ships_and_loads(tmp_path):
    data, out = tmp_path / "data", tmp_path / "model"
    for split in ("train", "dev"):
        _write_set(data, split)
    code = train_sentiment.main(["--data", str(data), "--out", str(out), "--layers", "2",
                                 "--max-steps", "2", "--batch-size", "4", "--no-test",
                                 "--no-calibrate", "--log-every", "1"])
    assert code == 0
    meta = json.loads((out / sentiment.LABELS_FILE).read_text())
    assert meta["layers"] == 2
    weights = load_file(str(out / sentiment.WEIGHTS_FILE))
    layers = {int(name.split(".")[3]) for name in weights if ".encoder.layer." in name}
    assert layers == {0, 1}
    assert "--layers 2" in (out / "README.md").read_text()

    model = sentiment.SentimentModel.load(SentimentSettings(model=str(out), precision="fp32"))
    assert model.model.config.num_hidden_layers == 2
    assert len(model.model.bert.encoder.layer) == 2
    results = model.predict(["Связь пропала", "Thanks!"])
    assert [sum(r.scores.values()) for r in results] == pytest.approx([1.0, 1.0], abs=1e-4)

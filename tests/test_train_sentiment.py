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


def _train(data, out, *extra: str) -> None:
    assert train_sentiment.main(["--data", str(data), "--out", str(out), "--max-steps", "2",
                                 "--batch-size", "4", "--no-test", "--no-calibrate",
                                 "--log-every", "1", *extra]) == 0


def test_a_two_layer_model_trains_ships_and_loads(tmp_path):
    data, out = tmp_path / "data", tmp_path / "model"
    for split in ("train", "dev"):
        _write_set(data, split)
    _train(data, out, "--layers", "2")
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


def test_a_student_distils_a_teacher_and_reuses_its_probabilities(tmp_path):
    data, teacher, cache = tmp_path / "data", tmp_path / "teacher", tmp_path / "teacher.npz"
    for split in ("train", "dev"):
        _write_set(data, split)
    _train(data, teacher, "--layers", "2")

    _train(data, tmp_path / "a", "--layers", "1", "--teacher", str(teacher),
           "--teacher-cache", str(cache), "--kd-alpha", "0.3")
    assert cache.is_file()
    card = (tmp_path / "a" / "README.md").read_text()
    assert "distilled from teacher-" in card and "0.3 × cross-entropy" in card
    assert f"--teacher {teacher}" in card
    # Without the teacher's files the cached probabilities give the same student.
    _train(data, tmp_path / "b", "--layers", "1", "--teacher-cache", str(cache),
           "--kd-alpha", "0.3")
    a = load_file(str(tmp_path / "a" / sentiment.WEIGHTS_FILE))
    b = load_file(str(tmp_path / "b" / sentiment.WEIGHTS_FILE))
    assert all((a[name] == b[name]).all() for name in a)
    assert f"--teacher {teacher}" in (tmp_path / "b" / "README.md").read_text()

    with (data / "ru" / "tiny" / "train.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"text": "Новый тариф дороже", "label": "negative"}\n')  # rows changed
    with pytest.raises(SystemExit, match="other training rows"):
        _train(data, tmp_path / "c", "--layers", "1", "--teacher-cache", str(cache))


def test_the_distillation_loss_is_zero_only_where_the_student_agrees():
    import torch

    teacher = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    same = train_sentiment.distillation_loss(teacher + 3.0, teacher, 2.0)  # shifted logits
    other = train_sentiment.distillation_loss(teacher.flip(1), teacher, 2.0)
    assert same.item() == pytest.approx(0.0, abs=1e-6)
    assert other.item() > 0.1

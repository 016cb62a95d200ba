"""Tests for the sentiment model (nlp.sentiment) and its configuration (nlp.model_config)."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import shutil
import socket
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from config.yaml_nodes import ConfigError
from nlp import sentiment
from nlp.model_config import SentimentSettings, load_nlp_config, resolve_label_map

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models" / "sentiment"
FAST = ROOT / "models" / "sentiment-fast"

# Customer posts about a telecom operator, written before the model was run on them.
POSTS = {
    "ru": {
        "negative": [
            "Третий день нет интернета, техподдержка только обещает перезвонить. Ужасный сервис!",
            "Опять списали деньги за подписку, которую я не подключал. Верните деньги!",
            "Связь постоянно обрывается, за такие деньги это просто издевательство.",
            "Час провисел на горячей линии, так никто и не ответил. Больше никогда к вам не "
            "вернусь.",
            "После обновления приложение вылетает, оплатить тариф невозможно. Кошмар.",
        ],
        "neutral": [
            "Подскажите, как подключить роуминг перед поездкой в Турцию?",
            "С 1 марта меняется стоимость тарифа «Безлимит», подробности на сайте.",
            "Офис на Ленина, 5 работает с 9 до 20 без выходных.",
            "Какой тариф выбрать для планшета, если нужен только интернет?",
            "Сегодня с 2 до 5 ночи в Казани запланированы технические работы.",
        ],
        "positive": [
            "Спасибо оператору Анне, быстро разобралась с моей проблемой и вернула деньги!",
            "Перешёл к вам месяц назад — интернет летает, очень доволен.",
            "Отличная связь даже за городом, рекомендую всем.",
            "Мастер пришёл вовремя и всё настроил за 20 минут. Огромное спасибо!",
            "Новый тариф просто супер: дешевле и гигабайт больше. Молодцы!",
        ],
    },
    "uk": {
        "negative": [
            "Вже тиждень мобільний інтернет ледь працює, а гроші знімають як завжди. Обурена!",
            "Знову зняли кошти за послугу, яку я не замовляв. Це шахрайство.",
            "У підтримці хамлять і кидають слухавку. Найгірший оператор.",
            "Годину чекав на гарячій лінії, ніхто так і не відповів. Переходжу до іншого "
            "оператора.",
            "Після оновлення застосунок постійно вилітає, оплатити рахунок неможливо. Жах.",
        ],
        "neutral": [
            "Підкажіть, як підключити роумінг перед поїздкою до Польщі?",
            "З 1 березня змінюється вартість тарифу «Безліміт», деталі на сайті.",
            "Магазин на Хрещатику, 10 працює з 9 до 20 без вихідних.",
            "Який тариф обрати для планшета, якщо потрібен лише інтернет?",
            "Сьогодні з 2 до 5 ночі у Львові заплановані технічні роботи.",
        ],
        "positive": [
            "Дякую операторці Олені, швидко вирішила мою проблему і повернула кошти!",
            "Перейшов до вас місяць тому — інтернет літає, дуже задоволений.",
            "Чудовий зв'язок навіть у селі, всім раджу.",
            "Майстер прийшов вчасно і все налаштував за 20 хвилин. Щиро дякую!",
            "Новий тариф просто супер: дешевше і гігабайтів більше. Молодці!",
        ],
    },
    "en": {
        "negative": [
            "No internet for three days and support keeps promising a callback. Terrible "
            "service!",
            "You charged me again for a subscription I never signed up for. I want my money back!",
            "Calls keep dropping all the time, this is a joke for what I pay.",
            "Waited an hour on the hotline and nobody answered. Never using this carrier again.",
            "Since the update the app crashes and I can't pay my bill. Awful.",
        ],
        "neutral": [
            "How do I turn on roaming before my trip to Spain?",
            "From March 1 the price of the Unlimited plan changes, details on the website.",
            "The store at 5 Main Street is open 9 am to 8 pm every day.",
            "Which plan should I choose for a tablet if I only need data?",
            "Maintenance work is scheduled tonight from 2 to 5 am in Leeds.",
        ],
        "positive": [
            "Thanks to Anna from support, she sorted out my issue quickly and refunded me!",
            "Switched to you a month ago and the internet is blazing fast, really happy.",
            "Great coverage even in the countryside, highly recommend.",
            "The technician came on time and set everything up in 20 minutes. Thank you so much!",
            "The new plan is awesome: cheaper and more data. Well done!",
        ],
    },
}
CASES = [(lang, label, text) for lang, by_label in POSTS.items()
         for label, texts in by_label.items() for text in texts]
TEXTS = [text for _, _, text in CASES]


@pytest.fixture(scope="module")
def offline(request):
    """Refuse every network connection while the module's models load and run."""
    patch = pytest.MonkeyPatch()

    def refuse(*args, **kwargs):
        raise OSError("network access attempted in an offline test")

    patch.setattr(socket.socket, "connect", refuse)
    patch.setattr(socket, "create_connection", refuse)
    yield
    patch.undo()


@pytest.fixture(scope="module")
def half(offline):
    return sentiment.SentimentModel.load(SentimentSettings(model=str(SHIPPED), precision="bf16"))


@pytest.fixture(scope="module")
def full_precision(offline):
    return sentiment.SentimentModel.load(SentimentSettings(model=str(SHIPPED), precision="fp32"))


@pytest.fixture(scope="module")
def fast(offline):
    """The shipped 4-layer model, at the precision the configuration would pick."""
    return sentiment.SentimentModel.load(SentimentSettings(model=str(FAST)))


def test_shipped_model_loads_offline(half):
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert sentiment.is_delta_model(SHIPPED)
    assert (SHIPPED / "README.md").is_file()
    result = half.predict(["Связь отличная, спасибо!"])[0]
    assert result.label in sentiment.LABELS
    assert result.score == result.scores[result.label] == max(result.scores.values())
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-4)


def test_fast_model_is_the_base_lowest_four_layers(fast):
    assert sentiment.is_delta_model(FAST)
    assert len(fast.model.bert.encoder.layer) == fast.model.config.num_hidden_layers == 4
    assert fast.version != sentiment.version_of(SentimentSettings(model=str(SHIPPED)))


@pytest.mark.parametrize("model_name", ["half", "full_precision", "fast"])
def test_clear_posts_get_the_right_label(model_name, request):
    """At least 4 of 5 posts right for every language and class, 42 of 45 overall (a rule
    fixed before the model first ran on these posts)."""
    model = request.getfixturevalue(model_name)
    results = model.predict(TEXTS)
    wrong = [(lang, label, r.label, text)
             for (lang, label, text), r in zip(CASES, results, strict=True) if r.label != label]
    per_group = Counter((lang, label) for lang, label, _, _ in wrong)
    message = "\n".join(f"{lang} {label} -> {got}: {text}" for lang, label, got, text in wrong)
    assert max(per_group.values(), default=0) <= 1, message
    assert len(wrong) <= 3, message


def test_bf16_agrees_with_full_precision(half, full_precision):
    assert half.precision == "bf16" and full_precision.precision == "fp32"
    bf16 = half.probabilities(TEXTS)
    f32 = full_precision.probabilities(TEXTS)
    assert (bf16.argmax(1) == f32.argmax(1)).sum() >= len(TEXTS) - 1
    assert np.abs(bf16 - f32).max() < 0.1


def test_int8_keeps_most_labels(offline, full_precision):
    int8 = sentiment.SentimentModel.load(SentimentSettings(model=str(SHIPPED), precision="int8"))
    q8 = int8.probabilities(TEXTS)
    assert (q8.argmax(1) == full_precision.probabilities(TEXTS).argmax(1)).mean() >= 0.9


def test_batches_keep_input_order(full_precision):
    one_by_one = [full_precision.predict([t])[0].label for t in TEXTS[:6]]
    batched = [r.label for r in full_precision.predict(TEXTS[:6][::-1], batch_size=2)][::-1]
    assert batched == one_by_one


def test_predict_empty_list():
    assert sentiment.predict([]) == []


def test_version_follows_weights_and_precision(tmp_path):
    copy = tmp_path / "sentiment"
    shutil.copytree(SHIPPED, copy)
    base = sentiment.version_of(SentimentSettings(model=str(copy), precision="fp32"))
    assert base == sentiment.version_of(SentimentSettings(model=str(SHIPPED), precision="fp32"))
    assert base != sentiment.version_of(SentimentSettings(model=str(copy), precision="bf16"))
    with (copy / sentiment.WEIGHTS_FILE).open("r+b") as fh:
        fh.seek(-2, os.SEEK_END)
        fh.write(b"\x00\x01")
    assert base != sentiment.version_of(SentimentSettings(model=str(copy), precision="fp32"))


def test_default_config_is_the_shipped_model():
    settings = load_nlp_config().sentiment
    assert settings.model_path() == SHIPPED
    assert settings.max_length == 256


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ("{0: negative, 1: good, 2: positive}", "'good' is not a sentiment label"),
        ("{0: negative, 1: neutral, 2: neutral}", "no model label is mapped to positive"),
        ("[negative, positive]", "expected a mapping"),
    ],
)
def test_config_rejects_a_wrong_label_mapping(tmp_path, labels, expected):
    path = tmp_path / "nlp.yaml"
    path.write_text(f"sentiment:\n  model: some/model\n  labels: {labels}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=expected) as error:
        load_nlp_config(path)
    assert "line 3" in str(error.value) and "sentiment.labels" in str(error.value)


def test_label_mapping_must_match_the_model():
    id2label = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}
    assert resolve_label_map({0: "negative", 1: "neutral", 2: "positive"}, id2label) == [
        "negative", "neutral", "positive"]
    assert resolve_label_map({"LABEL_0": "negative", 1: "positive", 2: "positive"},
                             id2label) == ["negative", "positive", "positive"]
    with pytest.raises(ConfigError, match=r"'LABEL_7' is not a label of the model.*0=LABEL_0"):
        resolve_label_map({"LABEL_7": "negative", 1: "neutral", 2: "positive"}, id2label)
    with pytest.raises(ConfigError, match=r"2=LABEL_2 have no mapping"):
        resolve_label_map({0: "negative", 1: "positive"}, id2label)
    with pytest.raises(ConfigError, match="are not negative/neutral/positive"):
        resolve_label_map({}, id2label)


def test_config_rejects_unknown_fields_and_bad_lengths(tmp_path):
    path = tmp_path / "nlp.yaml"
    path.write_text("sentiment:\n  modle: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown field 'modle'.*expected: labels, max_length"):
        load_nlp_config(path)
    path.write_text("sentiment:\n  max_length: 4096\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="more than the 512 positions"):
        load_nlp_config(path)
    path.write_text("sentiment:\n  precision: fp16\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'fp16' is not one of auto, fp32, bf16, int8"):
        load_nlp_config(path)
    path.write_text("sentiment:\n  precision: BF16\n", encoding="utf-8")
    assert load_nlp_config(path).sentiment.precision == "bf16"

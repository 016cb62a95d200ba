"""People's sentiment corrections teach a store, with the real models: a parcel-delivery
store whose customers state delays plainly (the model calls them neutral) corrects some;
the next fit moves unseen complaints of the kind toward negative, leaves the store's other
posts as they were, and is fitted again only when the labels change."""

from pathlib import Path

import numpy as np
import pytest
from remembering import Remembering
from typer.testing import CliRunner

import store
from nlp.sentiment_learning import prepare_sentiment, readings
from nlp.tagger import Tagger, tag_pending
from store import sentiment_adapters

CATALOGUE = Path(__file__).parent / "fixtures" / "catalogues" / "food_delivery.yaml"

# Plain statements of a delay, each a complaint in this store.
CORRECTED = ["Посылка с понедельника лежит на складе.", "Третий звонок в поддержку за сегодня.",
             "Ждал на линии 40 минут.", "Заказ приехал в двух коробках вместо одной.",
             "Курьер приехал в 23:40.", "Заказ неделю стоит в статусе «собирается».",
             "Трек-номер не обновлялся с пятницы.", "Посылка уехала обратно в Казань.",
             "Курьер перенёс доставку уже третий раз.", "Заказ две недели в пути из Москвы.",
             "Оператор пообещал перезвонить в понедельник.", "Посылку вернули отправителю.",
             "Доставку назначили на следующую среду.", "Статус не меняется пятый день.",
             "Курьер приехал не в тот подъезд.", "Заказ отдали соседу без звонка."]
UNSEEN = ["Посылка десятый день в сортировочном центре.",
          "Жду курьера с девяти утра, уже шесть вечера."]
OTHERS = {"Во сколько открывается пункт выдачи на Ленина?": "neutral",
          "Курьер был очень вежлив, спасибо!": "positive"}
# The rest of the store: what its customers write besides.
STORE = ["Подскажите, можно ли изменить адрес доставки?", "Какие сроки доставки в Тверь?",
         "Спасибо, всё пришло целым и вовремя!", "Отличный сервис, буду заказывать ещё.",
         "Ужасная служба, больше никогда не закажу.", "Коробка пришла мятая, товар разбит.",
         "Where can I find my tracking number?", "Great service, thank you!",
         "Awful support, they hung up on me.", "Does the pickup point work on Sundays?",
         "Новый пункт выдачи открылся на Садовой.", "Курьер позвонил заранее, очень удобно.",
         "Сколько стоит доставка до двери?", "Хамство оператора просто поражает.",
         "The parcel arrived in perfect condition.", "Is there a discount for students?"]


@pytest.fixture(scope="module")
def tagger():
    real = Tagger.default(CATALOGUE)
    real.reader = Remembering(real.reader)
    return real


pytestmark = pytest.mark.both_backends


@pytest.fixture
def db(db_path):
    with store.open_db(db_path) as database:
        store.upsert_mentions(database, (
            {"source": "reviews", "url": f"https://parcels.example/{i}", "kind": "review",
             "text": text, "published_at": "2026-11-02T10:00:00+00:00",
             "author_handle": f"user{i}"}
            for i, text in enumerate(CORRECTED + UNSEEN + list(OTHERS) + STORE)))
        yield database


def correct_all(db) -> None:
    for i in range(len(CORRECTED)):
        store.add_correction(db, store.mention_id("reviews", f"https://parcels.example/{i}"),
                             "sentiment", "negative")


def sentiments(tagger, texts) -> list[str]:
    return [t.sentiment for t in tagger.tag_batch([(str(i), text, "")
                                                   for i, text in enumerate(texts)])]


def negative(tagger, texts) -> np.ndarray:
    """The probability of negative for each text, as the tagger reads it now."""
    probabilities, vectors, _ = readings(tagger, [(text, None) for text in texts])
    if tagger.adapter is not None:
        probabilities = tagger.adapter.adjust_probabilities(probabilities, vectors)
    return probabilities[:, 0]


def test_corrections_teach_the_next_fit_and_leave_other_posts_alone(db, tagger):
    assert prepare_sentiment(db, tagger).reason == "no sentiment labels by people"
    model_alone = negative(tagger, UNSEEN + list(OTHERS))
    labels_before = sentiments(tagger, list(OTHERS) + STORE)
    assert (model_alone[:2] < 0.05).all()  # the model is sure they are neutral
    correct_all(db)
    report = prepare_sentiment(db, tagger)
    assert report.fitted and report.labels == len(CORRECTED)
    adapted = negative(tagger, UNSEEN + list(OTHERS))
    assert (adapted[:2] >= 0.25).all(), "unseen complaints of the corrected kind moved"
    assert adapted[2] < min(adapted[:2]), "a plain question moved less"
    assert sentiments(tagger, list(OTHERS) + STORE) == labels_before


def test_the_adapter_shows_in_the_tags_and_their_version(db, tagger):
    correct_all(db)
    prepare_sentiment(db, tagger)
    assert tagger.adapter.version in tagger.version
    tag_pending(db, tagger)
    evidence = db.execute(
        """SELECT t.evidence FROM tags t JOIN mentions m ON m.id = t.mention_id
           WHERE t.name = 'sentiment' AND m.url = ?""",
        [f"https://parcels.example/{len(CORRECTED)}"]).fetchone()[0]
    assert tagger.adapter.version in evidence


def test_refits_only_when_the_labels_change_and_forgets_when_none_are_left(db, tagger):
    correct_all(db)
    first = prepare_sentiment(db, tagger)
    again = prepare_sentiment(db, tagger)
    assert not again.fitted and again.reason == "current" and again.version == first.version
    other = store.mention_id("reviews", f"https://parcels.example/{len(CORRECTED)}")
    store.add_correction(db, other, "sentiment", "negative")
    changed = prepare_sentiment(db, tagger)
    assert changed.fitted and changed.version != first.version
    assert changed.reason == "people's sentiment labels changed"
    for i in range(len(CORRECTED) + 1):
        store.erase_author(db, "reviews", f"user{i}")
    assert sentiment_adapters.stored_adapter(db) is None
    assert prepare_sentiment(db, tagger).version == "" and tagger.adapter is None


def test_stats_tell_whether_the_store_has_an_adapter(db, db_path, tagger):
    from cli import app

    path = str(db_path)
    assert "sentiment adapter: none" in CliRunner().invoke(app, ["stats", "--db", path]).stdout
    correct_all(db)
    prepare_sentiment(db, tagger)
    after = CliRunner().invoke(app, ["stats", "--db", path]).stdout
    assert f"sentiment adapter: {tagger.adapter.version}" in after
    assert f"on {len(CORRECTED)} sentiment labels" in after

"""The learned touchpoint model on a store of a new industry, with the real encoder: it
learns from the catalogue and the corpus's cue words, tags sentences that name no cue,
learns from people's labels and refits only when something it depends on changed."""

import itertools
from pathlib import Path

import pytest
import yaml
from remembering import Remembering

import store
from nlp.analysis import analyze_texts
from nlp.tagger import Tagger, tag_pending
from nlp.touchpoint_learning import prepare
from store import touchpoint_models

CATALOGUE = Path(__file__).parent / "fixtures" / "catalogues" / "food_delivery.yaml"

# Sentences a customer of a food-delivery service writes, each naming a cue word.
CUED = {
    "ordering": ["The menu in the app is a mess.", "My order vanished at checkout.",
                 "Nothing stays in the basket after I log in.", "The cart keeps resetting.",
                 "Меню опять не грузится.", "Не могу оформить заказ третий день.",
                 "Корзина очищается сама.", "The new menu has no prices."],
    "delivery": ["The courier got lost again.", "Delivery took two hours.",
                 "The driver left the bag at the wrong door.", "It was delivered cold.",
                 "Курьер опоздал на час.", "Доставка снова задержалась.",
                 "Курьер не поднялся на этаж.", "The courier was rude on the phone."],
    "payment": ["I was charged twice.", "Still waiting for my refund.",
                "My card was declined at the end.", "The promo code did not work.",
                "Оплата не прошла, а деньги списали.", "Возврат обещали неделю назад.",
                "Промокод не применился.", "The payment page froze."],
}
CHATTER = ["Hello everyone!", "Thanks for reading.", "Have a nice weekend.",
           "Всем привет!", "Спасибо заранее.", "Good morning from Kyiv."]
# No cue word of the catalogue in any of these.
UNCUED = {
    "delivery": ["Our dinner showed up an hour and a half late and stone cold.",
                 "Ужин привезли через полтора часа, всё остыло."],
    "payment": ["They took the money from my account two times for one lunch.",
                "Деньги за обед ушли со счёта два раза."],
}


def corpus() -> list[str]:
    """Posts of one to three sentences, cued and chatter mixed, in a fixed order."""
    sentences = [s for group in CUED.values() for s in group] + CHATTER
    cycle = itertools.cycle(sentences)
    return [" ".join(next(cycle) for _ in range(1 + i % 3)) for i in range(90)]


@pytest.fixture(scope="module")
def tagger():
    real = Tagger.default(CATALOGUE)
    real.reader = Remembering(real.reader)
    return real


@pytest.fixture
def db(tmp_path):
    with store.open_db(tmp_path / "delivery.db") as database:
        store.upsert_mentions(database, (
            {"source": "reviews", "url": f"https://reviews.example/{i}", "kind": "review",
             "text": text, "published_at": "2026-11-02T10:00:00+00:00"}
            for i, text in enumerate(corpus())))
        yield database


def learned(tagger, texts: list[str]) -> list[set[str]]:
    """The touchpoints the learned model gives each one-sentence text."""
    hits = [{h.key for h in t.hits if h.kind == "touchpoint" and h.method == "learned"}
            for t in tagger.tag_batch([(str(i), text, "") for i, text in enumerate(texts)])]
    return hits


def test_learns_touchpoints_of_a_new_industry_and_tags_sentences_without_cues(db, tagger):
    report = prepare(db, tagger)
    assert report.fitted and report.corpus_sentences > 90
    for key, texts in UNCUED.items():
        analyses = analyze_texts([(text, "en") for text in texts], tagger.catalogue)
        assert not any(a.of_kind("touchpoint") for a in analyses)  # no cue word in them
        assert all(key in found for found in learned(tagger, texts)), key
    assert learned(tagger, ["Have a lovely evening, friends."]) == [set()]


def test_a_learned_hit_shows_its_evidence(db, tagger):
    prepare(db, tagger)
    tagged = tagger.tag_batch([("1", UNCUED["payment"][0], "")])[0]
    hit = next(h for h in tagged.hits if h.method == "learned" and h.key == "payment")
    assert hit.evidence == UNCUED["payment"][0]
    assert 0.5 <= hit.extra["probability"] <= 1 and hit.confidence == hit.extra["probability"]
    assert hit.extra["nearest"] and hit.extra["model"] == tagger.touchpoints.version


def test_people_labels_change_the_next_fit(db, tagger):
    first = prepare(db, tagger)
    ambiguous = "The app showed one price and the bank showed another."
    before = tagger.touchpoints.probabilities(tagger.read_sentences([ambiguous])[1])[0]
    url = "https://reviews.example/x"
    store.upsert_mention(db, {"source": "reviews", "url": url, "kind": "review",
                              "text": ambiguous})
    mention = store.mention_id("reviews", url)
    store.add_correction(db, mention, "touchpoint", "payment", sentence=0)
    second = prepare(db, tagger)
    assert second.fitted and second.labels == 1 and second.version != first.version
    after = tagger.touchpoints.probabilities(tagger.read_sentences([ambiguous])[1])[0]
    payment = tagger.touchpoints.keys.index("payment")
    assert after[payment] > before[payment] and after[payment] >= 0.5


def test_refits_only_when_the_catalogue_or_labels_change(db, tagger, tmp_path):
    assert prepare(db, tagger).fitted
    again = prepare(db, tagger)
    assert not again.fitted and again.reason == "current"
    changed = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    changed["touchpoints"][0]["description"] += " Also the site's search."
    edited = tmp_path / "catalogue.yaml"
    edited.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    other = Tagger(Tagger.default(edited).catalogue, tagger.sentiment, tagger.sentiment_version,
                   encoder=tagger.encoder, reader=tagger.reader)
    assert prepare(db, other).reason == "the catalogue or people's labels changed"
    assert not prepare(db, other).fitted


def test_the_review_queue_asks_about_every_touchpoint_and_forgets_answered(db, tagger):
    prepare(db, tagger)
    queue = touchpoint_models.review_queue(db, limit=100)
    assert {item["touchpoint"] for item in queue} == {"ordering", "delivery", "payment"}
    first = queue[0]
    store.add_correction(db, first["mention_id"], "touchpoint", "none",
                         sentence=first["sentence"])
    assert all((item["mention_id"], item["sentence"]) != (first["mention_id"],
                                                           first["sentence"])
               for item in touchpoint_models.review_queue(db, limit=100))


def test_tagging_a_store_writes_learned_touchpoints(db, tagger):
    store.upsert_mention(db, {"source": "reviews", "url": "https://reviews.example/late",
                              "kind": "review", "text": UNCUED["delivery"][0]})
    prepare(db, tagger)
    tag_pending(db, tagger)
    methods = dict(db.execute(
        """SELECT h.method, count(*) FROM hits h JOIN mentions m ON m.id = h.mention_id
           WHERE h.kind = 'touchpoint' AND m.url = 'https://reviews.example/late'
           GROUP BY 1""").fetchall())
    assert methods.get("learned")


def test_erasure_drops_the_model_that_holds_the_persons_sentences(db, tagger):
    words = "Courier Mykola threw my order over the fence."
    store.upsert_mention(db, {"source": "reviews", "url": "https://reviews.example/m",
                              "kind": "review", "text": words, "author_handle": "mykola_fan"})
    prepare(db, tagger, force=True)
    assert words in tagger.touchpoints.anchor_texts
    store.erase_author(db, "reviews", "mykola_fan")
    assert touchpoint_models.stored_model(db) is None
    assert not touchpoint_models.review_queue(db, limit=1000) or all(
        item["text"] != words for item in touchpoint_models.review_queue(db, limit=1000))
    assert prepare(db, tagger).reason == "no model yet"
    assert words not in tagger.touchpoints.anchor_texts


def test_stats_tell_which_touchpoint_model_the_store_has(db, tagger, tmp_path):
    from typer.testing import CliRunner

    from cli import app

    path = str(tmp_path / "delivery.db")
    before = CliRunner().invoke(app, ["stats", "--db", path])
    assert "touchpoint model: none yet" in before.stdout
    prepare(db, tagger)
    after = CliRunner().invoke(app, ["stats", "--db", path])
    assert f"touchpoint model: {tagger.touchpoints.version}" in after.stdout
    assert "sentences to review" in after.stdout

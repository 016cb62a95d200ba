"""The batch tagger's bookkeeping, with a small stand-in sentiment model (the shipped model
is exercised in test_sentiment.py and test_tagger_real.py)."""

import json
import re
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

import store
from config.catalogue import load_catalogue
from nlp.analysis import cut_to_fit
from nlp.pipeline import load_nlp
from nlp.tagger import ModelUnavailable, Tagger, count_pending, tag_pending

NEGATIVE = ("нет", "не", "ужас", "списал", "жоден", "немає", "never", "no", "terrible")
POSITIVE = ("доволен", "отлично", "рекомендую", "раджу", "great", "love", "задоволен")


def lexicon_sentiment(texts):
    """A transparent stand-in: words starting with a cue give the label."""
    out = []
    for text in texts:
        words = re.findall(r"\w+", text.lower())
        neg = sum(word.startswith(cue) if len(cue) > 3 else word == cue
                  for word in words for cue in NEGATIVE)
        pos = sum(word.startswith(cue) for word in words for cue in POSITIVE)
        label = "negative" if neg > pos else "positive" if pos > neg else "neutral"
        scores = {"negative": 0.1, "neutral": 0.1, "positive": 0.1}
        scores[label] = 0.8
        out.append(SimpleNamespace(label=label, score=0.8, scores=scores))
    return out


class CountingEncoder:
    def __init__(self):
        self.texts = []

    def encode(self, texts):
        import numpy as np

        self.texts += list(texts)
        return np.ones((len(texts), 4), dtype="float32")


@pytest.fixture
def tagger():
    return Tagger(load_catalogue(), lexicon_sentiment, "lexicon-1", None, CountingEncoder())


POSTS = {
    "https://f.example/1": "Ушёл от Волны к Теленове, доволен как слон. Связь отличная!",
    "https://f.example/2": "Волна третий день списывает деньги за роуминг, ужас.",
    "https://f.example/3": "Рекомендую Volna Home, інтернет стабільний, раджу всім.",
    "https://f.example/4": "Switched to Telenova last month. Volna support never called back.",
}


def _fill(db, make_mention):
    for url, text in POSTS.items():
        store.upsert_mention(db, make_mention(url=url, text=text))


def _hits(db, url):
    return db.execute(
        "SELECT kind, key, sentiment, evidence FROM hits WHERE mention_id = ? ORDER BY start",
        [store.mention_id("forum", url)]).fetchall()


def test_tags_and_hits_carry_evidence_and_per_brand_stance(db, make_mention, tagger):
    _fill(db, make_mention)
    counts = tag_pending(db, tagger)
    assert counts == {"tagged": 4, "failed": 0, "cut": 0, "embedded": 2}
    hits = _hits(db, "https://f.example/1")
    assert ("brand", "volna", "negative", "Волны") in hits
    assert ("competitor", "telenova", "positive", "Теленове") in hits
    assert ("intent", "churn", None, "Ушёл от Волны к Теленове") in hits
    tags = dict(db.execute(
        "SELECT name, value FROM tags WHERE mention_id = ?",
        [store.mention_id("forum", "https://f.example/2")]).fetchall())
    assert tags == {"language": "ru", "sentiment": "negative"}
    evidence = json.loads(db.execute(
        "SELECT evidence FROM tags WHERE name = 'sentiment' AND mention_id = ?",
        [store.mention_id("forum", "https://f.example/2")]).fetchone()[0])
    assert evidence["sentences"][0]["text"].startswith("Волна третий день")
    assert db.execute("SELECT language FROM mentions WHERE url = ?",
                      ["https://f.example/3"]).fetchone()[0] == "uk"


def test_retagging_is_idempotent_and_edits_are_retagged(db, make_mention, tagger):
    _fill(db, make_mention)
    tag_pending(db, tagger)
    before = db.execute("SELECT count(*) FROM hits").fetchone()[0]
    assert count_pending(db, tagger) == 0
    assert tag_pending(db, tagger)["tagged"] == 0
    store.upsert_mention(db, make_mention(url="https://f.example/2",
                                          text="Волна вернула деньги за роуминг, отлично."))
    assert count_pending(db, tagger) == 1
    tag_pending(db, tagger)
    assert _hits(db, "https://f.example/2")[0][:3] == ("brand", "volna", "positive")
    assert db.execute("SELECT count(*) FROM hits").fetchone()[0] == before


def test_a_new_model_version_retags_everything(db, make_mention, tagger):
    _fill(db, make_mention)
    tag_pending(db, tagger)
    newer = Tagger(tagger.catalogue, lexicon_sentiment, "lexicon-2", None, None)
    assert count_pending(db, newer) == 4


def test_a_bad_row_is_skipped_and_counted(db, make_mention, tagger):
    _fill(db, make_mention)

    def fragile(texts):
        if any("роуминг" in text for text in texts):
            raise RuntimeError("model failed")
        return lexicon_sentiment(texts)

    broken = Tagger(tagger.catalogue, fragile, "lexicon-1", None, None)
    counts = tag_pending(db, broken)
    assert counts["failed"] == 1 and counts["tagged"] == 3
    assert count_pending(db, broken) == 0


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, "tests")
    import store
    from config.catalogue import load_catalogue
    from nlp.tagger import Tagger, tag_pending
    from test_tagger import lexicon_sentiment

    batches = []

    def dying(texts):
        batches.append(texts)
        if len(batches) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return lexicon_sentiment(texts)

    db = store.open_db(sys.argv[1])
    tag_pending(db, Tagger(load_catalogue(), dying, "lexicon-1", None, None), batch_size=10)
    """
)


def test_a_killed_run_resumes_without_duplicates(db_path, make_mention, tagger):
    with store.open_db(db_path) as db:
        for i in range(50):
            store.upsert_mention(db, make_mention(url=f"https://f.example/{i}",
                                                  text=f"В Волне связь есть, пост номер {i}."))
    run = subprocess.run([sys.executable, "-c", KILLER, str(db_path)], timeout=120)
    assert run.returncode == -9
    with store.open_db(db_path) as db:
        done = db.execute("SELECT count(*) FROM tags WHERE name = 'sentiment'").fetchone()[0]
        assert done == 20  # two whole batches, nothing of the third
        tag_pending(db, Tagger(tagger.catalogue, lexicon_sentiment, "lexicon-1", None, None))
        assert db.execute("SELECT count(*) FROM tags WHERE name = 'sentiment'"
                          ).fetchone()[0] == 50
        assert db.execute("SELECT count(*) FROM hits WHERE kind = 'brand'").fetchone()[0] == 50


def test_a_broken_model_stops_the_run_without_marking_rows(db, make_mention, tagger):
    _fill(db, make_mention)

    def broken(texts):
        raise OSError("weights missing")

    with pytest.raises(ModelUnavailable, match="every mention of a batch failed"):
        tag_pending(db, Tagger(tagger.catalogue, broken, "lexicon-1", None, None))
    assert db.execute("SELECT count(*) FROM tags").fetchone()[0] == 0


def test_a_text_too_long_for_the_pipeline_is_cut_at_a_sentence_end_and_counted(
        db, make_mention, tagger, monkeypatch):
    # spaCy refuses texts over nlp.max_length (E088); a small limit stands in for its million
    monkeypatch.setattr(load_nlp("ru", tagger.catalogue), "max_length", 3000)
    _fill(db, make_mention)
    sentence = "Волна снова списала деньги за роуминг, поддержка молчит третий день. "
    long_text = sentence * 100 + "Ушёл к Теленове."
    store.upsert_mention(db, make_mention(url="https://f.example/long", text=long_text))
    counts = tag_pending(db, tagger)
    assert counts == {"tagged": 5, "failed": 0, "cut": 1, "embedded": 3}
    assert count_pending(db, tagger) == 0
    long_id = store.mention_id("forum", "https://f.example/long")
    sentiment = db.execute("SELECT value FROM tags WHERE mention_id = ? AND name = 'sentiment'",
                           [long_id]).fetchone()[0]
    assert sentiment == "negative"
    ends = [end for (end,) in db.execute("SELECT end FROM hits WHERE mention_id = ?",
                                         [long_id])]
    assert ends and max(ends) <= 3000  # nothing past the cut was read
    assert ("competitor", "telenova") not in {
        (kind, key) for kind, key, *_ in _hits(db, "https://f.example/long")}


def test_cut_to_fit_prefers_a_sentence_end_then_a_space():
    assert cut_to_fit("short.", 10) == "short."
    assert cut_to_fit("One. Two three four", 15) == "One."
    assert cut_to_fit("one two three four", 15) == "one two three "
    assert cut_to_fit("x" * 20, 15) == "x" * 15
    assert cut_to_fit("Line one\nline two and more", 20) == "Line one\n"


def test_a_short_post_takes_the_label_of_its_whole_text(tagger):
    post = "Ужас, нет, не то. Доволен поддержкой, которая всё быстро объяснила вчера вечером."
    sentences = [s.label for s in lexicon_sentiment(["Ужас, нет, не то.", post[18:]])]
    assert sentences == ["negative", "positive"]  # the longer sentence would win an average
    whole = lexicon_sentiment([post])[0].label
    tagged = tagger.tag_batch([("m1", post, "h")])[0]
    assert tagged.sentiment == whole == "negative"
    stance = {h.evidence: h.sentiment for h in tagged.hits if h.kind == "touchpoint"}
    assert stance.get("поддержкой") == "positive"  # a touchpoint keeps its sentence's stance


def test_a_long_post_takes_the_mean_of_its_whole_text_and_its_sentences(tagger):
    praise = "Доволен связью, всё отлично работает у меня дома и на даче."
    long_post = " ".join([praise] * 9 + ["Нет, не, ужас. " * 7])
    whole = lexicon_sentiment([long_post])[0].scores
    assert whole["negative"] == 0.8  # 21 negative cue words against 18 positive
    tagged = tagger.tag_batch([("m1", long_post, "h")])[0]
    sentences = [s["label"] for s in tagged.tags[1].evidence["sentences"]]
    assert sentences == ["negative"] * 3  # the evidence: sentences that carry the verdict
    weight = 9 * len(praise) / (9 * len(praise) + 7 * len("Нет, не, ужас."))
    negative = (0.8 + 0.1 * weight + 0.8 * (1 - weight)) / 2
    assert tagged.sentiment == "negative"
    assert tagged.tags[1].score == pytest.approx(negative, abs=1e-3)


def test_a_batch_is_read_once_per_sentence_and_once_whole_per_post_of_several(tagger):
    posts = ["Волна списала деньги.", "Ужас, нет, не то. Доволен поддержкой.", "Great."]
    reading = tagger.read(posts, ["ru", "ru", "en"])
    assert [len(group) for group in reading.units] == [1, 2, 1]
    assert [reading.span(i) for i in range(3)] == [slice(0, 1), slice(1, 3), slice(3, 4)]
    assert tagger.encoder.texts == [text for group in reading.units for text in group]
    assert set(reading.wholes) == {1}  # a one-sentence post is its sentence
    assert reading.wholes[1].label == "negative"
    assert [p.label for p in reading.predictions[reading.span(1)]] == ["negative", "positive"]
    vector = reading.post_vector(1)
    assert vector.shape == (reading.vectors.shape[1],)
    assert float((vector ** 2).sum()) == pytest.approx(1.0, abs=1e-5)

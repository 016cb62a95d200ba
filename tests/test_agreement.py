import pytest

import store
from insights.agreement import correction_agreement, label_for_rating, rating_agreement
from store.tags import Tag, write_tags

pytestmark = pytest.mark.both_backends


@pytest.mark.parametrize(("rating", "best", "label"), [
    (5, 5, "positive"), (4, 5, "positive"), (3, 5, "neutral"), (2, 5, "negative"),
    (1, 5, "negative"), (8, 10, "positive"), (4.5, None, "positive")])
def test_stars_map_to_labels(rating, best, label):
    assert label_for_rating(rating, best) == label


def test_agreement_with_stars_and_with_people(db, make_mention):
    rows = [("1", 5, "positive"), ("2", 1, "negative"), ("3", 2, "positive"),
            ("4", None, "neutral")]
    for key, rating, predicted in rows:
        store.upsert_mention(db, make_mention(url=f"https://r.example/{key}", kind="review",
                                              rating=rating, rating_max=5 if rating else None))
        mention = store.mention_id("forum", f"https://r.example/{key}")
        write_tags(db, [Tag(mention, "sentiment", predicted, 0.9, "m", "1", "h")])
    stars = rating_agreement(db)
    assert stars["n"] == 3 and stars["agreement"] == round(2 / 3, 3)
    assert stars["confusion"]["negative->positive"] == 1
    third = store.mention_id("forum", "https://r.example/3")
    store.add_correction(db, third, "sentiment", "neutral")
    store.add_correction(db, third, "sentiment", "negative", note="sarcasm")
    humans = correction_agreement(db)
    assert humans == {"n": 1, "agreement": 0.0, "confusion": {"negative->positive": 1}}
    assert db.execute("SELECT old_value FROM corrections").fetchall() == [("positive",),
                                                                          ("positive",)]


def test_bad_corrections_are_refused(db, make_mention):
    store.upsert_mention(db, make_mention())
    mention = store.mention_id("forum", make_mention()["url"])
    with pytest.raises(store.StoreError, match="sentiment 'great' is not one of"):
        store.add_correction(db, mention, "sentiment", "great")
    with pytest.raises(store.StoreError, match="cannot correct 'language'"):
        store.add_correction(db, mention, "language", "uk")
    with pytest.raises(store.StoreError, match="no mention 'nope'"):
        store.add_correction(db, "nope", "sentiment", "neutral")

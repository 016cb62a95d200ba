import numpy as np
import pytest

import store
from store.embeddings import load_embeddings, write_embeddings

pytestmark = pytest.mark.both_backends


def test_vectors_round_trip_and_go_with_their_mention(db, make_mention):
    for i in range(3):
        store.upsert_mention(db, make_mention(url=f"https://f.example/{i}", text=f"пост {i}"))
    ids = [store.mention_id("forum", f"https://f.example/{i}") for i in range(3)]
    vectors = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert write_embeddings(db, "e5", zip(ids, vectors, strict=True)) == 3
    loaded_ids, matrix = load_embeddings(db, "e5")
    assert sorted(ids) == loaded_ids
    assert np.array_equal(matrix[loaded_ids.index(ids[1])], vectors[1])
    some, part = load_embeddings(db, "e5", [ids[2]])
    assert some == [ids[2]] and np.array_equal(part[0], vectors[2])
    assert load_embeddings(db, "other")[0] == []
    db.execute("DELETE FROM mentions WHERE id = ?", [ids[0]])
    assert len(load_embeddings(db, "e5")[0]) == 2

"""A sentence reader that keeps the real models' reading of each text, so a test module
reads every text once however many fits and tag runs it makes."""

import numpy as np


class Remembering:
    """Wraps a real reader (``nlp.sentence_reader``): the same answers, each text read once."""

    gives_vectors = True

    def __init__(self, reader):
        self.reader, self.seen = reader, {}

    def vectors(self, texts):
        return self.read(texts)[1]

    def read(self, texts):
        new = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if new:
            predictions, vectors = self.reader.read(new)
            self.seen.update(zip(new, zip(predictions, vectors, strict=True), strict=True))
        pairs = [self.seen[t] for t in texts]
        return [p for p, _ in pairs], np.array([v for _, v in pairs], dtype=np.float32)

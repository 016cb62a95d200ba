"""Sentiment and a sentence vector for each text, in as few encoder passes as the models allow.

The shipped sentiment model is multilingual-e5-small fine-tuned with its lowest layers frozen:
those layers are the base encoder's own. ``SharedPass`` runs them once per text; the
sentiment model's upper layers give the label, the base encoder's upper layers the
e5 sentence vector (mean-pooled, unit length) that touchpoints and complaint clusters use.
``SeparatePasses`` is the general case (any sentiment model): one pass of each model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from nlp.sentiment import LABELS, SentimentModel, sentiments_of

Predict = Callable[[list[str]], list]


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """Unit-length mean of ``hidden`` over the tokens ``mask`` keeps (float32 numpy)."""
    weights = mask.unsqueeze(-1).to(torch.float32)
    pooled = (hidden.float() * weights).sum(1) / weights.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy()


class SeparatePasses:
    """Any sentiment model and any encoder, each run on the texts."""

    def __init__(self, predict: Predict, encoder):
        self.predict, self.encoder = predict, encoder
        self.gives_vectors = encoder is not None

    def read(self, texts: Sequence[str]) -> tuple[list, np.ndarray | None]:
        """Sentiments and vectors (None without an encoder) of ``texts``."""
        texts = list(texts)
        return (self.predict(texts) if texts else []), self.vectors(texts)

    def vectors(self, texts: Sequence[str]) -> np.ndarray | None:
        """The vectors of ``texts`` alone (None without an encoder)."""
        return self.encoder.encode(list(texts)) if self.encoder is not None else None


class SharedPass:
    """One pass over the layers the sentiment model shares with the base encoder."""

    gives_vectors = True

    def __init__(self, sentiment: SentimentModel, encoder):
        shared = sentiment.shared_layers
        if not shared:
            raise ValueError("the sentiment model shares no layers with the base encoder")
        self.sentiment = sentiment
        self.shared = shared
        self.encoder = encoder
        self.upper = encoder.model.encoder.layer[shared:]
        self.dim = encoder.dim

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts`` alone: the base encoder's pass, without the sentiment's."""
        return self.encoder.encode(list(texts))

    @torch.inference_mode()
    def read(self, texts: Sequence[str], batch_size: int = 64) -> tuple[list, np.ndarray]:
        """Sentiments and unit e5 vectors of ``texts``, in input order."""
        probabilities = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        model = self.sentiment.model
        device = next(model.parameters()).device
        for rows, input_ids, mask in self.sentiment.batches(list(texts), batch_size):
            input_ids, mask = input_ids.to(device), mask.to(device)
            out = model(input_ids=input_ids, attention_mask=mask, output_hidden_states=True)
            probabilities[rows] = self.sentiment.label_probabilities(out.logits)
            hidden = out.hidden_states[self.shared]
            blocked = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(
                hidden.dtype).min
            for layer in self.upper:
                hidden = layer(hidden, attention_mask=blocked)
                hidden = hidden[0] if isinstance(hidden, tuple) else hidden
            vectors[rows] = mean_pool(hidden, mask)
        return sentiments_of(probabilities), vectors

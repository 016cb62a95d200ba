"""Tagging speed: posts per second and peak memory of each tagger stage on generated posts.

    .venv/bin/python bench/tag_speed.py [--posts 10000] [--precisions fp32,int8,bf16]
        [--model DIR] [--onnx] [--reference-posts N] [--no-reference] [--no-full] [--json OUT]

Stage ``sentiment`` times ``nlp.sentiment.predict`` on mixed ru/uk/en posts of realistic
lengths (most under 300 characters, a tail to 3,000), and, on the same posts, the Hugging Face
``pipeline("text-classification")`` with an XLM-R-base-sized model (``XLMRobertaConfig()``
defaults but the vocabulary size of our tokenizer; random weights) as the reference, by
default on the first 2,000 of the same posts (the rate, posts/s, is what is compared).
``--onnx`` adds the model exported to ONNX and run by ONNX Runtime, fp32 and dynamic int8.
Every run of our model reports the share of its labels equal to the fp32 model's.
Stage ``full`` is ``otklik tag`` on the same posts stored as forum mentions in a fresh
store: language, sentiment per post, sentence and brand, spaCy entities, cue and semantic
touchpoints, intents, evidence, complaint embeddings, writes. Most posts name a catalogue
brand, as a listening store's do. Each measurement runs in its own process, so its peak
memory (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREADS = 2

SENTENCES = {
    "ru": [
        "Третий день нет мобильного интернета, а деньги за тариф списали.",
        "Оператор поддержки вежливо всё объяснил и вернул деньги за роуминг.",
        "Подключил домашний интернет, скорость как обещали.",
        "В приложении снова ошибка при оплате картой.",
        "Почему тариф подорожал без предупреждения?",
        "Спасибо, что так быстро починили станцию у нас в районе!",
        "Полчаса жду ответа на горячей линии, это издевательство.",
        "Перешёл с другого оператора по номеру, всё прошло гладко.",
        "Курьер привёз сим-карту вовремя.",
        "Связь в метро пропадает на каждой станции.",
        "Подскажите, как отключить платную подписку?",
        "Офис на Ленина работает до восьми вечера.",
        "Качество звонков стало заметно лучше после обновления.",
        "Уже месяц не могу добиться перерасчёта за неработающий интернет.",
        "Тариф нормальный, но роуминг дорогой.",
    ],
    "uk": [
        "Третій день немає мобільного інтернету, а гроші за тариф зняли.",
        "Оператор підтримки ввічливо все пояснив і повернув кошти.",
        "Підключив домашній інтернет, швидкість як обіцяли.",
        "У застосунку знову помилка під час оплати карткою.",
        "Чому тариф подорожчав без попередження?",
        "Дякую, що так швидко полагодили вежу в нашому районі!",
        "Пів години чекаю на відповідь гарячої лінії, це знущання.",
        "Перейшов від іншого оператора зі своїм номером, усе пройшло добре.",
        "Кур'єр привіз сім-картку вчасно.",
        "Зв'язок зникає щоразу, коли заходжу в ліфт.",
        "Підкажіть, як вимкнути платну підписку?",
        "Магазин на Хрещатику працює до дев'ятої вечора.",
        "Якість дзвінків стала помітно кращою після оновлення.",
        "Вже місяць не можу домогтися перерахунку за інтернет, що не працює.",
        "Тариф нормальний, але роумінг дорогий.",
    ],
    "en": [
        "No mobile data for three days and they still charged me for the plan.",
        "The support agent was polite, explained everything and refunded the roaming fee.",
        "Got home broadband installed, speed is exactly as promised.",
        "The app fails again when I pay by card.",
        "Why did my plan get more expensive without any notice?",
        "Thanks for fixing the mast in our area so quickly!",
        "Been on hold with the hotline for half an hour, this is ridiculous.",
        "Ported my number from another carrier, everything went smoothly.",
        "The courier delivered the SIM card on time.",
        "Signal drops every time I take the subway.",
        "How do I cancel the paid subscription?",
        "The store on Main Street is open until 8 pm.",
        "Call quality is noticeably better since the update.",
        "A month later I still can't get a refund for the broken internet.",
        "The plan is fine but roaming is expensive.",
    ],
}
EXTRAS = (" 😡", " 👍", " 🙏", "!!!", " @support", " #связь", " https://t.me/c/123/456", " :(")
BRANDS = {"ru": ("Волна", "В Волне", "Теленова", "Volna"), "uk": ("Волна", "У Волні", "Теленова"),
          "en": ("Volna", "Telenova", "My Volna")}


def generate_posts(n: int = 10_000, seed: int = 13) -> list[str]:
    """``n`` posts, half Russian, a quarter each Ukrainian and English; lengths log-normal
    (median ~110 characters, ~85% under 300), a few long posts up to 3,000 characters."""
    rng = random.Random(seed)
    posts = []
    for _ in range(n):
        lang = rng.choices(("ru", "uk", "en"), weights=(2, 1, 1))[0]
        target = int(min(3000, max(15, rng.lognormvariate(4.7, 0.85))))
        if rng.random() < 0.02:  # long complaints and reviews
            target = rng.randint(1000, 3000)
        text = f"{rng.choice(BRANDS[lang])}: " if rng.random() < 0.7 else ""
        while len(text) < target:
            text += (" " if text else "") + rng.choice(SENTENCES[lang])
            if rng.random() < 0.15:
                text += rng.choice(EXTRAS)
        cut = text[:target].rsplit(" ", 1)[0] if len(text) > target else text
        posts.append(cut or text[:target])
    return posts


# --------------------------------------------------------------------------- stages
# Each stage is a function (posts, options) -> figures that runs in a child process.


def stage_sentiment(posts: list[str], options: dict) -> dict:
    """``nlp.sentiment.predict`` with the configured model at ``options["precision"]``."""
    import dataclasses

    import torch

    from nlp import sentiment
    from nlp.model_config import load_nlp_config

    torch.set_num_threads(THREADS)
    settings = dataclasses.replace(load_nlp_config().sentiment, precision=options["precision"])
    if options.get("model"):
        settings = dataclasses.replace(settings, model=options["model"])
    start = time.perf_counter()
    model = sentiment.load_model(settings)
    load_s = time.perf_counter() - start
    model.predict(posts[:64])  # warm-up: first-call kernel setup
    figures, predicted = _timed(lambda: model.predict(posts, batch_size=64), len(posts))
    _save_labels(options, [p.label for p in predicted])
    return figures | {"what": f"nlp.sentiment.predict, {model.precision}",
                      "model": model.version, "load_s": round(load_s, 1)}


def stage_onnx(posts: list[str], options: dict) -> dict:
    """The configured model exported to ONNX and run by ONNX Runtime (2 threads), in fp32 or
    with dynamic int8 quantization of its matrix products (per channel); same tokens and
    length-sorted batches of 64 as ``nlp.sentiment``."""
    import dataclasses

    import numpy as np
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from nlp import sentiment
    from nlp.model_config import load_nlp_config

    torch.set_num_threads(THREADS)
    settings = dataclasses.replace(load_nlp_config().sentiment, precision="fp32")
    if options.get("model"):
        settings = dataclasses.replace(settings, model=options["model"])
    model = sentiment.load_model(settings)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sentiment.onnx"
        _export_onnx(model.model, path)
        if options["quantize"]:
            quantize_dynamic(path, path.with_suffix(".int8.onnx"), per_channel=True,
                             weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
            path = path.with_suffix(".int8.onnx")
        session_options = onnxruntime.SessionOptions()
        session_options.intra_op_num_threads, session_options.inter_op_num_threads = THREADS, 1
        session = onnxruntime.InferenceSession(str(path), session_options,
                                               providers=["CPUExecutionProvider"])

    def predict() -> list[str]:
        labels = [""] * len(posts)
        for rows, input_ids, mask in model.batches(posts, batch_size=64):
            logits = session.run(None, {"input_ids": input_ids.numpy(),
                                        "attention_mask": mask.numpy()})[0]
            probs = model.label_probabilities(torch.from_numpy(logits))
            for r, best in zip(rows, probs.argmax(-1).tolist(), strict=True):
                labels[r] = sentiment.LABELS[best]
        return labels

    session.run(None, {"input_ids": np.ones((1, 8), np.int64),
                       "attention_mask": np.ones((1, 8), np.int64)})  # warm-up
    figures, labels = _timed(predict, len(posts))
    _save_labels(options, labels)
    kind = "dynamic int8" if options["quantize"] else "fp32"
    return figures | {"what": f"ONNX Runtime, {kind}", "model": model.version}


def _export_onnx(model, path: Path) -> None:
    import torch

    class Logits(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits

    example = (torch.ones((2, 16), dtype=torch.long), torch.ones((2, 16), dtype=torch.long))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "logits": {0: "batch"}}
    torch.onnx.export(Logits(model), example, str(path), input_names=list(axes)[:2],
                      output_names=["logits"], dynamic_axes=axes, opset_version=17,
                      dynamo=False)


def _save_labels(options: dict, labels: list[str]) -> None:
    if options.get("labels_out"):
        Path(options["labels_out"]).write_text(json.dumps(labels))


def stage_reference(posts: list[str], options: dict) -> dict:
    """``pipeline("text-classification")`` on an XLM-R-base-sized model, random weights."""
    import torch
    from transformers import (
        AutoTokenizer,
        XLMRobertaConfig,
        XLMRobertaForSequenceClassification,
        pipeline,
    )

    from models.base_encoder import ensure_base_model

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(ensure_base_model())
    # XLMRobertaConfig() defaults (12 layers, hidden 768, FFN 3072) but a vocabulary our
    # tokenizer fits in: the default 30,522 entries would fail on its ids.
    config = XLMRobertaConfig(vocab_size=len(tokenizer), num_labels=3,
                              pad_token_id=tokenizer.pad_token_id)
    model = XLMRobertaForSequenceClassification(config).eval()
    pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
    kwargs = {"batch_size": 64, "truncation": True, "max_length": 256}
    pipe(posts[:64], **kwargs)
    return _timed(lambda: pipe(posts, **kwargs), len(posts))[0] | {
        "what": "transformers pipeline, XLM-R-base-sized (random weights)",
        "parameters": sum(p.numel() for p in model.parameters())}


def stage_full(posts: list[str], options: dict) -> dict:
    """``otklik tag``'s work: the default tagger over the posts stored in a fresh store."""
    import torch

    import store
    from nlp.tagger import Tagger, tag_pending
    from nlp.touchpoint_learning import prepare

    torch.set_num_threads(THREADS)
    with tempfile.TemporaryDirectory() as tmp, store.open_db(Path(tmp) / "bench.db") as db:
        store.upsert_mentions(db, (
            {"source": "forum", "url": f"https://forum.example.com/t/{i // 20}#p{i}",
             "kind": "post", "text": text, "thread_id": str(i // 20),
             "author_handle": f"user{i % 997}",
             "published_at": f"2026-10-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00"}
            for i, text in enumerate(posts)))
        start = time.perf_counter()
        tagger = Tagger.default()
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        prepare(db, tagger)  # a first run fits the store's touchpoint model
        fit_s = time.perf_counter() - start
        figures = _timed(lambda: tag_pending(db, tagger), len(posts))[0]
        counts = dict(db.execute("SELECT kind, count(*) FROM hits GROUP BY kind").fetchall())
    return figures | {"what": "otklik tag (the whole tagger, stored)",
                      "load_s": round(load_s, 1), "fit_s": round(fit_s, 1), "hits": counts}


STAGES = {"sentiment": stage_sentiment, "onnx": stage_onnx, "reference": stage_reference,
          "full": stage_full}


def _timed(run, n: int) -> tuple[dict, object]:
    """The figures of ``run()`` over ``n`` posts, and what it returned."""
    usage0, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - usage0.ru_utime - usage0.ru_stime
    return {"posts": n, "seconds": round(seconds, 2), "posts_per_s": round(n / seconds, 1),
            "cpu_s": round(cpu, 1), "posts_per_cpu_s": round(n / cpu, 1)}, result


def run_stage(stage: str, posts_file: Path, limit: int, options: dict) -> dict:
    """Run ``stage`` in a fresh process; its figures plus its peak resident memory."""
    command = [sys.executable, __file__, "--child", stage, "--posts-file", str(posts_file),
               "--limit", str(limit), "--options", json.dumps(options)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(f"stage {stage} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(stage: str, posts_file: Path, limit: int, options: dict) -> None:
    posts = json.loads(posts_file.read_text(encoding="utf-8"))
    posts = posts[:limit] if limit else posts
    figures = STAGES[stage](posts, options)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures))


def bench_sentiment(posts_file: Path, args) -> list[dict]:
    """The sentiment part: our model at each precision (and in ONNX Runtime), the reference.

    Each of ours also gets ``agreement``: the share of labels equal to the fp32 model's."""
    folder = posts_file.parent
    runs = [("sentiment", {"precision": p, "model": args.model})
            for p in dict.fromkeys(["fp32", *args.precisions.split(",")])]
    if args.onnx:
        runs += [("onnx", {"quantize": q, "model": args.model}) for q in (False, True)]
    results = []
    for n, (stage, options) in enumerate(runs):
        options["labels_out"] = str(folder / f"labels{n}.json")
        results.append(run_stage(stage, posts_file, 0, options))
    fp32 = json.loads((folder / "labels0.json").read_text())
    for n, figures in enumerate(results):
        labels = json.loads((folder / f"labels{n}.json").read_text())
        figures["agreement"] = round(sum(map(str.__eq__, labels, fp32)) / len(fp32), 4)
    if not args.no_reference:
        results.append(run_stage("reference", posts_file, args.reference_posts, {}))
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--posts", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--precisions", default="fp32,int8,bf16",
                   help="comma-separated: fp32, int8, bf16, true (as quantize: true)")
    p.add_argument("--model", help="time this sentiment model instead of data/nlp.yaml's")
    p.add_argument("--no-reference", action="store_true")
    p.add_argument("--reference-posts", type=int, default=2000,
                   help="time the reference on the first N of the same posts (0: all; it "
                        "runs ~20x slower, the whole 10,000 take most of an hour on 2 cores)")
    p.add_argument("--onnx", action="store_true",
                   help="also export the model to ONNX and time ONNX Runtime, fp32 and int8")
    p.add_argument("--no-full", dest="full", action="store_false",
                   help="skip timing the whole tagger")
    p.add_argument("--json", type=Path)
    p.add_argument("--child", choices=sorted(STAGES), help=argparse.SUPPRESS)
    p.add_argument("--posts-file", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child, args.posts_file, args.limit, json.loads(args.options))
        return 0

    posts = generate_posts(args.posts, args.seed)
    lengths = sorted(len(t) for t in posts)
    print(f"{len(posts)} posts: median {lengths[len(lengths) // 2]} characters, "
          f"{sum(n < 300 for n in lengths) / len(lengths):.0%} under 300, "
          f"longest {lengths[-1]}; {THREADS} torch threads; load average "
          f"{os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        posts_file = Path(tmp) / "posts.json"
        posts_file.write_text(json.dumps(posts, ensure_ascii=False), encoding="utf-8")
        results = bench_sentiment(posts_file, args)
        if args.full:
            results.append(run_stage("full", posts_file, 0, {}))
    for r in results:
        print(f"{r['what']}: {r['posts_per_s']} posts/s ({r['posts']} posts in {r['seconds']} s; "
              f"{r['posts_per_cpu_s']} posts per CPU-second), peak memory {r['peak_rss_mb']} MB")
    for r in results:
        if "agreement" in r:
            print(f"labels equal to fp32's: {r['what']}: {r['agreement']:.2%}")
    ours = [r for r in results if r["what"].startswith(("nlp.sentiment", "ONNX"))]
    reference = [r for r in results if r["what"].startswith("transformers")]
    for r in ours:
        for ref in reference:
            print(f"ratio {r['what']} / reference: {r['posts_per_s'] / ref['posts_per_s']:.1f}x")
    print(f"load average {os.getloadavg()[0]:.2f} at end (other work on the machine slows "
          "every figure; posts per CPU-second is less sensitive to it)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

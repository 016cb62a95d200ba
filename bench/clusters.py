"""Benchmark complaint clustering against the labelled complaint sets.

    python bench/clusters.py [--data DIR] [--split test] [--tune] [--sizes 10000 100000]

Quality: each set's split (``test`` by default; ``--tune`` compares the alternative steps on
``dev``) is clustered by ``ClusterPipeline`` and scored against its known categories:
adjusted Rand index and NMI over all posts (noise counted as one more cluster), NMI and
purity over the clustered posts, coverage (share clustered). Timing: the reduce + cluster
steps alone, the labels apart, and a whole ``ClusterPipeline.run`` on precomputed embeddings
(labels, centres, distances), on samples of the train splits; sizes above the real
texts are filled with copies of their embeddings plus small Gaussian noise (said in the
output). Embeddings are computed once with the e5 encoder and cached as .npy under --cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from insights.cluster_steps import (  # noqa: E402
    AverageLinkage,
    PCAReducer,
    TfidfEmbedder,
    unit_rows,
)
from insights.clustering import ClusterPipeline  # noqa: E402
from insights.phrases import ClassTfidfLabeler  # noqa: E402

DATA = Path("/work/shared/data/complaints")
CACHE = Path("/work/runs/otklik_clusters/cache")
SETS = ("bitext_customer_support_requests", "banking77", "gazprombank_reviews_ru")
TIMING_SETS = ("bitext_customer_support_requests", "banking77")
NOISE_SD = 0.005  # per dimension, on unit 384-d vectors: a copy keeps cosine ≈ 0.995
_encoder = None


def load_split(data: Path, name: str, split: str) -> tuple[list[str], list[str]]:
    """Texts and categories of one split."""
    rows = [json.loads(line) for line in (data / name / f"{split}.jsonl").open(encoding="utf-8")
            if line.strip()]
    return [r["text"] for r in rows], [str(r["category"]) for r in rows]


def embeddings(texts: list[str], tag: str, cache: Path) -> np.ndarray:
    """e5 vectors of ``texts``, cached under ``cache`` by tag and content hash."""
    global _encoder
    digest = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:12]
    path = cache / f"{tag}.{digest}.npy"
    if path.exists():
        return np.load(path)
    if _encoder is None:
        from nlp.embeddings import Encoder

        _encoder = Encoder()
    start = time.perf_counter()
    vectors = _encoder.encode(texts)
    print(f"  embedded {tag}: {len(texts)} texts in {time.perf_counter() - start:.0f} s",
          flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def scores(truth: list[str], labels: np.ndarray) -> dict:
    """ARI / NMI over all (noise = one cluster), NMI / purity over clustered, coverage."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    truth_arr = np.asarray(truth)
    clustered = labels >= 0
    majority = 0
    for cluster in set(labels[clustered].tolist()):
        _, counts = np.unique(truth_arr[labels == cluster], return_counts=True)
        majority += counts.max()
    n_in = int(clustered.sum())
    return {"k": len(set(labels[clustered].tolist())), "coverage": clustered.mean(),
            "ari": adjusted_rand_score(truth_arr, labels),
            "nmi": normalized_mutual_info_score(truth_arr, labels),
            "nmi_in": normalized_mutual_info_score(truth_arr[clustered], labels[clustered])
            if n_in else 0.0,
            "purity": majority / n_in if n_in else 0.0}


def row(name: str, n: int, s: dict, extra: str = "") -> str:
    return (f"| {name} | {n} | {s['k']} | {s['coverage']:.2f} | {s['ari']:.3f} | {s['nmi']:.3f} "
            f"| {s['nmi_in']:.3f} | {s['purity']:.3f} |{extra}")


HEADER = ("| set | posts | clusters | coverage | ARI | NMI | NMI clustered | purity |{}\n"
          "|---|---|---|---|---|---|---|---|{}")


def cluster_labels(vectors: np.ndarray, reduce, cluster) -> np.ndarray:
    reduced = reduce.fit_transform(vectors) if reduce else unit_rows(vectors)
    return np.asarray(cluster.fit_predict(reduced))


def alternatives() -> list[tuple[str, object, object]]:
    """(name, reducer, clusterer) compared by --tune."""
    from sklearn.cluster import HDBSCAN

    out = []
    for dims in (None, 50, 100):
        for threshold in (0.6, 0.65, 0.7, 0.75, 0.8):
            out.append((f"average-link t={threshold} / {'centre' if dims is None else dims}",
                        PCAReducer(dims), AverageLinkage(threshold)))
    for size in (5, 10, 20):
        out.append((f"HDBSCAN mcs={size} ms=3 / 50", PCAReducer(50),
                    HDBSCAN(min_cluster_size=size, min_samples=3, copy=True)))
    return out


def tune(args) -> None:
    """Compare alternatives on the dev splits; mean NMI over the sets decides."""
    from sklearn.cluster import KMeans

    data = {name: load_split(args.data, name, "dev") for name in args.sets}
    vectors = {name: embeddings(data[name][0], f"{name}.dev", args.cache) for name in args.sets}
    print(f"## Alternatives on dev ({', '.join(f'{n} {len(data[n][0])}' for n in args.sets)})\n")
    print("| steps | " + " | ".join(f"{n[:12]} NMI / ARI / cov" for n in args.sets)
          + " | mean NMI | seconds |")
    print("|---|" + "---|" * (len(args.sets) + 2))
    for name, reduce, cluster in alternatives():
        cells, nmis, start = [], [], time.perf_counter()
        for set_name in args.sets:
            s = scores(data[set_name][1], cluster_labels(vectors[set_name], reduce, cluster))
            cells.append(f"{s['nmi']:.3f} / {s['ari']:.3f} / {s['coverage']:.2f}")
            nmis.append(s["nmi"])
        print(f"| {name} | " + " | ".join(cells)
              + f" | {np.mean(nmis):.3f} | {time.perf_counter() - start:.1f} |", flush=True)
    cells, nmis = [], []
    for set_name in args.sets:  # the fallback embedder, default later steps
        tfidf = TfidfEmbedder().encode(data[set_name][0])
        s = scores(data[set_name][1], cluster_labels(tfidf, PCAReducer(), AverageLinkage()))
        cells.append(f"{s['nmi']:.3f} / {s['ari']:.3f} / {s['coverage']:.2f}")
        nmis.append(s["nmi"])
    print("| TF-IDF char n-grams (fallback) + defaults | " + " | ".join(cells)
          + f" | {np.mean(nmis):.3f} | |")
    cells, nmis = [], []
    for set_name in args.sets:
        k = len(set(data[set_name][1]))
        labels = KMeans(k, n_init=3, random_state=0).fit_predict(vectors[set_name])
        s = scores(data[set_name][1], labels)
        cells.append(f"{s['nmi']:.3f} / {s['ari']:.3f} / 1.00")
        nmis.append(s["nmi"])
    print("| (reference, needs k) k-means, true k / raw e5 | " + " | ".join(cells)
          + f" | {np.mean(nmis):.3f} | |")


def quality(args) -> None:
    print(f"## Quality on {args.split} (default pipeline; noise = one cluster in ARI and NMI)\n")
    print(HEADER.format(" label of the largest cluster |", "---|"))
    for name in args.sets:
        texts, truth = load_split(args.data, name, args.split)
        vectors = embeddings(texts, f"{name}.{args.split}", args.cache)
        ids = [f"{name}:{i}" for i in range(len(texts))]
        result = ClusterPipeline().run(ids, texts, embeddings=vectors)
        index = {m: i for i, m in enumerate(ids)}
        labels = np.full(len(ids), -1)
        for k, cluster in enumerate(result.clusters):
            labels[[index[m] for m in cluster.member_ids]] = k
        top = result.clusters[0].label if result.clusters else ""
        print(row(name, len(texts), scores(truth, labels), f" {top} |"), flush=True)


def timing_sample(args) -> tuple[list[str], list[str], np.ndarray]:
    """``--timing-real`` texts drawn from the train splits of the timing sets, with their
    categories and e5 vectors."""
    texts, truth = [], []
    for name in TIMING_SETS:
        t, c = load_split(args.data, name, "train")
        texts += t
        truth += [f"{name}:{x}" for x in c]
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(len(texts), min(args.timing_real, len(texts)), replace=False))
    texts, truth = [texts[i] for i in pick], [truth[i] for i in pick]
    return texts, truth, embeddings(texts, f"timing.train.{len(texts)}", args.cache)


def grown(real: np.ndarray, size: int, rng) -> tuple[np.ndarray, np.ndarray, str]:
    """``size`` vectors: a sample of ``real``, or all of it plus noisy copies; the rows of
    ``real`` each one stands for; and what the data is."""
    if size <= len(real):
        pick = np.sort(rng.choice(len(real), size, replace=False))
        return real[pick], pick, "real sample"
    pick = np.resize(rng.permutation(len(real)), size)
    noise = rng.normal(0, NOISE_SD, (size, real.shape[1])).astype(np.float32)
    noise[: len(real)] = 0
    return (unit_rows(real[pick] + noise), pick,
            f"{len(real)} real + {size - len(real)} noisy copies (sd {NOISE_SD}/dim)")


def timing(args) -> None:
    """Seconds of reduce + cluster, of labels, and of a whole run on given embeddings."""
    texts, truth, real = timing_sample(args)
    rng = np.random.default_rng(0)
    print(f"\n## Timing (train splits of {', '.join(TIMING_SETS)}: {len(real)} real texts)\n")
    print("| posts | data | reduce + cluster s | label s | whole run s | clusters | coverage | ARI "
          "| NMI |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        vectors, pick, note = grown(real, size, rng)
        start = time.perf_counter()
        labels = cluster_labels(vectors, PCAReducer(), AverageLinkage())
        seconds = time.perf_counter() - start
        start = time.perf_counter()
        ClassTfidfLabeler().label([texts[i] for i in pick], labels)
        label_seconds = time.perf_counter() - start
        start = time.perf_counter()
        ClusterPipeline().run([str(k) for k in range(size)], [texts[i] for i in pick],
                              embeddings=vectors)
        whole = time.perf_counter() - start
        s = scores([truth[i] for i in pick], labels)
        print(f"| {size} | {note} | {seconds:.1f} | {label_seconds:.1f} | {whole:.1f} | {s['k']} "
              f"| {s['coverage']:.2f} | {s['ari']:.3f} | {s['nmi']:.3f} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of complaint sets")
    parser.add_argument("--cache", type=Path, default=CACHE, help="embedding cache folder")
    parser.add_argument("--split", default="test", help="split scored for quality")
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--sizes", nargs="*", type=int, default=[10_000, 100_000],
                        help="posts for the timing (none: skip)")
    parser.add_argument("--timing-real", type=int, default=10_000,
                        help="real train texts embedded for the timing (the rest: copies)")
    parser.add_argument("--tune", action="store_true", help="compare alternatives on dev")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# Complaint clusters — {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at start\n")
    if args.tune:
        tune(args)
        return
    quality(args)
    if args.sizes:
        timing(args)


if __name__ == "__main__":
    main()

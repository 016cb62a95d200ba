"""Benchmark complaint clustering against the labelled complaint sets, side by side with
BERTopic on the same embeddings.

    python bench/clusters.py [--data DIR] [--split test] [--tune] [--sizes 10000 100000]

Quality: each set's split (``test`` by default; ``--tune`` compares the alternative steps on
``dev``) is clustered by ``ClusterPipeline`` (its clusters, or sub-themes, and its themes)
and by BERTopic (default UMAP + HDBSCAN + c-TF-IDF, given the same e5 vectors), and scored
against its known categories: adjusted Rand index and NMI over all posts (noise and
BERTopic's outliers counted as one more cluster), NMI over the clustered posts, the share
left out. Timing: our reduce + cluster steps alone, a whole ``ClusterPipeline.run`` (key
phrases and titles too) and BERTopic's ``fit_transform``, all on precomputed embeddings of
``--timing-real`` texts drawn from the train splits; sizes above that are filled with copies
of their embeddings plus small Gaussian noise (said in the output). Embeddings are computed
once with the e5 encoder and cached as .npy under --cache.
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
    """ARI / NMI over all (noise = one cluster), NMI over the clustered, coverage."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    truth_arr = np.asarray(truth)
    clustered = labels >= 0
    return {"k": len(set(labels[clustered].tolist())), "coverage": clustered.mean(),
            "ari": adjusted_rand_score(truth_arr, labels),
            "nmi": normalized_mutual_info_score(truth_arr, labels),
            "nmi_in": normalized_mutual_info_score(truth_arr[clustered], labels[clustered])
            if clustered.any() else 0.0}


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


def post_labels(ids: list[str], groups) -> np.ndarray:
    """One label per post from clusters or themes (-1: in none)."""
    index = {m: i for i, m in enumerate(ids)}
    labels = np.full(len(ids), -1)
    for k, group in enumerate(groups):
        labels[[index[m] for m in group.member_ids]] = k
    return labels


def bertopic_topics(texts: list[str], vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """BERTopic's topics (-1: outlier) with its default steps (UMAP 5-d, HDBSCAN
    min_cluster_size 10, c-TF-IDF) on the given embeddings; ``seed`` fixes UMAP."""
    from bertopic import BERTopic
    from umap import UMAP

    reducer = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                   low_memory=False, random_state=seed)
    topics, _ = BERTopic(umap_model=reducer).fit_transform(texts, embeddings=vectors)
    return np.asarray(topics)


COMPARE = ("| set | posts | method | topics | outliers | ARI | NMI | NMI clustered | seconds |\n"
           "|---|---|---|---|---|---|---|---|---|")


def compare_row(name: str, n: int, method: str, truth: list[str], labels: np.ndarray,
                seconds: float) -> str:
    s = scores(truth, labels)
    return (f"| {name} | {n} | {method} | {s['k']} | {1 - s['coverage']:.2f} | {s['ari']:.3f} "
            f"| {s['nmi']:.3f} | {s['nmi_in']:.3f} | {seconds:.1f} |")


def quality(args) -> None:
    """The default pipeline (clusters and themes) against BERTopic, on the same embeddings."""
    print(f"## Quality on {args.split} (same e5 embeddings; outliers / noise = one cluster in "
          "ARI and NMI)\n")
    print(COMPARE)
    for name in args.sets:
        texts, truth = load_split(args.data, name, args.split)
        vectors = embeddings(texts, f"{name}.{args.split}", args.cache)
        ids = [f"{name}:{i}" for i in range(len(texts))]
        start = time.perf_counter()
        result = ClusterPipeline().run(ids, texts, embeddings=vectors)
        seconds = time.perf_counter() - start
        for method, groups in (("otklik clusters (sub-themes)", result.clusters),
                               ("otklik themes", result.themes)):
            print(compare_row(name, len(texts), method, truth, post_labels(ids, groups),
                              seconds), flush=True)
        for seed in range(args.seeds):
            start = time.perf_counter()
            topics = bertopic_topics(texts, vectors, seed)
            print(compare_row(name, len(texts), f"BERTopic (seed {seed})", truth, topics,
                              time.perf_counter() - start), flush=True)
        if result.themes:
            theme = result.themes[0]
            print(f"|  | | largest theme: {theme.title} — {theme.label} "
                  f"({len(result.sub_themes(theme))} sub-themes) | | | | | | |", flush=True)


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
    """Seconds of our steps and of BERTopic on the same given embeddings."""
    texts, truth, real = timing_sample(args)
    rng = np.random.default_rng(0)
    print(f"\n## Timing (train splits of {', '.join(TIMING_SETS)}: {len(real)} real texts)\n")
    print("| posts | data | method | seconds | topics / clusters | outliers | ARI | NMI |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        vectors, pick, note = grown(real, size, rng)
        sample, known = [texts[i] for i in pick], [truth[i] for i in pick]
        ids = [str(k) for k in range(size)]
        start = time.perf_counter()
        labels = cluster_labels(vectors, PCAReducer(), AverageLinkage())
        runs = [("reduce + cluster", time.perf_counter() - start, labels)]
        start = time.perf_counter()
        result = ClusterPipeline().run(ids, sample, embeddings=vectors)
        whole = time.perf_counter() - start
        runs += [("whole run: clusters", whole, post_labels(ids, result.clusters)),
                 ("whole run: themes", whole, post_labels(ids, result.themes))]
        if size <= args.bertopic_max:
            start = time.perf_counter()
            topics = bertopic_topics(sample, vectors)
            runs.append(("BERTopic fit_transform", time.perf_counter() - start, topics))
        for method, seconds, found in runs:
            s = scores(known, found)
            print(f"| {size} | {note} | {method} | {seconds:.1f} | {s['k']} "
                  f"| {1 - s['coverage']:.2f} | {s['ari']:.3f} | {s['nmi']:.3f} |", flush=True)


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
    parser.add_argument("--seeds", type=int, default=1, help="BERTopic runs per set (seeds)")
    parser.add_argument("--bertopic-max", type=int, default=100_000,
                        help="largest timing size BERTopic is run on")
    parser.add_argument("--timing-only", action="store_true", help="skip the quality part")
    parser.add_argument("--tune", action="store_true", help="compare alternatives on dev")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# Complaint clusters — {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at start\n")
    if args.tune:
        tune(args)
        return
    if not args.timing_only:
        quality(args)
    if args.sizes:
        timing(args)


if __name__ == "__main__":
    main()

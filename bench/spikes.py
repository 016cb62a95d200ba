"""Spike detection on synthetic series: our detector against the plain 7-day mean + 2 sigma rule.

    .venv/bin/python bench/spikes.py [--seeds 1 2] [--dev-seed 0] [--per-cell 90]

Each series is 90 days of hourly negatives with a daily cycle, weekends at ~60 %, a drift of up
to +-15 %, and overdispersion: a gamma day effect (CV 0.22) and a gamma hour effect (CV 0.32)
under the Poisson draw. Volumes: a brand (150 negatives a day), a product (20) and a small
product (2). One planted incident per series, from day 42 on: a sudden jump (6-12 h), a slow
build (the rate climbs for 48-72 h, then 12 h at the top), a weekend incident (12-24 h from a
Saturday morning, against the lower weekend baseline), exactly 8 extra posts within 12-24 h on
the small product; and series with none. Sizes are in the table; smaller ones are reported
apart. The plain rule at 3 sigma is shown too, to compare at a closer false-alarm rate.

An incident is found when an alarm starts between its start and 24 h after its end; delay is
hours from its start to that alarm; every other alarm is false. Alarms count from day 28 on
(four weeks of history). Thresholds were tuned on the dev seed only; quote the report seeds.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from insights.spikes import detect_spikes, plain_rule  # noqa: E402

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
DAYS = 90
EVAL_FROM = 28 * 24
GRACE = 24
VOLUMES = {"brand": 150.0, "product": 20.0, "small": 2.0}
CELLS = [  # (shape, volume, size): rate x (1 + size); on the small product, size extra posts
    ("jump", "brand", 2.0), ("jump", "product", 3.0),
    ("slow build", "brand", 1.5), ("slow build", "product", 2.0),
    ("weekend", "brand", 2.0), ("weekend", "product", 2.0),
    ("small +8", "small", 8),
    ("none", "brand", 0), ("none", "product", 0), ("none", "small", 0),
]
HARD = [  # smaller incidents, reported apart: where both detectors start to miss
    ("jump", "brand", 1.0), ("jump", "product", 2.0), ("slow build", "brand", 1.0),
    ("weekend", "brand", 1.0), ("small +5", "small", 5),
]
HOURS = np.arange(24)
DAILY_CYCLE = 0.25 + np.exp(-(((HOURS - 13) / 4.5) ** 2)) + 0.7 * np.exp(-(((HOURS - 20) / 2) ** 2))
DAILY_CYCLE = DAILY_CYCLE / DAILY_CYCLE.mean()
WEEKLY_CYCLE = np.array([1.1, 1.05, 1.0, 1.0, 1.0, 0.6, 0.55])


def make_series(rng: np.random.Generator, volume: float, shape: str, size: float):
    """Hourly counts and the planted incident's (start, end) hour, or None.

    ``size``: the incident multiplies the rate by ``1 + size`` (at the top of a slow build);
    on the small product it adds exactly that many posts.
    """
    n = DAYS * 24
    hour = np.arange(n)
    weekly = WEEKLY_CYCLE / WEEKLY_CYCLE.mean()
    drift = 1 + rng.uniform(-0.15, 0.15) * (hour / n - 0.5) * 2
    day_noise = rng.gamma(20, 1 / 20, DAYS).repeat(24)
    rate = volume / 24 * DAILY_CYCLE[hour % 24] * weekly[(hour // 24) % 7] * drift * day_noise
    rate = rng.gamma(10, 1 / 10, n) * rate
    lift = np.zeros(n)
    planted = None
    if shape == "jump":
        start = int(rng.integers(42, 84) * 24 + rng.integers(8, 20))
        length = int(rng.integers(6, 13))
        lift[start: start + length] = size
    elif shape == "slow build":
        start = int(rng.integers(42, 80) * 24 + rng.integers(0, 24))
        length = int(rng.integers(48, 73)) + 12
        lift[start: start + length] = np.minimum(np.linspace(0, size * length / (length - 12),
                                                             length), size)
    elif shape == "weekend":
        start = int((rng.integers(42, 80) // 7 * 7 + 5) * 24 + rng.integers(7, 13))
        length = int(rng.integers(12, 25))
        lift[start: start + length] = size
    counts = rng.poisson(rate * (1 + lift))
    if shape.startswith("small +"):
        start = int(rng.integers(42, 84) * 24 + rng.integers(6, 18))
        length = int(rng.integers(12, 25))
        np.add.at(counts, start + rng.integers(0, length, int(size)), 1)
    if shape != "none":
        planted = (start, start + length - 1)
    return counts, planted


def score(incidents, planted):
    """(found, delay hours or None, false alarms) for one series."""
    step = 3600
    found, delay, false = False, None, 0
    for incident in incidents:
        at = int((incident.detected_at - START).total_seconds() // step)
        if at < EVAL_FROM:
            continue
        if planted and planted[0] <= at <= planted[1] + GRACE:
            if not found:
                found, delay = True, at - planted[0]
        else:
            false += 1
    return found, delay, false


DETECTORS = {"ours": detect_spikes, "plain 2σ": plain_rule,
             "plain 3σ": lambda counts, start: plain_rule(counts, start, sigmas=3.0)}


def run_seed(seed: int, cells: list[tuple], per_cell: int) -> dict:
    """Per (cell, detector): hits, planted, delays, false alarms, series-days watched."""
    results = {}
    for shape, volume, size in cells:
        rng = np.random.default_rng([seed, (CELLS + HARD).index((shape, volume, size))])
        for _ in range(per_cell):
            counts, planted = make_series(rng, VOLUMES[volume], shape, size)
            for name, detect in DETECTORS.items():
                found, delay, false = score(detect(counts, START), planted)
                cell = results.setdefault(((shape, volume, size), name), _empty())
                cell["planted"] += planted is not None
                cell["hits"] += found
                cell["delays"] += [] if delay is None else [delay]
                cell["false"] += false
                cell["days"] += (len(counts) - EVAL_FROM) / 24
    return results


def _empty() -> dict:
    return {"hits": 0, "planted": 0, "delays": [], "false": 0, "days": 0.0}


def _add(into: dict, cell: dict) -> None:
    for key in ("hits", "planted", "delays", "false", "days"):
        into[key] += cell[key]


def _label(shape: str, volume: str, size: float) -> str:
    if shape == "none" or shape.startswith("small"):
        return f"{shape} ({volume})"
    top = " at top" if shape == "slow build" else ""
    return f"{shape} x{1 + size:g}{top} ({volume})"


def table(results: dict, cells: list[tuple], title: str, overall: bool = True) -> str:
    """Recall, median delay (h) and false alarms per 30 days per series, per cell."""
    head = f"{'':<30}" + "".join(f" | {name:^22}" for name in DETECTORS)
    sub = f"{'cell':<30}" + " | recall delay_h FA/30d" * len(DETECTORS)
    rows = [f"\n{title}", head, sub]
    totals = {name: _empty() for name in DETECTORS}
    for cell in [*cells, None] if overall else cells:
        line = f"{'overall' if cell is None else _label(*cell):<30}"
        for name in DETECTORS:
            if cell is None:
                figures = totals[name]
            else:
                figures = results[(cell, name)]
                _add(totals[name], figures)
            recall = f"{figures['hits'] / figures['planted']:.2f}" if figures["planted"] else "-"
            delay = f"{np.median(figures['delays']):.0f}" if figures["delays"] else "-"
            line += f" | {recall:>6} {delay:>7} {figures['false'] / figures['days'] * 30:>6.2f}"
        rows.append(line)
    return "\n".join(rows)


def merge(runs: list[dict]) -> dict:
    merged: dict = {}
    for results in runs:
        for key, cell in results.items():
            _add(merged.setdefault(key, _empty()), cell)
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2],
                        help="report seeds, never used for tuning (default 1 2)")
    parser.add_argument("--dev-seed", type=int, default=0, help="the tuning seed (default 0)")
    parser.add_argument("--per-cell", type=int, default=90, help="series per cell (default 90)")
    args = parser.parse_args()
    began = time.perf_counter()
    print(f"{args.per_cell} series of {DAYS} days per cell and seed; alarms counted from day "
          f"{EVAL_FROM // 24}; found = an alarm from the incident's start to {GRACE} h after its "
          f"end; FA/30d = false alarms per 30 days per series")
    dev = run_seed(args.dev_seed, CELLS, args.per_cell)
    print(table(dev, CELLS, f"dev seed {args.dev_seed} (thresholds tuned on this seed)"))
    report = merge([run_seed(seed, CELLS + HARD, args.per_cell) for seed in args.seeds])
    seeds = " ".join(map(str, args.seeds))
    print(table(report, CELLS, f"report seeds {seeds} (not used for tuning)"))
    print(table(report, HARD, f"smaller incidents, report seeds {seeds}", overall=False))
    print(f"\n{time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()

"""Spikes in a count series of negative mentions: seasonal count baseline, tail tests, episodes.

Pure: numpy and scipy only, no I/O. Feed the whole hourly or daily series of one slice
(brand x product x touchpoint x source) on every call; periods must be complete. The detector
is causal (the decision at a period uses only the periods before and at it), so a growing
series keeps earlier incidents, and an ongoing one keeps its ``start``.

Model, refitted at each calendar day from the days before it:
- baseline = level x day-of-week factor x hour-of-day factor, on the *cleaned* series (periods
  of detected incidents replaced by their expectation, so an incident does not become normal).
  Level: mean of the middle two of the last four weekly totals (robust to one bad week).
  Seasonal factors: observed/expected per slot over the last eight weeks, shrunk toward 1 by a
  Gamma prior worth ``prior_counts`` mentions, so a product with two negatives a day gets a
  flat profile; a floor of ``floor_per_week`` keeps the baseline above zero.
- dispersion: negative binomial, ``var = mu + phi mu^2``; ``phi`` by moments on the last eight
  weeks' one-step-ahead residuals of the *observed* series, for each window length apart
  (day-level noise makes a 24 h sum relatively noisier than Poisson says), combined with a
  prior by precision so sparse series keep the prior. (Measured on the cleaned series, every
  alarm took its own noise out of the estimate, so the next alarm came easier: a noisy series
  could talk itself into an alarm a day.)
- a period fires when a trailing window (6, 12, 24, 48 or 72 h; 1, 2, 3 or 7 days) has a NB
  upper-tail probability below ``alpha`` *and* an excess of at least ``min_excess`` mentions
  *and* observed/expected of at least ``min_ratio`` (and, given totals, a negative share up by
  ``min_share_ratio``). Long windows add up the evidence of a slow build; a 3 h window raised
  more false alarms than it found incidents.
- an open incident goes on while a window of up to 24 h (2 days) stays elevated at the lenient
  ``alpha_hold``; it closes after more than ``max_gap`` quiet periods. Its start is the last
  period of the first firing window before which the excess grew by no more than its noise;
  its end the first period after which the excess grew by no more than its noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy import special

PERIODS_PER_DAY = {"hour": 24, "day": 1}
SCALES = {"hour": (6, 12, 24, 48, 72), "day": (1, 2, 3, 7)}
HOLD_SCALES = {"hour": (3, 6, 12, 24), "day": (1, 2)}


@dataclass(frozen=True)
class SpikeParams:
    """Thresholds of the detector; the defaults are tuned by ``bench/spikes.py`` (dev seed)."""

    alpha: float = 3e-3
    min_excess: float = 5.0
    min_ratio: float = 2.0
    min_share_ratio: float = 1.2
    alpha_hold: float = 0.01
    max_gap: int = 1
    history_days: int = 28
    season_days: int = 56
    fit_from_days: int = 7
    min_history_days: int = 14
    prior_counts: float = 10.0
    floor_per_week: float = 0.5
    prior_dispersion: float = 0.1
    prior_dispersion_sd: float = 0.1
    adapt_after_days: float = 7.0


@dataclass(frozen=True)
class Period:
    """One period of an incident: its start time, observed and expected negatives."""

    at: datetime
    observed: float
    expected: float


@dataclass(frozen=True)
class Incident:
    """One contiguous episode of excess negatives (gaps of ``max_gap`` periods merged)."""

    start: datetime
    end: datetime
    detected_at: datetime
    ongoing: bool
    peak_at: datetime
    peak_count: float
    observed: float
    expected: float
    magnitude: float
    p_value: float | None
    window: int
    periods: tuple[Period, ...] = field(repr=False)

    def alert_fields(self) -> dict:
        """The ``alerts`` columns this incident fills, times as ISO-8601 UTC strings."""
        return {
            "started_at": _iso(self.start),
            "last_seen_at": _iso(self.end),
            "magnitude": round(self.magnitude, 3),
            "baseline": round(self.expected, 3),
            "details": {
                "detected_at": _iso(self.detected_at), "ongoing": self.ongoing,
                "peak_at": _iso(self.peak_at), "peak_count": self.peak_count,
                "observed": self.observed, "expected": round(self.expected, 3),
                "p_value": self.p_value, "window_periods": self.window,
                "periods": [[_iso(p.at), p.observed, round(p.expected, 3)] for p in self.periods],
            },
        }


def detect_spikes(counts, start: datetime, period: str = "hour", totals=None,
                  params: SpikeParams | None = None) -> list[Incident]:
    """Incidents in ``counts`` (negatives per period from ``start``), oldest first."""
    return _Detector(counts, start, period, totals, params or SpikeParams()).run()[0]


def expected_counts(counts, start: datetime, period: str = "hour", totals=None,
                    params: SpikeParams | None = None) -> np.ndarray:
    """The one-step-ahead baseline the detector used (NaN before ``fit_from_days``)."""
    return _Detector(counts, start, period, totals, params or SpikeParams()).run()[1]


def plain_rule(counts, start: datetime, period: str = "hour",
               sigmas: float = 2.0) -> list[Incident]:
    """The usual rule, for comparison: the last day above the trailing 7-day mean + 2 sigma.

    Hourly: at every hour, the last 24 h against the seven 24 h sums before them; daily: the day
    against the seven days before. Consecutive alarms (gaps of one period merged) are one incident.
    """
    y, _ = _validate(counts, None, period, start)
    ppd = PERIODS_PER_DAY[period]
    cum = np.concatenate([[0.0], np.cumsum(y)])
    t = np.arange(8 * ppd - 1, len(y))
    day = cum[t + 1] - cum[t + 1 - ppd]
    prior = np.stack([cum[t + 1 - k * ppd] - cum[t + 1 - (k + 1) * ppd] for k in range(1, 8)])
    mean, std = prior.mean(axis=0), prior.std(axis=0, ddof=1)
    alarms = t[day > mean + sigmas * std]
    expected = np.zeros(len(y))
    expected[t] = mean / ppd
    incidents, group = [], []
    for index in alarms.tolist():
        if group and index - group[-1] > 2:
            incidents.append(_plain_incident(group, y, expected, start, period))
            group = []
        group.append(index)
    if group:
        incidents.append(_plain_incident(group, y, expected, start, period))
    return incidents


class _Detector:
    """One pass over a series, a calendar day at a time; state lives here, not in globals."""

    def __init__(self, counts, start, period, totals, params: SpikeParams):
        self.y, self.totals = _validate(counts, totals, period, start)
        self.start, self.period, self.p = start, period, params
        self.ppd = PERIODS_PER_DAY[period]
        self.scales = SCALES[period]
        self.hold_scales = HOLD_SCALES[period]
        n = len(self.y)
        first = start.hour if period == "hour" else 0
        self.hod = (first + np.arange(n)) % self.ppd
        self.dow = (start.weekday() + (first + np.arange(n)) // self.ppd) % 7
        self.mu = np.full(n, np.nan)
        self.clean = self.y.copy()
        self.phi: dict[int, float] = {}
        self.share = None
        self.fit_from = params.fit_from_days * self.ppd
        self.detect_from = max(params.min_history_days * self.ppd, self.fit_from + 1)
        self.incidents: list[Incident] = []
        self.open: dict | None = None

    def run(self) -> tuple[list[Incident], np.ndarray]:
        n = len(self.y)
        boundary = self.fit_from + (-int(self.hod[self.fit_from]) % self.ppd
                                    if self.fit_from < n else 0)
        if boundary > self.fit_from:
            self._fit_block(self.fit_from, boundary)
        for day_start in range(boundary, n, self.ppd):
            day_end = min(day_start + self.ppd, n)
            self._fit_block(day_start, day_end)
            self._scan(day_start, day_end)
        if self.open is not None:
            self._close(n - 1, ongoing=True)
        return self.incidents, self.mu

    def _fit_block(self, b: int, e: int) -> None:
        """Expected counts for periods ``b..e-1`` and dispersion, from the cleaned history."""
        p, ppd = self.p, self.ppd
        a = max(0, b - p.history_days * ppd)
        hist = self.clean[a:b]
        week = 7 * ppd
        weeks = len(hist) // week
        if weeks >= 3:
            totals = np.sort(hist[len(hist) - weeks * week:].reshape(weeks, week).sum(axis=1))
            level = totals[1:-1].mean() / week
        else:
            level = hist.mean()
        level = max(level, p.floor_per_week / week)
        c = max(0, b - p.season_days * ppd)
        season, hod, dow = self.clean[c:b], self.hod[c:b], self.dow[c:b]
        flat = np.full(len(season), season.mean() if len(season) else level)
        day_factor = _shrunk_factors(season, dow, 7, flat, p.prior_counts)
        hour_factor = _shrunk_factors(season, hod, ppd, flat * day_factor[dow], p.prior_counts)
        self.mu[b:e] = np.maximum(level * day_factor[self.dow[b:e]] * hour_factor[self.hod[b:e]],
                                  p.floor_per_week / week)
        if self.totals is not None:
            total = self.totals[a:b].sum()
            self.share = hist.sum() / total if total > 0 else None
        lo = max(c, self.fit_from)
        self.phi = {w: _dispersion(self.y[lo:b], self.mu[lo:b], w, p.prior_dispersion,
                                   p.prior_dispersion_sd)
                    for w in sorted({*self.scales, *self.hold_scales})}

    def _scan(self, b: int, e: int) -> None:
        """Run the state machine over periods ``b..e-1``."""
        fire = None
        for t in range(max(b, self.detect_from), e):
            if self.open is None:
                if fire is None:
                    fire = self._fire_tests(t, e)
                p_value, window = fire[t]
                if window:
                    self._open(t, window, p_value)
                    fire = None
            else:
                self._hold(t)
                if self.open is None:
                    fire = None

    def _fire_tests(self, b: int, e: int) -> dict[int, tuple[float, int]]:
        """Per period of ``b..e-1``: (smallest firing p, its window) or (1.0, 0)."""
        p = self.p
        t = np.arange(b, e)
        best_p, best_w = np.ones(len(t)), np.zeros(len(t), dtype=int)
        obs_cum = _cumsum(self.clean)
        mu_cum = _cumsum(np.nan_to_num(self.mu, nan=0.0))
        tot_cum = _cumsum(self.totals) if self.totals is not None else None
        for w in self.scales:
            observed = obs_cum[t + 1] - obs_cum[np.maximum(t + 1 - w, 0)]
            expected = mu_cum[t + 1] - mu_cum[np.maximum(t + 1 - w, 0)]
            ok = t + 1 - w >= self.fit_from
            ok &= (observed - expected >= p.min_excess) & (observed >= p.min_ratio * expected)
            if tot_cum is not None and self.share:
                total = tot_cum[t + 1] - tot_cum[np.maximum(t + 1 - w, 0)]
                ok &= observed >= p.min_share_ratio * self.share * total
            if not ok.any():
                continue
            tail = np.ones(len(t))
            tail[ok] = nb_tail(observed[ok], expected[ok], self.phi[w])
            better = ok & (tail < p.alpha) & (tail < best_p)
            best_p[better], best_w[better] = tail[better], w
        return {int(i): (float(pv), int(w)) for i, pv, w in zip(t, best_p, best_w, strict=True)}

    def _open(self, t: int, window: int, p_value: float) -> None:
        lo = t + 1 - window
        mu = self.mu[lo: t + 1]
        before = _cumsum(self.y[lo: t + 1] - mu)[:-1]  # excess before each candidate start
        first = int(np.argmin(before))
        # the start: the last period before which the excess grew by no more than its noise
        spread = _cumsum(mu + self.phi[window] * mu**2)[:-1]
        noise = np.sqrt(spread[first:] - spread[first])
        quiet = np.flatnonzero(before[first:] - before[first] <= noise)
        start = lo + first + int(quiet[-1])
        self.open = {"start": start, "detected": t, "window": window, "p": p_value,
                     "last": t, "misses": 0}
        self._clean(start, t)

    def _hold(self, t: int) -> None:
        """Keep the open incident going while a short raw window stays elevated."""
        incident = self.open
        tails = []
        for w in self.hold_scales:
            lo = t + 1 - w
            if lo < self.fit_from:
                continue
            observed, expected = self.y[lo: t + 1].sum(), self.mu[lo: t + 1].sum()
            if observed > expected:
                tails.append(float(nb_tail(observed, expected, self.phi[w])))
        tail = min(tails, default=1.0)
        if tail < self.p.alpha_hold:
            incident["last"], incident["misses"] = t, 0
            incident["p"] = min(incident["p"], tail)
            self._clean(t, t)
        else:
            incident["misses"] += 1
            self._clean(t, t)
            if incident["misses"] > self.p.max_gap:
                self._close(incident["last"], ongoing=False)

    def _clean(self, lo: int, hi: int) -> None:
        limit = self.open["start"] + int(self.p.adapt_after_days * self.ppd)
        hi = min(hi, limit - 1)
        if hi >= lo:
            self.clean[lo: hi + 1] = self.mu[lo: hi + 1]

    def _close(self, last: int, ongoing: bool) -> None:
        incident, self.open = self.open, None
        start = incident["start"]
        mu = self.mu[start: last + 1]
        excess = np.cumsum(self.y[start: last + 1] - mu)
        # the end: the first period after which the excess gained no more than its noise
        spread = np.cumsum((mu + self.phi[self.hold_scales[0]] * mu**2)[::-1])[::-1]
        noise = np.sqrt(np.append(spread[1:], 0.0))
        end = start + int(np.argmax(excess >= excess.max() - noise))
        if ongoing:
            end = max(end, incident["last"])
        self.incidents.append(_incident(
            start, end, incident, ongoing, self.y, self.mu, self.start, self.period))


def nb_tail(observed, expected, phi: float):
    """P(X >= observed) for X negative-binomial with mean ``expected``, var mu + phi mu^2.

    ``phi == 0`` is Poisson. Continuous in ``observed`` so cleaned (fractional) sums work.
    """
    observed = np.asarray(observed, dtype=float)
    expected = np.maximum(np.asarray(expected, dtype=float), 1e-12)
    if phi <= 1e-9:
        tail = special.gammainc(np.maximum(observed, 1e-12), expected)
    else:
        size = 1.0 / phi
        tail = special.betainc(np.maximum(observed, 1e-12), size, expected / (size + expected))
    return np.where(observed <= 0, 1.0, tail)


def _shrunk_factors(hist, slot, slots: int, expected, prior: float) -> np.ndarray:
    """Observed/expected per slot, shrunk toward 1 by ``prior`` pseudo-counts, mean 1."""
    observed = np.bincount(slot, weights=hist, minlength=slots)
    base = np.bincount(slot, weights=expected, minlength=slots)
    factor = (observed + prior) / (base + prior)
    return factor / factor.mean()


def _dispersion(obs, mu, window: int, prior: float, prior_sd: float) -> float:
    """Moment estimate of phi for ``window``-period sums of one-step-ahead residuals.

    Combined with the prior ``prior`` +- ``prior_sd`` by precision, the moment estimate's
    variance taken as Poisson's (``E + 2 E^2`` per window, times the windows' overlap): a busy
    series speaks for itself, a sparse one (two negatives a day) keeps the prior.
    """
    if len(obs) < window:
        return prior
    step = max(1, window // 4)
    observed = np.convolve(obs, np.ones(window), "valid")[::step]
    expected = np.convolve(mu, np.ones(window), "valid")[::step]
    scale = float(np.sum(expected**2))
    if scale <= 0:
        return prior
    estimate = float(np.sum((observed - expected) ** 2 - expected)) / scale
    variance = window / step * float(np.sum(expected + 2 * expected**2)) / scale**2
    weight = prior_sd**2 / (prior_sd**2 + variance)
    return float(np.clip(weight * estimate + (1 - weight) * prior, 0.0, 5.0))


def _incident(start, end, state, ongoing, y, mu, origin, period) -> Incident:
    observed, expected = float(y[start: end + 1].sum()), float(mu[start: end + 1].sum())
    peak = start + int(np.argmax(y[start: end + 1]))
    step = _step(period)
    return Incident(
        start=origin + start * step, end=origin + end * step,
        detected_at=origin + state["detected"] * step, ongoing=ongoing,
        peak_at=origin + peak * step, peak_count=float(y[peak]), observed=observed,
        expected=expected, magnitude=observed / max(expected, 1e-9), p_value=state["p"],
        window=state["window"],
        periods=tuple(Period(origin + i * step, float(y[i]), float(mu[i]))
                      for i in range(start, end + 1)),
    )


def _plain_incident(group, y, expected, origin, period) -> Incident:
    state = {"detected": group[0], "p": None, "window": PERIODS_PER_DAY[period]}
    return _incident(group[0], group[-1], state, group[-1] == len(y) - 1, y, expected, origin,
                     period)


def _validate(counts, totals, period: str, start: datetime):
    if period not in PERIODS_PER_DAY:
        raise ValueError(f"unknown period {period!r}; choose 'hour' or 'day'")
    if start.tzinfo is None or start.utcoffset() != timedelta(0):
        raise ValueError(f"start must be a UTC datetime, got {start!r}")
    if start.minute or start.second or start.microsecond or (period == "day" and start.hour):
        unit = "an hour" if period == "hour" else "a day"
        raise ValueError(f"start {start.isoformat()} is not at the start of {unit}")
    y = np.asarray(counts, dtype=float)
    if y.ndim != 1 or not np.all(np.isfinite(y)) or (y < 0).any():
        raise ValueError("counts must be a 1-D series of non-negative numbers")
    if totals is None:
        return y, None
    total = np.asarray(totals, dtype=float)
    if total.shape != y.shape or (total < y).any():
        raise ValueError("totals must have the length of counts and be at least the counts")
    return y, total


def _cumsum(values) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(values)])


def _step(period: str) -> timedelta:
    return timedelta(hours=1) if period == "hour" else timedelta(days=1)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")

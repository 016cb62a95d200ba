from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from insights.spikes import (
    SpikeParams,
    detect_spikes,
    expected_counts,
    nb_tail,
    plain_rule,
)

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
HOURS = np.arange(24)
DAILY = 0.3 + np.exp(-(((HOURS - 14) / 5) ** 2))
DAILY = DAILY / DAILY.mean()
WEEKLY = np.array([1.1, 1.0, 1.0, 1.0, 1.0, 0.5, 0.4])
WEEKLY = WEEKLY / WEEKLY.mean()


def seasonal(per_day: float, days: int = 70, seed: int = 1):
    """Hourly Poisson negatives with a daily cycle and quiet weekends, and their rate."""
    hour = np.arange(days * 24)
    rate = per_day / 24 * DAILY[hour % 24] * WEEKLY[(hour // 24) % 7]
    return np.random.default_rng(seed).poisson(rate), rate


def hour_of(moment: datetime) -> int:
    return int((moment - START).total_seconds() // 3600)


def detected_within(incidents, first: int, last: int) -> list:
    return [i for i in incidents if first <= hour_of(i.detected_at) <= last]


def test_tail_matches_poisson_and_negative_binomial():
    # P(X >= 10) for Poisson(3) and for NB(mean 3, phi 0.3), from their pmf sums
    poisson = 1 - sum(np.exp(-3) * 3**k / np.prod(range(1, k + 1)) for k in range(10))
    assert nb_tail(10, 3, 0.0) == pytest.approx(poisson, rel=1e-9)
    size, p = 1 / 0.3, (1 / 0.3) / (1 / 0.3 + 3)
    pmf = [1.0]
    for k in range(1, 10):
        pmf.append(pmf[-1] * (k - 1 + size) / k * (1 - p))
    assert nb_tail(10, 3, 0.3) == pytest.approx(1 - p**size * sum(pmf), rel=1e-9)
    assert nb_tail(0, 3, 0.3) == 1.0


def test_series_without_incidents_stay_within_the_false_alarm_budget():
    # ten quiet series of 90 days at brand, product and small-product volume, watched from
    # day 14: at most half the false alarms bench/spikes.py allows (one per 30 days per series)
    for per_day in (100, 20, 2):
        alarms = sum(len(detect_spikes(seasonal(per_day, days=90, seed=seed)[0], START))
                     for seed in range(10))
        assert alarms <= 10 * (90 - 14) / 30 / 2, per_day


def test_spike_found_in_a_series_with_one_and_none_in_a_series_without():
    counts, rate = seasonal(100)
    quiet = detect_spikes(counts, START)
    assert not detected_within(quiet, 50 * 24, 70 * 24)
    jump = counts.copy()
    at = 60 * 24 + 10  # a Friday, 10:00
    jump[at: at + 8] += np.random.default_rng(7).poisson(rate[at: at + 8] * 2)
    incidents = [i for i in detect_spikes(jump, START) if i not in quiet]
    assert len(incidents) == 1
    incident = incidents[0]
    assert at <= hour_of(incident.detected_at) <= at + 3
    assert abs(hour_of(incident.start) - at) <= 2
    assert at + 5 <= hour_of(incident.end) <= at + 10
    assert incident.magnitude > 2
    assert incident.p_value < SpikeParams().alpha
    assert not incident.ongoing
    assert incident.periods[0].at == incident.start
    assert incident.peak_count == max(p.observed for p in incident.periods)


def test_incident_on_a_weekend_is_found_against_the_weekend_baseline():
    counts, rate = seasonal(100)
    saturday = 54 * 24 + 9
    assert (START + timedelta(hours=saturday)).weekday() == 5
    counts[saturday: saturday + 12] += np.random.default_rng(3).poisson(
        rate[saturday: saturday + 12] * 1.5)
    # the same extra on a weekday morning would be within weekday volume
    assert counts[saturday: saturday + 12].sum() < 1.4 * rate[saturday - 120: saturday - 108].sum()
    incidents = detected_within(detect_spikes(counts, START), saturday, saturday + 12)
    assert len(incidents) == 1
    expected = expected_counts(counts, START)
    assert expected[saturday: saturday + 12].sum() < 0.6 * expected[
        saturday - 120: saturday - 108].sum()


def test_slow_build_over_three_days_is_found_while_it_builds():
    counts, rate = seasonal(100)
    start = 56 * 24
    lift = np.minimum(np.linspace(0, 1.2, 72), 1.0)
    counts[start: start + 72] += np.random.default_rng(5).poisson(rate[start: start + 72] * lift)
    # no single hour stands out: the build never more than doubles an hour's rate
    assert (lift <= 1.0).all()
    incidents = detected_within(detect_spikes(counts, START), start, start + 72)
    assert len(incidents) == 1
    assert hour_of(incidents[0].detected_at) < start + 72


def test_low_volume_product_wobble_is_not_an_incident_but_a_real_jump_is():
    counts, _ = seasonal(2, seed=4)
    at = 60 * 24 + 10
    wobble = counts.copy()
    wobble[at] += 2  # 0 -> 2: many times the expectation, still no incident
    quiet = detect_spikes(counts, START)
    assert detect_spikes(wobble, START) == quiet
    jump = counts.copy()
    jump[at: at + 8] += 1  # 0 -> 8 within a working day
    incidents = [i for i in detect_spikes(jump, START) if i not in quiet]
    assert len(incidents) == 1
    assert at <= hour_of(incidents[0].detected_at) <= at + 8
    assert incidents[0].observed - incidents[0].expected >= SpikeParams().min_excess


def test_ongoing_incident_stays_one_incident_as_the_series_grows():
    counts, rate = seasonal(100)
    at = 60 * 24 + 9
    counts[at: at + 30] += np.random.default_rng(11).poisson(rate[at: at + 30] * 2)
    seen = []
    for end in range(at + 2, at + 60, 3):
        incidents = detected_within(detect_spikes(counts[:end], START), at - 3, end)
        seen.append(incidents)
    opened = [incidents for incidents in seen if incidents]
    assert opened, "the incident was never found"
    first = opened[0][0]
    for incidents in opened:
        assert len(incidents) == 1
        assert incidents[0].start == first.start
        assert incidents[0].detected_at == first.detected_at
    assert opened[0][0].ongoing
    assert not opened[-1][0].ongoing  # closed once the extra volume stopped
    assert hour_of(opened[-1][0].end) >= at + 25
    assert detect_spikes(counts[: at + 20], START) == detect_spikes(counts[: at + 20], START)


def test_daily_series_and_negative_share():
    days = np.arange(120)
    counts = np.random.default_rng(2).poisson(20 * WEEKLY[days % 7])
    assert detect_spikes(counts, START, period="day") == []
    counts[100] += 45
    found = detect_spikes(counts, START, period="day")
    assert [hour_of(i.detected_at) // 24 for i in found] == [100]
    # negatives rising with all mentions (a launch day: same negative share): no incident
    totals = counts * 5
    assert detect_spikes(counts, START, period="day", totals=totals) == []
    # the same negatives on an ordinary day's volume: the share jumps, an incident
    totals[100] = (counts[100] - 45) * 5 + 45
    assert len(detect_spikes(counts, START, period="day", totals=totals)) == 1


def test_plain_rule_flags_the_jump_too():
    counts, rate = seasonal(100)
    at = 60 * 24 + 10
    counts[at: at + 8] += np.random.default_rng(7).poisson(rate[at: at + 8] * 3)
    incidents = detected_within(plain_rule(counts, START), at, at + 24)
    assert len(incidents) == 1
    assert incidents[0].p_value is None


def test_alert_fields_are_plain_json_values():
    counts, rate = seasonal(100)
    at = 60 * 24 + 10
    counts[at: at + 8] += np.random.default_rng(7).poisson(rate[at: at + 8] * 2)
    fields = detected_within(detect_spikes(counts, START), at, at + 8)[0].alert_fields()
    assert fields["started_at"].endswith("+00:00")
    assert fields["magnitude"] > 2
    assert fields["details"]["periods"][0][0] == fields["started_at"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"period": "week"}, "unknown period 'week'"),
    ({"start": datetime(2026, 1, 5)}, "UTC"),
    ({"start": datetime(2026, 1, 5, 10, 30, tzinfo=UTC)}, "not at the start of an hour"),
    ({"counts": [1, -1, 2]}, "non-negative"),
    ({"totals": [0, 0, 0]}, "at least the counts"),
])
def test_bad_input_is_named(kwargs, message):
    arguments = {"counts": [1, 2, 3], "start": START, "period": "hour"} | kwargs
    with pytest.raises(ValueError, match=message):
        detect_spikes(**arguments)

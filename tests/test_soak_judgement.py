"""bench/soak.py's memory judgement: what it measures, and when it declines to judge."""

from __future__ import annotations

from bench.soak import MB, Lifetime, Report, Sample


def _life(rss_at: list[tuple[float, float]], *, warmup: float, until: float) -> Lifetime:
    samples = [Sample(7, at, int(mb * MB), 20) for at, mb in rss_at]
    return Lifetime(7, samples, warmup, since=0.0, until=until)


def test_growth_is_the_slope_after_the_warmup_while_the_workload_runs() -> None:
    # 100 MB for the warm-up's first minute (a jump while caches fill), then +10 MB an hour,
    # then a jump after the workload stopped (the finish is not judged).
    points = [(t, 50.0 + t) for t in range(0, 60, 5)]
    points += [(t, 100.0 + 10 * t / 3600) for t in range(60, 3600, 5)]
    points += [(3605.0, 500.0)]
    life = _life(points, warmup=60, until=3600)
    assert round(life.growth_mb_per_hour(), 3) == 10.0
    first, second = life.half_growths()
    assert round(first, 3) == round(second, 3) == 10.0


def test_a_short_window_is_not_judged() -> None:
    points = [(t, 100.0 + t / 10) for t in range(0, 600, 5)]  # +360 MB/h for 10 minutes
    report = Report("discord", "sqlite", judge_at_least=15 * 60)
    report.lifetimes = [_life(points, warmup=120, until=600)]
    _goal, measured, met = report._memory_goal(report.longest)
    assert met is None and "not judged" in measured
    report.judge_at_least = 5 * 60
    assert report._memory_goal(report.longest)[2] is False


def test_open_fds_judged_against_the_highest_before_the_middle_warmup_included() -> None:
    samples = [Sample(7, float(t), 100 * MB, 46 if t < 60 else 36) for t in range(0, 1200, 5)]
    life = Lifetime(7, samples, 120.0, since=0.0, until=1200.0)
    assert life.fd_highs() == (46, 36)  # the start's high counts: no new high after it
    samples[-1] = Sample(7, 1195.0, 100 * MB, 52)
    first, second = Lifetime(7, samples, 120.0, since=0.0, until=1200.0).fd_highs()
    assert second > first + 5  # a new high: a leak

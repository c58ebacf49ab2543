"""bench/soak.py's memory judgement: what it measures, and when it declines to judge."""

from __future__ import annotations

from bench.kill_matrix import Tally
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


def _fd_report(fds_at: list[tuple[float, int, int]], faults: list[tuple[float, float]]) -> Report:
    """A report of one process sampled every 5 s for 30 minutes: ``fds_at`` (from, fds, of those
    the database's) sets the counts from each moment on."""
    samples = []
    for t in range(0, 1800, 5):
        fds, db_fds = next((n, d) for at, n, d in reversed(fds_at) if at <= t)
        samples.append(Sample(7, float(t), 100 * MB, fds, db_fds))
    report = Report("discord", "sqlite", fault_times=faults, db_fd_bound=32)
    report.lifetimes = [Lifetime(7, samples, 120.0, since=0.0, until=1800.0)]
    return report


def test_open_fds_back_at_rest_after_a_database_outage_that_filled_the_pool() -> None:
    # As the Discord soak saw it: 23 open (10 on the database); a 60 s SQLite outage late in the
    # run opens 12 connections (37 open); once it is back the WALs close, the files stay (30);
    # the postponed feed polls open 10 sockets for half a minute.
    outage = (1200.0, 1260.0)
    counts = [(0, 23, 10), (1200, 37, 26), (1260, 32, 20), (1300, 30, 20), (1610, 40, 20)]
    report = _fd_report([*counts, (1640, 30, 20)], [outage])
    _goal, measured, met = report._fd_goal(report.longest)
    assert met is True, measured
    assert "the database's at most 26" in measured


def test_open_fds_held_for_minutes_after_an_outage_and_let_go_pass() -> None:
    # As the Slack soak saw it: 10 more sockets for 3 minutes after an outage, then back (a
    # fault every 2 minutes).
    faults = [(600.0, 660.0), *((float(t), t + 1.0) for t in range(720, 1800, 120))]
    counts = [(0, 23, 12), (600, 45, 32), (700, 43, 22), (900, 34, 22)]
    report = _fd_report(counts, faults)
    _goal, measured, met = report._fd_goal(report.longest)
    assert met is True, measured
    assert "21, 21, 12" in measured


def test_an_fd_leaked_at_each_fault_fails() -> None:
    faults = [(float(t), t + 1.0) for t in range(240, 1800, 240)]
    leaking = [(0.0, 20, 8)] + [(t + 1.0, 20 + 2 * n, 8) for n, (t, _) in enumerate(faults, 1)]
    report = _fd_report(leaking, faults)
    _goal, measured, met = report._fd_goal(report.longest)
    assert met is False, measured


def test_a_steady_leak_without_faults_fails() -> None:
    report = _fd_report([(float(t), 20 + t // 120, 8) for t in range(0, 1800, 5)], [])
    assert report._fd_goal(report.longest)[2] is False


def test_more_database_fds_than_its_pool_allows_fail() -> None:
    report = _fd_report([(0, 23, 10), (600, 50, 33), (660, 23, 10)], [(600.0, 660.0)])
    assert report._fd_goal(report.longest)[2] is False


def test_the_engagement_writers_growth_is_judged_too() -> None:
    # Steward's process flat, its engagement writer (a process of its own) leaking 40 MB an hour.
    flat = [(float(t), 130.0) for t in range(0, 1800, 5)]
    leaking = [(float(t), 100.0 + 40 * t / 3600) for t in range(0, 1800, 5)]
    report = Report("discord", "sqlite", judge_at_least=15 * 60)
    report.lifetimes = [_life(flat, warmup=120, until=1800)]
    report.writer_lifetimes = [_life(leaking, warmup=120, until=1800)]
    report.tally = Tally("discord", "sqlite")  # nothing lost or doubled
    memory = {goal: met for goal, _, met in report.goals() if "RSS" in goal}
    assert memory == {"RSS growth < 20 MB/h": True, "writer's RSS growth < 20 MB/h": False}
    assert report.bad


def test_a_process_started_before_the_workload_warms_up_under_it() -> None:
    # Started 10 minutes before the workload (the set-up), idle and flat; the workload's first
    # two minutes fill its caches (+10 MB), then +5 MB an hour: the warm-up is not judged.
    idle = [(float(t), 100.0) for t in range(-600, 0, 5)]
    warming = [(float(t), 100.0 + 10 * t / 120) for t in range(0, 120, 5)]
    steady = [(float(t), 110.0 + 5 * (t - 120) / 3600) for t in range(120, 1200, 5)]
    life = _life(idle + warming + steady, warmup=120, until=1200)
    assert round(life.growth_mb_per_hour(), 3) == 5.0
    assert round(life.growth_seconds) == 1075


def test_a_leak_from_the_workloads_start_still_fails_after_the_warmup() -> None:
    idle = [(float(t), 100.0) for t in range(-600, 0, 5)]
    leaking = [(float(t), 100.0 + 25 * t / 3600) for t in range(0, 1200, 5)]
    report = Report("discord", "sqlite", judge_at_least=15 * 60)
    report.lifetimes = [_life(idle + leaking, warmup=120, until=1200)]
    _goal, measured, met = report._memory_goal(report.longest)
    assert met is False, measured
    assert "+25.0 MB/h" in measured

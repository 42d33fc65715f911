"""Sizing: fetch slots and CPU cores for N sources polled every T, from `scale_bench`'s figures.

Apart from the measurements so that the arithmetic can be checked on given figures
(tests/test_scale_bench.py) and read on its own.
"""

from __future__ import annotations

from typing import Any, TypeGuard


def _measured(figures: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    """A queued measurement that ran (`queue_passes` gives {"skipped": why} otherwise)."""
    return bool(figures and figures.get("passes"))



def projection(
    cpu: dict[str, Any], io: dict[str, Any], sources: int = 100_000, interval_s: float = 900.0,
    new_mentions_per_poll: float = 0.5, queue_cpu: dict[str, Any] | None = None,
    queue_io: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Fetching slots and CPU cores for `sources` polled every `interval_s`, from the figures.

    A slot (a thread, or a prefork worker process) holds one source run for the remote
    server's latency plus our per-run overhead, read off the widest I/O pass (the queued one
    when measured, else the embedded one). CPU without the queue's figures is the
    one-process cost per stored mention times the mentions a poll brings on average
    (`new_mentions_per_poll`: most polls of a steady deployment are 304 Not Modified). With
    them, workers and PostgreSQL each cost what the queued passes measured: a run's CPU
    (the I/O pass, a run bringing few mentions) plus a mention's (the CPU pass, one worker);
    both include the workers' first-task start-up, so they err on the high side.
    """
    slots_from = queue_io if _measured(queue_io) else io
    widest = max(slots_from["passes"])
    slot_s = slots_from["passes"][widest] * widest / slots_from["sources"]
    rate = sources / interval_s
    mentions_rate = rate * new_mentions_per_poll
    cpu_per_mention = cpu["single_s"] / cpu["mentions"]
    result = {
        "runs_per_s": rate,
        "slot_s": slot_s,
        "slots": rate * slot_s,
        "cores": mentions_rate * cpu_per_mention,
        "mentions_per_s": mentions_rate,
    }
    measured = _queue_costs(queue_cpu, queue_io)
    if measured:
        result |= measured
        result["cores"] = rate * measured["worker_s_per_run"] + (
            mentions_rate * measured["worker_s_per_mention"])
        result["database_cores"] = rate * measured["database_s_per_run"] + (
            mentions_rate * measured["database_s_per_mention"])
    print(
        f"scale, projection: {sources:,} sources every {interval_s / 60:.0f} min = "
        f"{rate:.0f} runs/s; a run holds a slot {slot_s:.3f} s (at "
        f"{slots_from['latency'] * 1000:.0f} ms latency) → {result['slots']:.0f} concurrent "
        f"fetch slots;\n  at "
        f"{new_mentions_per_poll} new mentions per poll, {mentions_rate:.0f} mentions/s"
        + (f": workers {measured['worker_s_per_run'] * 1000:.1f} ms a run + "
           f"{measured['worker_s_per_mention'] * 1000:.1f} ms a mention → "
           f"{result['cores']:.1f} CPU cores; PostgreSQL "
           f"{measured['database_s_per_run'] * 1000:.1f} ms a run + "
           f"{measured['database_s_per_mention'] * 1000:.1f} ms a mention → "
           f"{result['database_cores']:.1f} cores, {rate:.0f} source-state transactions/s"
           if measured else
           f" x {cpu_per_mention * 1000:.1f} ms each → {result['cores']:.1f} CPU cores of "
           f"workers; the database takes {rate:.0f} source-state transactions/s")
    )
    return result


def _queue_costs(
    queue_cpu: dict[str, Any] | None, queue_io: dict[str, Any] | None
) -> dict[str, float] | None:
    """CPU seconds a run and a mention cost workers and PostgreSQL, from the queued passes:
    a run's from the widest I/O pass, a mention's from the one-worker CPU pass (less the
    runs' share there)."""
    if not (_measured(queue_cpu) and _measured(queue_io)):
        return None
    widest, one = max(queue_io["passes"]), min(queue_cpu["passes"])
    costs = {}
    for side in ("worker", "database"):
        run_cpu = queue_io[f"{side}_cpu_s"].get(widest)
        pass_cpu = queue_cpu[f"{side}_cpu_s"].get(one)
        if run_cpu is None or pass_cpu is None:
            return None
        per_run = run_cpu / queue_io["sources"]
        costs[f"{side}_s_per_run"] = per_run
        costs[f"{side}_s_per_mention"] = max(
            pass_cpu - per_run * queue_cpu["sources"], 0.0) / queue_cpu["mentions"]
    return costs

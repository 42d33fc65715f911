"""The scaling benchmark stays runnable at a tiny size: both embedded CPU passes store the
same mentions, the injected latency really holds each response back, the queued passes run
on real workers (a broker and PostgreSQL given) or say why they cannot, and the
projection's arithmetic is the documented one."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from benchmarks import process_cpu, scale_bench, scale_projection


def test_tiny_cpu_run_compares_one_process_with_the_pool() -> None:
    result = scale_bench.cpu_embedded(feeds=3, items=2)
    assert result["items"] == 6 and result["mentions"] == 6  # every item mentions the brand
    assert result["pool_speedup"] == pytest.approx(result["single_s"] / result["pool_s"])
    assert result["single_mentions_per_s"] == pytest.approx(6 / result["single_s"])


def test_tiny_io_run_waits_the_injected_latency_on_every_port() -> None:
    result = scale_bench.io_embedded(sources=6, items=1, latency=0.1, hosts=3, threads=(1, 3))
    # One thread waits for every response in turn: never less than sources x latency.
    assert result["passes"][1] >= 6 * 0.1
    assert result["passes"][3] >= 2 * 0.1
    assert result["speedup"][1] == 1.0


def test_queue_measurement_reports_why_it_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIGIA_BENCH_BROKER_URL", raising=False)
    monkeypatch.delenv("VIGIA_TEST_REDIS_URL", raising=False)
    reason = scale_bench.queue_missing()
    assert reason is not None and reason.startswith("skipped:")
    assert scale_bench.queue_passes((1, 2), feeds=2, items=1) == {"skipped": reason}


def test_tiny_queued_passes_store_the_same_mentions_with_each_worker_count() -> None:
    reason = scale_bench.queue_missing()
    if reason is not None:
        pytest.skip(reason)
    cpu = scale_bench.queue_passes((1, 2), feeds=4, items=2)
    assert cpu["mentions"] == 8 and cpu["speedup"][1] == 1.0
    io = scale_bench.queue_passes((2,), feeds=8, items=1, latency=0.1, hosts=4, threads=True)
    assert io["passes"][2] >= 4 * 0.1  # two slots wait for every response, two at a time
    if process_cpu.available():  # the workers classified and stored: they used CPU
        assert all(seconds > 0 for seconds in cpu["worker_cpu_s"].values())
        assert all(seconds > 0 for seconds in io["database_cpu_s"].values())


def test_cpu_of_a_process_tree_counts_live_and_exited_children() -> None:
    if not process_cpu.available():
        pytest.skip("no /proc here")
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
    parent = subprocess.Popen([sys.executable, "-c",
                               "import subprocess, sys, time\n"
                               f"subprocess.run([sys.executable, '-c', {burn!r}])\n"
                               f"{burn}time.sleep(5)\n"])
    try:
        deadline = time.monotonic() + 20
        while (process_cpu.tree_cpu([parent.pid]) or 0) < 0.55:
            assert time.monotonic() < deadline, process_cpu.tree_cpu([parent.pid])
            time.sleep(0.05)
        # The exited child's 0.3 s come through the parent's waited-children figures.
        assert process_cpu.tree_cpu([parent.pid]) < 1.5
        assert process_cpu.tree_cpu([]) == 0
    finally:
        parent.kill()
        parent.wait()


def test_projection_from_the_figures() -> None:
    cpu = {"single_s": 10.0, "mentions": 1000}  # 10 ms a mention
    io = {"sources": 1000, "latency": 0.2, "passes": {1: 220.0, 8: 30.0}}  # 0.24 s a run
    result = scale_projection.projection(
        cpu, io, sources=90_000, interval_s=900, new_mentions_per_poll=2
    )
    assert result["runs_per_s"] == 100
    assert result["slot_s"] == pytest.approx(0.24)
    assert result["slots"] == pytest.approx(24)
    assert result["cores"] == pytest.approx(100 * 2 * 0.01)


def test_projection_from_the_queued_passes_counts_runs_and_mentions() -> None:
    cpu = {"single_s": 10.0, "mentions": 1000}
    io = {"sources": 1000, "latency": 0.2, "passes": {1: 220.0, 8: 30.0}}
    # Queued: a run costs workers 20 ms and PostgreSQL 5 ms (the I/O pass); the CPU pass's
    # 100 runs of 10 mentions cost 2 + 1000 x 4 ms for workers, 0.5 + 1000 x 1 ms for it.
    queue_io = {"sources": 1000, "latency": 0.2, "passes": {1: 250.0, 10: 30.0},
                "worker_cpu_s": {1: 25.0, 10: 20.0}, "database_cpu_s": {1: 6.0, 10: 5.0}}
    queue_cpu = {"sources": 100, "mentions": 1000, "passes": {1: 8.0, 2: 4.5},
                 "worker_cpu_s": {1: 6.0, 2: 6.5}, "database_cpu_s": {1: 1.5, 2: 1.6}}
    result = scale_projection.projection(cpu, io, sources=90_000, interval_s=900,
                                    new_mentions_per_poll=2, queue_cpu=queue_cpu,
                                    queue_io=queue_io)
    assert result["slot_s"] == pytest.approx(0.3)  # the queued pass: 30 s x 10 / 1000
    assert result["worker_s_per_run"] == pytest.approx(0.02)
    assert result["worker_s_per_mention"] == pytest.approx(0.004)
    assert result["cores"] == pytest.approx(100 * 0.02 + 200 * 0.004)
    assert result["database_cores"] == pytest.approx(100 * 0.005 + 200 * 0.001)

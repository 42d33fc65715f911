"""CPU seconds used by process trees, from Linux's /proc: what a benchmark's workers and the
database server spent during a pass, so a projection can count cores and not only seconds.

A process's `utime + stime` is its own CPU; `cutime + cstime` is that of its children that
have exited and been waited for. Summing all four over every live process of a tree counts
each CPU second once: a child still alive is counted by itself, a dead one by its parent.
Elsewhere than Linux the figures are None (the benchmark prints the wall times only).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds of the process and its waited children)."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    # After the name: state ppid ... utime(12) stime(13) cutime(14) cstime(15), 0-based
    # from `state`.
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return name, int(fields[1]), ticks / os.sysconf("SC_CLK_TCK")


def _table() -> dict[int, tuple[str, int, float]]:
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            found[int(entry.name)] = stat
    return found


def available() -> bool:
    return (PROC / "self" / "stat").is_file()


def tree_cpu(roots: Iterable[int]) -> float | None:
    """CPU seconds of the processes `roots` and all their live descendants."""
    if not available():
        return None
    table = _table()
    children: dict[int, list[int]] = {}
    for pid, (_, parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    total, stack, seen = 0.0, [p for p in roots if p in table], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += table[pid][2]
        stack += children.get(pid, [])
    return total


def named_cpu(name: str) -> float | None:
    """CPU seconds of every process whose command name starts with `name` (`postgres`: the
    server, its backends and, through the postmaster, the backends that have exited)."""
    if not available():
        return None
    return sum(cpu for command, _, cpu in _table().values() if command.startswith(name))

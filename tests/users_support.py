"""Cheap argon2 parameters for tests that create users or log in.

The production defaults (64 MiB, 3 passes) take tens of milliseconds per hash on purpose;
a test suite hashing hundreds of passwords does not need that. `cheap_passwords` swaps the
module-level hasher of monitor.app.users for the smallest parameters argon2 accepts; the
code under test is the same, only the cost differs. Import the fixture into a test module
(`from tests.users_support import cheap_passwords`) and ask for it, or mark it autouse there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from monitor.app import users

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> Iterator[PasswordHasher]:
    monkeypatch.setattr(users, "HASHER", CHEAP)
    yield CHEAP

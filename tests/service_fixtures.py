"""pytest fixtures for private Redis, RabbitMQ and PostgreSQL servers (fault tests).

Each server is started once per session, on first use, and torn down at the session's end;
the function-scoped fixture a test asks for makes sure it is running (a test that stopped it
and failed before restarting it does not break the next test) and hands over a clean one
where that is cheap. Missing binaries skip the test with the reason, or fail it when CI=true.

- `redis_service`: durable Redis (append-only file, fsync always); FLUSHALL before each test.
- `volatile_redis_service`: Redis as CI's shared one runs it (nothing kept on restart).
- `rabbitmq_service`: a private RabbitMQ node; not reset between tests (a reset costs seconds):
  use queue names of your own, e.g. with a uuid.
- `postgres_service`: a private cluster; its `vigia` database is dropped and made again
  before each test (`.url` is a SQLAlchemy URL for psycopg).

All have `.url`, `.start()`, `.stop()`, `.kill()`, `.restart(crash=False)`, `.running` and
`.last_start_seconds` (tests/service_instances.py).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.service_postgres import DATABASE, PostgresInstance
from tests.service_rabbitmq import RabbitMQInstance
from tests.service_redis import RedisInstance


@pytest.fixture(scope="session")
def _redis_durable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisInstance]:
    instance = RedisInstance(tmp_path_factory.mktemp("redis-durable"), durable=True)
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def _redis_volatile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisInstance]:
    instance = RedisInstance(tmp_path_factory.mktemp("redis-volatile"), durable=False)
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def _rabbitmq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitMQInstance]:
    instance = RabbitMQInstance(tmp_path_factory.mktemp("rabbitmq"))
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def _postgres() -> Iterator[PostgresInstance]:
    instance = PostgresInstance()
    yield instance
    instance.close()


def _flush_redis(instance: RedisInstance) -> None:
    with socket.create_connection(("127.0.0.1", instance.port), timeout=5) as connection:
        connection.sendall(b"FLUSHALL\r\n")
        if not connection.recv(64).startswith(b"+OK"):
            raise RuntimeError(f"FLUSHALL failed on {instance!r}")


@pytest.fixture
def redis_service(_redis_durable: RedisInstance) -> RedisInstance:
    _redis_durable.ensure_running()
    _flush_redis(_redis_durable)
    return _redis_durable


@pytest.fixture
def volatile_redis_service(_redis_volatile: RedisInstance) -> RedisInstance:
    _redis_volatile.ensure_running()
    _flush_redis(_redis_volatile)
    return _redis_volatile


@pytest.fixture
def rabbitmq_service(_rabbitmq: RabbitMQInstance) -> RabbitMQInstance:
    _rabbitmq.ensure_running()
    return _rabbitmq


@pytest.fixture
def postgres_service(_postgres: PostgresInstance) -> PostgresInstance:
    _postgres.ensure_running()
    _postgres.psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", database="postgres")
    _postgres.psql(f"CREATE DATABASE {DATABASE}", database="postgres")
    return _postgres

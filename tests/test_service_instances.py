"""The private servers the fault tests kill and restart (tests/service_fixtures.py): each
starts, answers its protocol, keeps what it should across a graceful and a crash restart,
and leaves no process behind."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.service_instances import ServiceInstance, _group_alive, require_binary
from tests.service_postgres import PostgresInstance
from tests.service_rabbitmq import RabbitMQInstance
from tests.service_redis import RedisInstance


def _gone_after_close(instance: ServiceInstance) -> None:
    assert instance.process is not None
    group = instance.process.pid
    instance.close()
    assert not instance.running
    assert not _group_alive(group), f"{instance!r} left processes in group {group}"


def test_missing_binary_skips_or_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-server not found: because"):
        require_binary("no-such-server", "because")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_binary("no-such-server", "because")


# -- Redis ---------------------------------------------------------------------------------
def test_durable_redis_keeps_a_queue_across_restart_and_crash(
    redis_service: RedisInstance,
) -> None:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(redis_service.url)
    client.rpush("celery", b"task-1", b"task-2")
    redis_service.restart()
    client.rpush("celery", b"task-3")
    redis_service.restart(crash=True)
    assert client.lrange("celery", 0, -1) == [b"task-1", b"task-2", b"task-3"]
    client.close()


def test_volatile_redis_loses_its_queue_on_restart(volatile_redis_service: RedisInstance) -> None:
    """Why the fault tests use the durable instance: a broker that keeps nothing loses every
    queued task on restart, and only the scheduler's next enqueue brings the work back."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(volatile_redis_service.url)
    client.rpush("celery", b"task-1")
    volatile_redis_service.restart()
    assert client.llen("celery") == 0
    client.close()


def test_redis_instance_leaves_no_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    instance = RedisInstance(tmp_path, durable=False)
    instance.start()
    _gone_after_close(instance)


# -- RabbitMQ ------------------------------------------------------------------------------
def test_rabbitmq_keeps_persistent_messages_across_restart_and_crash(
    rabbitmq_service: RabbitMQInstance,
) -> None:
    """A graceful stop writes every persistent message out; a crash keeps only those the
    broker confirmed (it confirms after the message store has them on disk). An unconfirmed
    message was measured lost on SIGKILL, so a Celery app on RabbitMQ must publish with
    `broker_transport_options = {"confirm_publish": True}`."""
    kombu = pytest.importorskip("kombu")
    queue = kombu.Queue(f"h3-{uuid.uuid4().hex}", durable=True)

    def publish(body: str, confirm: bool) -> None:
        with kombu.Connection(
            rabbitmq_service.url, connect_timeout=10, transport_options={"confirm_publish": confirm}
        ) as connection:
            # Celery's defaults: a durable queue, persistent messages (delivery_mode 2).
            connection.Producer().publish(
                body, routing_key=queue.name, declare=[queue], delivery_mode=2
            )

    publish("task-1", confirm=False)
    rabbitmq_service.restart()
    publish("task-2", confirm=True)
    rabbitmq_service.restart(crash=True)
    with kombu.Connection(rabbitmq_service.url, connect_timeout=10) as connection:
        simple = connection.SimpleQueue(queue)
        bodies = [simple.get(timeout=5).payload for _ in range(2)]
        simple.close()
    assert bodies == ["task-1", "task-2"]


def test_rabbitmq_instance_leaves_no_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    instance = RabbitMQInstance(tmp_path)
    instance.start()
    _gone_after_close(instance)


# -- PostgreSQL ----------------------------------------------------------------------------
def test_postgres_keeps_committed_rows_after_a_crash(postgres_service: PostgresInstance) -> None:
    psycopg = pytest.importorskip("psycopg")
    dsn = postgres_service.url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("CREATE TABLE mention (id int PRIMARY KEY)")
        connection.execute("INSERT INTO mention VALUES (1)")
    open_transaction = psycopg.connect(dsn)
    open_transaction.execute("INSERT INTO mention VALUES (2)")  # never committed
    postgres_service.restart(crash=True)
    with pytest.raises(psycopg.OperationalError):
        open_transaction.commit()  # the connection died with the server
    with psycopg.connect(dsn) as connection:
        assert connection.execute("SELECT id FROM mention").fetchall() == [(1,)]
    postgres_service.restart()
    with psycopg.connect(dsn) as connection:
        assert connection.execute("SELECT count(*) FROM mention").fetchone() == (1,)


def test_postgres_fixture_starts_each_test_from_an_empty_database(
    postgres_service: PostgresInstance,
) -> None:
    tables = postgres_service.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    assert tables.strip() == "0"


def test_postgres_instance_runs_as_postgres_and_leaves_nothing() -> None:
    instance = PostgresInstance()
    try:
        instance.start()
        assert instance.process is not None
        owner = os.stat(f"/proc/{instance.process.pid}").st_uid
        assert owner != 0  # PostgreSQL never runs as root
    finally:
        root = instance.root
        _gone_after_close(instance)
    assert not root.exists()

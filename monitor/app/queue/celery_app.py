"""The Celery app, built from Settings: the one place the queue's guarantees are configured.

- JSON only (never pickle): a message is data, and a broker shared with other software
  cannot make a worker unpickle an object;
- no result backend (`task_ignore_result`): state lives in Vigía's database (`task_runs`);
- `task_acks_late` with `task_reject_on_worker_lost` and a prefetch of one: a task is
  acknowledged when it has finished, so a worker that dies mid-run (kill -9, OOM) leaves it
  to another worker: at once on RabbitMQ, after `[queue] visibility_timeout` on Redis;
  every task is idempotent (unique constraints, outbox keys, leases), so running one twice
  writes nothing twice;
- publisher confirms on RabbitMQ and a restore sweep every 10 s on Redis
  (`transport_options`);
- queues named after `[queue] prefix` (`vigia.sources` for source runs, `vigia.reports` for
  alerts, delivery, the digest, the routed lists and the weekly report), and the control
  exchange too, so `monitor status` sees only this deployment's workers.
"""

from __future__ import annotations

from celery import Celery

from monitor.core.settings import Settings
from monitor.core.settings_problems import hide_password

RUN_SOURCE = "vigia.run_source"
DELIVER = "vigia.deliver"
DAILY_EMAILS = "vigia.daily_emails"
WEEKLY = "vigia.weekly"
TRAIN = "vigia.train"
#: Which of Vigía's queues each task goes to (`monitor worker --queues` takes these names).
QUEUES = {RUN_SOURCE: "sources", DELIVER: "reports", DAILY_EMAILS: "reports", WEEKLY: "reports",
          TRAIN: "reports"}
QUEUE_NAMES = ("sources", "reports")


def make_app(settings: Settings) -> Celery:
    """A Celery app for these settings (the broker from `[queue] broker` or its env var)."""
    queue = settings.queue
    broker = queue.broker_url
    if not broker:
        raise ValueError("no broker configured")  # callers check queue.enabled first
    app = Celery(f"{queue.prefix}", broker=broker, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        event_serializer="json",
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A worker that loses its broker connection cannot acknowledge what it runs, which the
        # broker will redeliver: stop those tasks rather than run them twice at once.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport_options(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        task_default_queue=queue.queue("sources"),
        task_routes={name: {"queue": queue.queue(short)} for name, short in QUEUES.items()},
        task_create_missing_queues=True,
        control_exchange=queue.prefix,
        event_exchange=f"{queue.prefix}.events",
        worker_send_task_events=False,
        # Logging is the command's own (Rich, on stderr): Celery neither replaces it nor
        # redirects stderr into it, which would loop.
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        include=["monitor.app.queue.tasks"],
    )
    return app


#: Redis: how often (seconds, about) a worker looks for tasks whose worker died and whose
#: visibility timeout has passed, to hand them back to the queue. kombu's own default is
#: every 100 s (a scan every 10th tick of 10 s); a scan is one ZRANGE under a lock.
RESTORE_EVERY = 10


def transport_options(settings: Settings) -> dict[str, object]:
    """The broker transport's options: on Redis, the visibility timeout and the restore
    sweep; on RabbitMQ, publisher confirms (`confirm_publish`): a publish returns once the
    broker has the message, which for a persistent message on a durable queue means on
    disk. Without confirms, a task published just before a broker crash (kill -9) was
    measured lost (tests/service_rabbitmq.py)."""
    queue = settings.queue
    if queue.broker_url.startswith(("redis://", "rediss://")):
        return {
            "visibility_timeout": int(queue.visibility.total_seconds()),
            "unacked_restore_interval": RESTORE_EVERY // 2,
            "unacked_restore_throttle": 2,
        }
    return {"confirm_publish": True}


def shown_broker(settings: Settings) -> str:
    """The broker URL for messages and logs, its password masked."""
    return hide_password(settings.queue.broker_url)

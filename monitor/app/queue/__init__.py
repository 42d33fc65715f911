"""The pipeline on a task queue (Celery on Redis or RabbitMQ), for when one machine is not
enough (DESIGN.md "Scale", README "Scale out").

- `celery_app`: the Celery app built from Settings (JSON only, acks late, no result backend);
- `tasks`: the tasks (`vigia.run_source`, `vigia.deliver`, `vigia.daily_emails`,
  `vigia.weekly`), thin wrappers over monitor.app.jobs, so the embedded and queued modes
  run the same code;
- `worker_context`: each worker process's settings, database and pipeline, built after fork;
- `leases`: a named lease with an expiry in the database (a source run, the scheduler);
- `runs`: the `task_runs` records `monitor status` reads;
- `enqueue`: publishing a task together with its record;
- `scheduler`: `monitor scheduler`, the embedded schedule enqueuing instead of running,
  under a leadership lease;
- `once`: `monitor run --once` through the queue;
- `status`: `monitor status`.
"""

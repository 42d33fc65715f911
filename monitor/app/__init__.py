"""The application floor: the pipeline, the jobs, the scheduler, alerts and source checks.

It ties connectors, classifiers and reports together; nothing below imports it."""

"""Crisis alerts: spike, leak and high-reach rules, storms and cooldowns, exactly-once emails.

`evaluate_alerts` runs after the transaction that stored a run's mentions has committed
(monitor.app.jobs), over the mentions first seen since the run began.
"""

from monitor.app.alerts.engine import AlertReport, evaluate_alerts, recipients_for

__all__ = ["AlertReport", "evaluate_alerts", "recipients_for"]

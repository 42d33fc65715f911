"""Reports: pure renders (jinja2, CSS inlined, plain-text alternative) and their delivery.

Rendering never touches the network and delivery never renders: a report is written to the
outbox table first (`reports.outbox`) and handed to a `Mailer` afterwards, so a crash or an
SMTP outage can delay an email but never lose or duplicate it.
"""

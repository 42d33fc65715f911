"""Who gets what, and how it is sent: `[email]`, `[email.recipients]` and `[routes]`."""

from __future__ import annotations

import re

from pydantic import Field, ValidationInfo, field_validator

from monitor.core.settings_types import Strict

#: The lists a finding is routed to (README "Alerts and routing"), in `[email.recipients]`
#: and in `[routes]` alike.
ROUTE_LISTS = ("digest", "alerts", "leaks", "employees", "complaints", "weekly", "escalations")


class RouteLists(Strict):
    """The seven lists, each a list of targets; subclasses say what a target may be."""

    digest: list[str] = []
    alerts: list[str] = []
    leaks: list[str] = []
    employees: list[str] = []
    complaints: list[str] = []
    weekly: list[str] = []
    escalations: list[str] = []


class Recipients(RouteLists):
    """Who gets what: each list receives only the emails it is for (README "Alerts and routing").

    `alerts` gets every crisis alert; `leaks` (security/legal) gets leak alerts too; `employees`
    (HR) the daily employee-post and policy-issue email; `complaints` (customer care) the daily
    complaints to answer; `weekly` the weekly report; `escalations` a mention someone escalated
    in the web app (`alerts` when it is empty).
    """

    @field_validator(*ROUTE_LISTS)
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not re.match(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$", address):
                raise ValueError(
                    f"{address!r} is not an email address — write plain addresses like "
                    '"comms@example.com"'
                )
        return value


class RouteSettings(RouteLists):
    """`[routes]`: the same lists as `[email.recipients]`, whose entries may also be chat and
    webhook URLs (Apprise: `slack://…`, `workflows://…`, `tgram://…`, `matrixs://…`,
    `jsons://…`), each secret written as `${VIGIA_…}` and read from the environment when a
    message is sent (monitor/core/targets.py). A route's email addresses join the list of the
    same name in `[email.recipients]`; both tables may be used, alone or together.
    """

    @field_validator(*ROUTE_LISTS)
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        from monitor.core.targets import parse_target

        for target in value:
            parse_target(target)  # TargetError is a ValueError: reported with the key
        return value


class EmailSettings(Strict):
    from_: str = Field("Vigía <vigia@localhost>", alias="from")
    smtp_host: str = ""
    smtp_port: int = Field(587, gt=0, lt=65536)
    starttls: bool = True
    ssl: bool = False
    username: str = ""
    outbox_dir: str = "var/outbox"
    language: str = "en"
    recipients: Recipients = Recipients()

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in ("en", "es"):
            raise ValueError(f'unsupported language {value!r} — use "en" or "es"')
        return value

    @field_validator("ssl")
    @classmethod
    def _tls_modes(cls, value: bool, info: ValidationInfo) -> bool:
        # A field validator, not a model one: pydantic skips model validators when any field
        # is wrong, and every problem of a file is reported in one go.
        if value and info.data.get("starttls", True):
            raise ValueError(
                "ssl and starttls are both true — use ssl = true (port 465) with "
                "starttls = false, or starttls = true (port 587) with ssl = false"
            )
        return value

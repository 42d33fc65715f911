"""Where a route's messages go: an email address, or an Apprise URL whose secrets live in env vars.

A route (`[routes] alerts = [...]`) lists targets. An email address goes through the mailer;
anything written `scheme://…` is an Apprise URL (Slack, Teams workflows, Telegram, Matrix, a
JSON webhook …). Such a URL names its secrets as `${VIGIA_…}` references, expanded from the
environment only when a message is delivered: the URL as written (the *template*) is what
settings, the outbox table, `monitor outbox` and every log line ever see, so a token can only
leak through the process environment itself.

A template is refused when it visibly carries a literal secret: no `${VAR}` at all (every chat
service authenticates by something in its URL), or a `user:password@` whose password is not a
reference. Only the generic webhook schemes (`json://`, `jsons://`) may go without a reference,
since an internal endpoint may need none.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://\S+$")
REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")
#: Schemes that may be written without a `${VAR}` (an internal webhook may need no secret).
NO_SECRET_NEEDED = frozenset({"json", "jsons"})
#: Values shorter than this are not scrubbed from logs: "1" would wreck every line.
MIN_SCRUB = 3
ENV_HINT = "VIGIA_SLACK_ALERTS"


class TargetError(ValueError):
    """A target the settings cannot accept; the message says how to write it."""


@dataclass(frozen=True)
class Target:
    """One entry of a route: `channel` is "email" or the URL's scheme."""

    value: str

    @property
    def channel(self) -> str:
        match = URL.match(self.value)
        return match.group("scheme") if match else "email"

    @property
    def is_email(self) -> bool:
        return self.channel == "email"

    @property
    def env_names(self) -> list[str]:
        """The environment variables this URL reads, in order, without repeats."""
        return list(dict.fromkeys(m.group("name") for m in REFERENCE.finditer(self.value)))


def parse_target(value: str) -> Target:
    """A validated target, or TargetError saying what to write instead."""
    match = URL.match(value)  # first: "matrixs://u:pw@host.org/" would pass for an address
    if match is None and EMAIL.match(value):
        return Target(value)
    if match is None:
        raise TargetError(
            f"{value!r} is neither an email address nor a notification URL — write "
            '"comms@example.com" or an Apprise URL such as "slack://${' + ENV_HINT + '}"'
        )
    scheme = match.group("scheme")
    if scheme == "msteams":
        raise TargetError(
            "msteams:// (Office 365 connectors) was retired by Microsoft and by Apprise 2 — "
            "create a Workflows webhook in Teams and write it as "
            '"workflows://HOST:443/${VIGIA_TEAMS_WORKFLOW}/${VIGIA_TEAMS_SIGNATURE}"'
        )
    if any(ch in value for ch in "\r\n\x00"):
        raise TargetError(f"line break in notification URL {mask_template(value)!r}")
    password = _literal_password(value)
    if password:
        raise TargetError(
            f"{mask_template(value)!r} carries a password — secrets do not belong in the "
            "settings file: write ${VIGIA_…} in its place and export that variable"
        )
    if scheme not in NO_SECRET_NEEDED and not REFERENCE.search(value):
        raise TargetError(
            f"{scheme}:// URL with its token written in the file — secrets do not belong in "
            "the settings file: put the token in an environment variable and refer to it, "
            f'like "{scheme}://${{{ENV_HINT}}}" (see README, Chat and webhooks)'
        )
    return Target(value)


def _literal_password(value: str) -> str | None:
    try:
        password = urlsplit(value).password
    except ValueError:
        return None
    return password if password and not REFERENCE.fullmatch(password) else None


def mask_template(value: str) -> str:
    """A URL as it may be shown: `${VAR}` references stay, anything after `:` in userinfo
    becomes ***, and (for a URL refused for a literal token) each path segment past the
    host keeps only its first two characters."""
    match = URL.match(value)
    if match is None:
        return value
    value = re.sub(r"(://[^/@\s:]*:)[^@\s]+@", r"\1***@", value)
    if REFERENCE.search(value):
        return value
    head, _, rest = value.partition("://")
    host, slash, path = rest.partition("/")
    hidden = "/".join(_hide(segment) for segment in path.split("/"))
    if "." not in host:  # not a host name: the first token (slack://T…/B…/X…)
        host = _hide(host)
    return f"{head}://{_hide_query(host)}{slash}{_hide_query(hidden)}"


def _hide(segment: str) -> str:
    return segment[:2] + "…" if len(segment) > 2 else segment


def _hide_query(text: str) -> str:
    return re.sub(r"([?&][^=&]+=)[^&]+", r"\1…", text)


class MissingSecret(LookupError):
    """A `${VAR}` a URL needs is not set in the environment."""


@dataclass(frozen=True)
class Resolved:
    """A URL with its references expanded, and the values to scrub from anything shown."""

    url: str
    secrets: tuple[str, ...]


def resolve(template: str, environ: Mapping[str, str] | None = None) -> Resolved:
    """Expand `${VAR}` from the environment at delivery time; MissingSecret names the var."""
    env = os.environ if environ is None else environ
    missing = [name for name in Target(template).env_names if not env.get(name)]
    if missing:
        raise MissingSecret(
            f"environment variable {missing[0]} is not set — export it where Vigía runs "
            f"(it holds the secret part of {template})"
        )
    values = [env[name] for name in Target(template).env_names]
    url = REFERENCE.sub(lambda m: env[m.group("name")], template)
    return Resolved(url, secret_forms(values))


def secret_forms(values: list[str]) -> tuple[str, ...]:
    """Each value as it may appear in a log line or an error: raw and percent-encoded."""
    forms: set[str] = set()
    for value in values:
        for form in (value, quote(value, safe=""), quote(value)):
            # A value holding several path segments ("T0/B0/XX") may be logged piecewise.
            forms.update(part for part in (form, *form.split("/")) if len(part) >= MIN_SCRUB)
    return tuple(sorted(forms, key=len, reverse=True))


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret form replaced by ***, longest first."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text

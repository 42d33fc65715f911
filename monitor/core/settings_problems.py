"""Turning what is wrong with a settings file into "key: problem — fix" lines.

A comms person editing settings.toml should read which key is wrong, in the file's own
spelling (`sources[1] ('Mastodon #acme').every`), and what to write instead, not a pydantic
traceback; and a secret written into the file is refused before anything else.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

SMTP_PASSWORD_ENV = "VIGIA_SMTP_PASSWORD"
_SECRET_KEYS = {"password", "smtp_password", "token", "api_key", "secret"}


def _key(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """('sources', 1, 'every') → 'sources[1].every' (naming the source when it has a name)."""
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int):
            name = (
                node[item].get("name")
                if isinstance(node, list) and item < len(node) and isinstance(node[item], dict)
                else None
            )
            parts[-1] += f"[{item}]" + (f" ({name!r})" if name else "")
        elif item in ("function-after", "function-before"):
            continue
        else:
            parts.append(str(item))
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts)


_FIXES = {
    "missing": "add it",
    "extra_forbidden": "remove it or check its spelling against README.md",
    "bool_parsing": "use true or false (no quotes)",
    "bool_type": "use true or false (no quotes)",
    "int_parsing": "use a whole number (no quotes)",
    "int_type": "use a whole number (no quotes)",
    "float_parsing": "use a number (no quotes)",
    "list_type": 'use a list, like ["a", "b"]',
    "string_type": 'use a quoted string, like "text"',
    "too_short": "it must not be empty",
    "greater_than": "use a larger number",
    "greater_than_equal": "use a larger number",
    "less_than_equal": "use a smaller number",
}


def validation_problems(error: ValidationError, data: dict[str, Any]) -> list[tuple[str, str]]:
    """pydantic's errors as (key, "problem — fix") pairs, keys written as in settings.toml."""
    problems = []
    for item in error.errors():
        loc = tuple(x for x in item["loc"] if not (isinstance(x, str) and x.startswith("function")))
        message = item["msg"].removeprefix("Value error, ")
        fix = _FIXES.get(item["type"])
        if item["type"] == "extra_forbidden":
            message = "unknown setting"
        if fix and "—" not in message:
            message = f"{message} — {fix}"
        problems.append((_key(loc, data), message))
    return problems


def url_password(url: object) -> str | None:
    """The password inside a URL such as `postgresql://user:pw@host/db`, if there is one."""
    if not isinstance(url, str):
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def hide_password(url: str) -> str:
    """`url` with its password (if any) shown as ***, for messages that quote it."""
    password = url_password(url)
    return url.replace(f":{password}@", ":***@", 1) if password else url


def inline_secrets(data: dict[str, Any]) -> list[tuple[str, str]]:
    """A password or token written in the file: refused, pointing at the environment."""
    problems = []
    storage = data.get("storage")
    if isinstance(storage, dict) and url_password(storage.get("url")):
        problems.append(
            (
                "storage.url",
                "the database password is a secret and does not belong in the settings file — "
                "remove it from the URL (postgresql+psycopg://user@host/db) and set the "
                "environment variable PGPASSWORD (or a ~/.pgpass entry) instead",
            )
        )
    queue = data.get("queue")
    if isinstance(queue, dict) and url_password(queue.get("broker")):
        problems.append(
            (
                "queue.broker",
                "the broker password is a secret and does not belong in the settings file — "
                "remove the URL's password (or the whole key) and set the environment variable "
                "VIGIA_QUEUE_BROKER to the full URL instead",
            )
        )
    for key in _SECRET_KEYS & set(data.get("email", {})):
        problems.append(
            (
                f"email.{key}",
                f"secrets do not belong in the settings file — remove it and set "
                f"the environment variable {SMTP_PASSWORD_ENV} instead",
            )
        )
    for index, source in enumerate(data.get("sources", []) or []):
        for key in _SECRET_KEYS & set(source if isinstance(source, dict) else {}):
            problems.append(
                (
                    f"sources[{index}].{key}",
                    "secrets do not belong in the settings file — "
                    "remove it and name an environment variable with the connector's *_env option",
                )
            )
    return problems

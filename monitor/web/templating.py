"""The web app's jinja2 templates: autoescaped, with the same masking filters as the emails.

Post content is hostile and full of other people's personal data, so templates print it
through `masked` (reports.render, the filter the emails use) and jinja2 escapes everything
that is not explicitly marked safe. Nothing here marks post content safe.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.templating import Jinja2Templates

from monitor.core import access
from reports.render import is_http_url, masked, truncate_text

TEMPLATES = Path(__file__).with_name("templates")


def when(value: datetime | None) -> str:
    """A UTC time as the pages show it; the <time> element carries the exact ISO value."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.tests["http_url"] = is_http_url
    env.filters["masked"] = masked
    env.filters["truncate_text"] = truncate_text
    env.filters["when"] = when
    env.globals["may_act"] = access.may_act
    env.globals["may_reveal"] = access.may_reveal
    env.globals["may_manage_users"] = access.may_manage_users
    return Jinja2Templates(env=env)


def page_context(request: Any, user: Any, **values: Any) -> dict[str, Any]:
    """What every page template gets: the request, the user and the CSRF token."""
    from monitor.web.security import csrf_token

    return {"request": request, "user": user, "csrf": csrf_token(request), "active": None, **values}

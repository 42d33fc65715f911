"""What every route needs: the settings, the database and the templates, held by the app.

One object on `app.state`, built once by `create_app`, instead of module globals: two apps
(say, two tests with two databases) can live in one process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from starlette.templating import Jinja2Templates

from monitor.core.settings import Settings
from monitor.core.storage import Database
from monitor.web.throttle import LoginThrottle


@dataclass
class WebContext:
    settings: Settings
    db: Database
    templates: Jinja2Templates
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    @property
    def brand_names(self) -> list[str]:
        return [brand.name for brand in self.settings.brands]

    @property
    def competitor_names(self) -> list[str]:
        return sorted({c for brand in self.settings.brands for c in brand.competitors})


def web_context(request: Request) -> WebContext:
    """FastAPI dependency: the app's context."""
    context: WebContext = request.app.state.vigia
    return context


Context = Annotated[WebContext, Depends(web_context)]

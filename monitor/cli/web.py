"""`monitor web`: serve the team's web app (FastAPI on uvicorn).

The web stack (FastAPI, uvicorn, the app's routes and templates) is imported inside the
command, so `monitor run` and the other commands never pay for it.

Behind a reverse proxy (the usual way to get HTTPS), uvicorn trusts its X-Forwarded-*
headers only from `--forwarded-allow-ips` (uvicorn's default: $FORWARDED_ALLOW_IPS, else
127.0.0.1), so a client cannot pose as another address by sending the header itself.
"""

from __future__ import annotations

from typing import Annotated

import typer

from monitor.cli.common import context_of, open_db


def register(app: typer.Typer) -> None:
    app.command()(web)


def web(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: [web] host).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to listen on (default: [web] port)."),
    ] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="Proxies whose X-Forwarded-For/-Proto headers are trusted, comma-separated "
            "(default: $FORWARDED_ALLOW_IPS, else 127.0.0.1).",
        ),
    ] = None,
) -> None:
    """Serve the web app: the team's inbox, review workflow and dashboards."""
    import uvicorn

    from monitor.web.app import create_app

    settings = context_of(ctx).settings()
    application = create_app(settings, open_db(settings))
    uvicorn.run(
        application,
        host=host or settings.web.host,
        port=port or settings.web.port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_config=None,  # uvicorn's records go through the command's own (Rich) logging
        server_header=False,
    )

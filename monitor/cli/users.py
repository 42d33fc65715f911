"""`monitor users`: the web app's accounts and API tokens, managed from the server's shell.

Whoever can run this command can read the database anyway, so it needs no login of its own;
it is how the first admin is made. Passwords are read from a hidden prompt (typed twice) or,
for scripts, one line of standard input; tokens are printed once on standard output, alone,
so `$(monitor users token bot)` captures exactly the token. Neither is ever logged.

monitor.app.users (and argon2 with it) is imported inside the commands: `monitor run` does
not need it.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from monitor.cli.common import HELP_MODE, console, context_of, errors, open_db
from monitor.core.access import ROLES
from monitor.core.errors import VigiaError

users_app = typer.Typer(
    help="Web app users and API tokens.", no_args_is_help=True, rich_markup_mode=HELP_MODE
)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input instead of a prompt.",
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise VigiaError("--password-stdin: standard input held no password line")
        return line
    return typer.prompt(  # type: ignore[no-any-return]
        "Password", hide_input=True, confirmation_prompt=True
    )


@users_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name (no spaces).")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user; the password (at least 10 characters) is asked for twice."""
    from monitor.app.users import add_user, check_name, check_user_role

    settings = context_of(ctx).settings()
    check_name(name)  # both before asking for a password that would be refused
    check_user_role(role)
    user = add_user(open_db(settings), name, role, _read_password(password_stdin))
    console.print(f"✓ user {user.name} added with role {user.role}", markup=False,
                  highlight=False)


@users_app.command("password")
def password(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's password."""
    from monitor.app.users import require_user, set_password

    db = open_db(context_of(ctx).settings())
    require_user(db, name)  # before asking for a password to refuse
    set_password(db, name, _read_password(password_stdin))
    console.print(f"✓ password of {name} changed", markup=False, highlight=False)


@users_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Every user: name, role, when added, last login."""
    from monitor.app.users import list_users

    settings = context_of(ctx).settings()
    found = list_users(open_db(settings))
    if as_json:
        for u in found:
            row = {
                "name": u.name,
                "role": u.role,
                "created_at": u.created_at.isoformat(),
                "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            }
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    zone = settings.schedule.zone
    table = Table(title=f"Users ({len(found)})")
    for column in ("name", "role", "created", "last login"):
        table.add_column(column, no_wrap=column != "name")
    for u in found:
        table.add_row(
            Text(u.name),
            u.role,
            u.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            u.last_login_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            if u.last_login_at
            else "never",
        )
    console.print(table)


@users_app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove a user and their API tokens (their past review actions keep their name)."""
    from monitor.app.users import remove_user, require_user

    db = open_db(context_of(ctx).settings())
    if not yes:
        require_user(db, name)
        typer.confirm(f"Remove user {name} and their API tokens?", abort=True)
    remove_user(db, name)
    console.print(f"✓ user {name} removed", markup=False, highlight=False)


@users_app.command("token")
def token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name of the token's owner.")],
) -> None:
    """Make an API token (for `Authorization: Bearer …`) acting as this user."""
    from monitor.app.users import new_token

    made = new_token(open_db(context_of(ctx).settings()), name)
    sys.stdout.write(made + "\n")
    errors.print(
        f"API token for {name} (role and access as {name}). It will not be shown again: "
        "store it now. `monitor users revoke NAME` revokes all of a user's tokens.",
        markup=False,
        highlight=False,
    )


@users_app.command("revoke")
def revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
) -> None:
    """Revoke every API token of a user."""
    from monitor.app.users import revoke_tokens

    count = revoke_tokens(open_db(context_of(ctx).settings()), name)
    console.print(f"✓ {count} API token(s) of {name} revoked", markup=False, highlight=False)

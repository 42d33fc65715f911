"""The key that signs the web app's session cookies.

From the environment variable named by `[web] secret_key_env` when it is set (several web
processes behind a load balancer must share one key). Otherwise Vigía keeps a random key in
a file, `web-secret`, beside the SQLite database (the folder an operator already backs up and
protects), or in `var/` under the settings folder on PostgreSQL: sessions then survive a
restart without anyone having to make up a key. Losing the file only signs everybody out.

The file is created atomically (written aside, then hard-linked into place, which fails if
another process got there first), readable by its owner only, and never overwritten: two web
processes starting at once end up with the same key.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from monitor.core.errors import VigiaError
from monitor.core.settings import Settings

log = logging.getLogger(__name__)

FILE_NAME = "web-secret"
MIN_LENGTH = 32  # characters; token_urlsafe(32) gives 43
_announced: set[Path] = set()


def secret_key(settings: Settings) -> str:
    """The session-signing key (see the module docstring for where it comes from)."""
    name = settings.web.secret_key_env
    from_env = os.environ.get(name, "")
    if from_env:
        if len(from_env.strip()) < MIN_LENGTH:
            raise VigiaError(
                f"${name} is shorter than {MIN_LENGTH} characters — a session key must not be "
                'guessable; make one with: python -c "import secrets; '
                'print(secrets.token_urlsafe(32))"'
            )
        return from_env.strip()
    path = key_file(settings)
    try:
        key = _read(path) if path.exists() else _create(path)
    except OSError as exc:
        raise VigiaError(
            f"{path}: cannot keep the web session key there ({exc.strerror or exc}) — make the "
            f"folder writable by this user, or set ${name}"
        ) from None
    if path not in _announced:
        _announced.add(path)
        log.info("web session key kept in %s (set $%s to use your own)", path, name)
    return key


def key_file(settings: Settings) -> Path:
    """Where the key file lives: the SQLite database's folder, else var/ under base_dir."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).parent / FILE_NAME  # type: ignore[arg-type]
    return settings.resolve_path("var") / FILE_NAME


def _read(path: Path) -> str:
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_LENGTH:
        raise VigiaError(
            f"{path}: the web session key in this file is missing or too short — delete the "
            "file and Vigía makes a new one (everybody will have to sign in again)"
        )
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("%s can be read by other users of this machine: chmod 600 it", path)
    return key


def _create(path: Path) -> str:
    key = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(key + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(aside, path)
        except FileExistsError:  # another process made one first: use theirs
            return _read(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(aside)
    return key

"""Secrets from environment variables (`VIGIA_*`), never from settings.toml.

Apart from monitor.core.settings because pydantic-settings takes a noticeable share of a short
command's start-up, and only the commands that send email need a secret.
"""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Secrets(BaseSettings):
    """Secrets come from environment variables only, never from settings.toml."""

    model_config = SettingsConfigDict(env_prefix="VIGIA_", extra="ignore")

    smtp_password: SecretStr | None = None

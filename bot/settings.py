"""Settings from the environment and ``.env``; every field is documented in ``.env.example``.

Settings are built by :func:`load_settings` in the entry point and passed down, never imported as a
global. A bad value raises :class:`ConfigError`, whose message names the setting.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.rules import DEFAULT_TIERS, Tier, parse_tiers


class ConfigError(Exception):
    """A setting has a bad value; the message names it and says why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    bot_token: SecretStr | None = None
    bot_username: str | None = None
    database_url: str = "sqlite+aiosqlite:///kpibot.db"
    telegram_api_url: str | None = None
    timezone: str = "Europe/Moscow"
    digest_time: time = time(9, 0)
    kpi_tiers: Annotated[tuple[Tier, ...], NoDecode] = DEFAULT_TIERS
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (e.g. sqlite+aiosqlite:///kpibot.db)"
            )
        return value

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().removeprefix("@")
        if not value.replace("_", "").isalnum():
            raise ValueError("must be the bot's username, e.g. kpi_company_bot")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL, e.g. http://127.0.0.1:8081")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (e.g. Europe/Moscow)") from None
        return value

    @field_validator("digest_time", mode="before")
    @classmethod
    def _digest_time(cls, value: Any) -> Any:
        if isinstance(value, str):
            hours, sep, minutes = value.strip().partition(":")
            if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
                raise ValueError(f"'{value}' is not a time HH:MM (e.g. 09:00)")
            if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
                raise ValueError(f"'{value}' is not a time of day (00:00 to 23:59)")
            return time(int(hours), int(minutes))
        return value

    @field_validator("kpi_tiers", mode="before")
    @classmethod
    def _tiers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_tiers(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def token(self) -> str:
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ConfigError("Setting BOT_TOKEN is empty: put the token from @BotFather into .env")
        return self.bot_token.get_secret_value().strip()


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; turn pydantic's errors into one message that names each bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = str(problem["loc"][0]).upper() if problem["loc"] else "?"
            reason = str(problem["msg"]).removeprefix("Value error, ")
            lines.append(f"Setting {name}: {reason}")
        raise ConfigError("; ".join(lines)) from None


__all__ = ["ConfigError", "Field", "Settings", "load_settings"]

"""Settings from the environment and ``.env``; every field is documented in ``.env.example``.

Settings are built by :func:`load_settings` in the entry point and passed down, never imported as a
global. A bad value raises :class:`ConfigError`, whose message names the setting.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from platformdirs import user_config_dir, user_data_dir
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot import texts
from bot.rules import DEFAULT_TIERS, Thresholds, Tier, parse_tiers
from bot.workdays import MODES, CalendarFileError, WorkCalendar, parse_extra_days

ENV_FILE_VARIABLE = "KPIBOT_ENV_FILE"
APP_NAME = "kpibot"


class ConfigError(Exception):
    """A setting has a bad value; the message names it and says why."""


def default_database_url(env_file: Path | None) -> str:
    """SQLite next to the ``.env`` that was found, else in kpibot's data folder (platformdirs:
    ``~/.local/share/kpibot`` on Linux): never wherever the command happened to start."""
    folder = env_file.parent if env_file is not None else Path(user_data_dir(APP_NAME))
    return f"sqlite+aiosqlite:///{folder / 'kpibot.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    bot_token: SecretStr | None = None
    bot_username: str | None = None
    database_url: str = Field(default_factory=lambda: default_database_url(None))
    telegram_api_url: str | None = None
    timezone: str = "Europe/Moscow"
    pbx_timezone: str | None = None  # the zone of the PBX's CDR times; None: TIMEZONE
    digest_time: time = time(9, 0)
    kpi_tiers: Annotated[tuple[Tier, ...], NoDecode] = DEFAULT_TIERS
    log_level: str = "INFO"
    work_calendar: str = "ru"
    work_calendar_file: Path | None = None
    escalate_after_days: int = Field(45, ge=1, le=3650)
    month_close_workday: int = Field(3, ge=1, le=20)
    send_rate: float = Field(30.0, gt=0, le=30)  # Bot API FAQ; docs/delivery.md "Pacing"
    outbox_lease_seconds: int = Field(10, ge=1, le=3600)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str | None = None
    healthz_listen: str | None = None
    call_min_seconds: int = Field(20, ge=0, le=86400)
    call_max_seconds: int = Field(1800, ge=1, le=86400)
    callback_hours: int = Field(4, ge=1, le=168)
    originals_grace_days: int = Field(5, ge=0, le=3650)
    originals_escalate_days: int = Field(30, ge=1, le=3650)
    company_name: str = ""
    # 1C's standard OData interface (``kpibot sync``, docs/odata.md)
    odata_url: str | None = None
    odata_user: str = ""
    odata_password: SecretStr = SecretStr("")
    odata_mapping: Path | None = None  # a TOML mapping; None: the default (db/importer/odata_default.toml)
    odata_timeout: float = Field(60.0, gt=0, le=3600)  # seconds one request may take
    odata_page_size: int = Field(1000, ge=1, le=100000)  # entries per request ($top)
    import_dir: Path | None = None  # the watched folder where 1C's export and Master.csv land
    import_time: time = time(7, 30)  # the night's import, before DIGEST_TIME
    import_settle_seconds: int = Field(60, ge=0, le=3600)

    @model_validator(mode="after")
    def _limits_in_order(self) -> Settings:
        if self.call_min_seconds >= self.call_max_seconds:
            raise ValueError(texts.SETTING_CALL_LIMITS)
        if self.originals_grace_days >= self.originals_escalate_days:
            raise ValueError(texts.SETTING_ORIGINALS_LIMITS)
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(texts.SETTING_WEBHOOK_NEEDS_SECRET)
        if self.webhook_url and self.webhook_listen is None:
            raise ValueError(texts.SETTING_WEBHOOK_NEEDS_LISTEN)
        if not self.webhook_url and (self.webhook_secret is not None or self.webhook_listen is not None):
            raise ValueError(texts.SETTING_WEBHOOK_ALONE)
        if (self.import_dir is not None or self.odata_url) and self.import_time >= self.digest_time:
            raise ValueError(texts.SETTING_IMPORT_AFTER_DIGEST)
        return self

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        parsed = urlsplit(value)
        if parsed.scheme != "https" or not parsed.hostname:
            raise ValueError(texts.SETTING_WEBHOOK_URL)
        if parsed.port not in (None, 443, 80, 88, 8443):
            raise ValueError(texts.SETTING_WEBHOOK_PORT)
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        text = text.strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", text):
            raise ValueError(texts.SETTING_WEBHOOK_SECRET)
        return text

    @field_validator("webhook_listen", "healthz_listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(texts.setting_listen(value))
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(texts.SETTING_DATABASE_URL)
        return value

    @field_validator("bot_username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().removeprefix("@")
        if not value.replace("_", "").isalnum():
            raise ValueError(texts.SETTING_USERNAME)
        return value

    @field_validator("company_name")
    @classmethod
    def _company_name(cls, value: str) -> str:
        value = " ".join(value.split())  # one line: it heads the reports
        if len(value) > 120:
            raise ValueError(texts.setting_company_too_long(len(value)))
        if any(not char.isprintable() for char in value):
            raise ValueError(texts.SETTING_COMPANY_PRINTABLE)
        return value

    @field_validator("odata_url")
    @classmethod
    def _odata_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError(texts.SETTING_ODATA_URL)
        if "@" in value.split("//", 1)[1].split("/", 1)[0]:
            raise ValueError(texts.SETTING_ODATA_CREDENTIALS)
        if "/odata/standard.odata" not in value:
            raise ValueError(texts.SETTING_ODATA_STANDARD)
        return value.split("/odata/standard.odata")[0] + "/odata/standard.odata/"

    @field_validator("odata_mapping", mode="before")
    @classmethod
    def _odata_mapping(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        from db.importer.odata_mapping import MappingError, load_mapping

        path = Path(str(value).strip())
        try:
            load_mapping(path)
        except MappingError as error:
            raise ValueError(str(error)) from None
        return path

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(texts.SETTING_API_URL)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(texts.setting_unknown_zone(value)) from None
        return value

    @field_validator("pbx_timezone", mode="before")
    @classmethod
    def _pbx_timezone(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        value = str(value).strip()
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(texts.setting_unknown_zone(value, texts.PBX_ZONE_EXAMPLE)) from None
        return value

    @field_validator("import_dir", mode="before")
    @classmethod
    def _import_dir(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        path = Path(str(value).strip()).expanduser()
        if not path.is_dir():
            raise ValueError(texts.setting_not_a_folder(path))
        return path

    @field_validator("digest_time", "import_time", mode="before")
    @classmethod
    def _digest_time(cls, value: Any) -> Any:
        if isinstance(value, str):
            hours, sep, minutes = value.strip().partition(":")
            if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
                raise ValueError(texts.setting_not_hhmm(value))
            if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
                raise ValueError(texts.setting_not_time_of_day(value))
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
            raise ValueError(texts.SETTING_LOG_LEVEL)
        return value

    @field_validator("work_calendar")
    @classmethod
    def _work_calendar(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in MODES:
            raise ValueError(texts.SETTING_WORK_CALENDAR)
        return value

    @field_validator("work_calendar_file", mode="before")
    @classmethod
    def _calendar_file(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        path = Path(str(value).strip())
        try:
            parse_extra_days(path.read_text(encoding="utf-8-sig"))
        except OSError as error:
            raise ValueError(texts.setting_cannot_read(path, str(error.strerror or error))) from None
        except UnicodeDecodeError:
            raise ValueError(texts.setting_not_utf8(path)) from None
        except CalendarFileError as error:
            raise ValueError(f"{path}: {error}") from None
        return path

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            self.call_min_seconds,
            self.call_max_seconds,
            self.callback_hours,
            self.originals_grace_days,
            self.originals_escalate_days,
        )

    @property
    def calendar(self) -> WorkCalendar:
        path = self.work_calendar_file
        return _calendar(self.work_calendar, path, path.stat().st_mtime_ns if path is not None else 0)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def pbx_zone(self) -> ZoneInfo:
        """The zone the PBX writes its CDR times in (``PBX_TIMEZONE``, default ``TIMEZONE``)."""
        return ZoneInfo(self.pbx_timezone) if self.pbx_timezone else self.zone

    @property
    def webhook_path(self) -> str:
        """The path Telegram posts updates to: the path of ``WEBHOOK_URL`` (``/`` when it has none)."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def night_sources(self) -> list[str]:
        """The sources the night run imports, in ``jobs.imports.sources`` order: ``folder`` with
        ``IMPORT_DIR``, ``odata`` with ``ODATA_URL``."""
        configured = (("folder", self.import_dir is not None), ("odata", bool(self.odata_url)))
        return [name for name, on in configured if on]

    def next_import_at(self, now: datetime) -> datetime | None:
        """When the next night run (the watched folder's and the OData sync's) is due (local, aware
        like ``now``): ``IMPORT_TIME`` on the next working day from ``now`` on; ``None`` without
        ``IMPORT_DIR`` and ``ODATA_URL``."""
        if self.import_dir is None and not self.odata_url:
            return None
        for ahead in range(366):
            day = now.date() + timedelta(days=ahead)
            moment = datetime.combine(day, self.import_time, now.tzinfo)
            if moment > now and self.calendar.is_working_day(day):
                return moment
        return None

    def token(self) -> str:
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ConfigError(texts.SETTING_TOKEN_EMPTY)
        return self.bot_token.get_secret_value().strip()


@lru_cache(maxsize=8)
def _calendar(mode: str, path: Path | None, _mtime: int) -> WorkCalendar:
    """The calendar, read again only when the extra dates file changes."""
    return WorkCalendar(mode, parse_extra_days(path.read_text(encoding="utf-8-sig")) if path is not None else {})


def misspelled_settings(names: Iterable[str]) -> list[str]:
    """One line for each of ``names`` (keys of a ``.env``) that is not a setting but close to one
    (``DIGEST_TIMES`` → ``DIGEST_TIME``, by ``difflib``); names close to nothing are left alone, as a
    ``.env`` shared with docker compose holds other programs' settings too."""
    known = sorted(name.upper() for name in Settings.model_fields)
    lines = []
    for name in names:
        upper = name.strip().upper()
        if upper in known:
            continue
        close = difflib.get_close_matches(upper, known, n=1, cutoff=0.8)
        if close:
            lines.append(texts.setting_misspelled(upper, close[0]))
    return lines


def find_env_file() -> Path | None:
    """The ``.env`` a command uses: the file ``KPIBOT_ENV_FILE`` names, else ``.env`` in the current
    folder, else ``.env`` in kpibot's configuration folder (platformdirs: ``~/.config/kpibot`` on
    Linux); ``None`` when there is none."""
    named = os.environ.get(ENV_FILE_VARIABLE, "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigError(texts.setting_env_file_missing(ENV_FILE_VARIABLE, path))
        return path.resolve()
    for candidate in (Path(".env"), Path(user_config_dir(APP_NAME)) / ".env"):
        if candidate.is_file():
            return candidate.resolve()
    return None


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment and the ``.env`` :func:`find_env_file` finds; turn
    pydantic's errors into one message that names each bad setting, and stop at a misspelled name in
    ``.env``. Without ``DATABASE_URL`` the database is :func:`default_database_url`."""
    env_file = overrides.pop("_env_file") if "_env_file" in overrides else find_env_file()  # None: no .env
    written = dotenv_values(env_file) if env_file is not None else {}
    misspelled = misspelled_settings(written.keys())
    if misspelled:
        raise ConfigError("; ".join(misspelled))
    if "database_url" not in overrides and not os.environ.get("DATABASE_URL") and not written.get("DATABASE_URL"):
        overrides["database_url"] = default_database_url(env_file)
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            reason = texts.setting_pydantic_reason(
                problem["type"], problem.get("ctx"), str(problem["msg"]).removeprefix("Value error, ")
            )
            if problem["loc"]:
                lines.append(texts.setting_bad(str(problem["loc"][0]).upper(), reason))
            else:  # a rule across settings: the reason names them
                lines.append(texts.settings_bad(reason))
        raise ConfigError("; ".join(lines)) from None


__all__ = ["ConfigError", "Field", "Settings", "load_settings"]

"""Settings: defaults, and a bad value stops start-up naming the setting."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from bot.rules import DEFAULT_TIERS
from bot.settings import ConfigError, Settings, load_settings


def test_defaults_match_env_example(tmp_path: Path) -> None:
    settings = load_settings()  # no .env: SQLite in the data folder (XDG_DATA_HOME in the tests)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'xdg-data' / 'kpibot' / 'kpibot.db'}"
    assert settings.timezone == "Europe/Moscow"
    assert settings.digest_time == time(9, 0)
    assert settings.kpi_tiers == DEFAULT_TIERS
    assert settings.telegram_api_url is None


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_TIERS", "70:0.05,80:0.15")
    monkeypatch.setenv("DIGEST_TIME", "08:30")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    settings = load_settings()
    assert [t.coefficient for t in settings.kpi_tiers] == [Decimal("0.05"), Decimal("0.15")]
    assert settings.digest_time == time(8, 30)
    assert settings.telegram_api_url == "http://127.0.0.1:8081"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("KPI_TIERS", "85:0.2,75:0.1", "Setting KPI_TIERS: thresholds must be strictly ascending"),
        ("TIMEZONE", "Mars/Olympus", "Setting TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("DIGEST_TIME", "9 am", "Setting DIGEST_TIME: '9 am' is not a time HH:MM"),
        ("DIGEST_TIME", "25:00", "Setting DIGEST_TIME: '25:00' is not a time of day"),
        ("DATABASE_URL", "mysql://x", "Setting DATABASE_URL: must start with sqlite+aiosqlite://"),
        ("TELEGRAM_API_URL", "localhost:8081", "Setting TELEGRAM_API_URL: must be an http:// or https:// URL"),
        ("SEND_RATE", "31", "Setting SEND_RATE: Input should be less than or equal to 30"),
        ("CALL_MIN_SECONDS", "abc", "Setting CALL_MIN_SECONDS: Input should be a valid integer"),
        ("CALL_MIN_SECONDS", "2000", "Settings: CALL_MIN_SECONDS must be less than CALL_MAX_SECONDS"),
        ("ORIGINALS_GRACE_DAYS", "30", "Settings: ORIGINALS_GRACE_DAYS must be less than ORIGINALS_ESCALATE_DAYS"),
        ("CALLBACK_HOURS", "0", "Setting CALLBACK_HOURS: Input should be greater than or equal to 1"),
        ("WEBHOOK_URL", "http://kpi.example.ru/tg", "Setting WEBHOOK_URL: must be an https:// URL Telegram can reach"),
        ("WEBHOOK_URL", "https://kpi.example.ru:8080/tg", "Setting WEBHOOK_URL: Telegram sends webhooks only to ports"),
        ("WEBHOOK_URL", "https://kpi.example.ru/tg", "Settings: WEBHOOK_SECRET must be set with WEBHOOK_URL"),
        ("WEBHOOK_SECRET", "short", "Setting WEBHOOK_SECRET: must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -"),
        ("WEBHOOK_SECRET", "a" * 20, "Settings: WEBHOOK_SECRET and WEBHOOK_LISTEN go with WEBHOOK_URL"),
        ("WEBHOOK_LISTEN", "8080", "Setting WEBHOOK_LISTEN: '8080' is not host:port"),
        ("HEALTHZ_LISTEN", "0.0.0.0:99999", "Setting HEALTHZ_LISTEN: '0.0.0.0:99999' is not host:port"),
        ("OUTBOX_LEASE_SECONDS", "0", "Setting OUTBOX_LEASE_SECONDS: Input should be greater than or equal to 1"),
    ],
)
def test_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value).startswith(message)


def test_webhook_settings_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://kpi.example.ru/telegram/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret-token_for-TESTS")
    monkeypatch.setenv("WEBHOOK_LISTEN", "0.0.0.0:8080")
    settings = load_settings()
    assert settings.webhook_path == "/telegram/hook" and settings.webhook_secret is not None
    assert "s3cret" not in repr(settings)  # a secret, like the token


def test_settings_are_read_from_dotenv(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text("DIGEST_TIME=07:45\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings().digest_time == time(7, 45)


def test_empty_token_is_a_named_error() -> None:
    with pytest.raises(ConfigError, match="BOT_TOKEN"):
        load_settings().token()


def test_every_setting_is_documented_with_its_default_in_env_example_and_readme(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = Path(__file__).resolve().parent.parent
    example = {}
    for line in (root / ".env.example").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            example[name] = value
    readme = (root / "README.md").read_text(encoding="utf-8")
    names = {name.upper() for name in Settings.model_fields}
    assert set(example) == names
    assert all(f"`{name}`" in readme for name in names), [n for n in names if f"`{n}`" not in readme]
    for name, value in example.items():
        if value:
            monkeypatch.setenv(name, value)
    assert load_settings() == Settings(_env_file=None)  # type: ignore[call-arg]


def test_company_name_is_one_line_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANY_NAME", "  ООО «Ромашка-Софт»\n ")
    assert load_settings().company_name == "ООО «Ромашка-Софт»"
    monkeypatch.setenv("COMPANY_NAME", "Ж" * 121)
    with pytest.raises(ConfigError, match="Setting COMPANY_NAME: at most 120 characters"):
        load_settings()
    monkeypatch.setenv("COMPANY_NAME", "ООО \x07Звонок")
    with pytest.raises(ConfigError, match="Setting COMPANY_NAME: must be printable text"):
        load_settings()

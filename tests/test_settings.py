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
        ("KPI_TIERS", "85:0.2,75:0.1", "Настройка KPI_TIERS: thresholds must be strictly ascending"),
        ("TIMEZONE", "Mars/Olympus", "Настройка TIMEZONE: неизвестный часовой пояс 'Mars/Olympus'"),
        ("DIGEST_TIME", "9 am", "Настройка DIGEST_TIME: '9 am' — не время ЧЧ:ММ"),
        ("DIGEST_TIME", "25:00", "Настройка DIGEST_TIME: '25:00' — не время суток"),
        ("DATABASE_URL", "mysql://x", "Настройка DATABASE_URL: должна начинаться с sqlite+aiosqlite://"),
        ("TELEGRAM_API_URL", "localhost:8081", "Настройка TELEGRAM_API_URL: нужен адрес http:// или https://"),
        ("SEND_RATE", "31", "Настройка SEND_RATE: должно быть не больше 30"),
        ("CALL_MIN_SECONDS", "abc", "Настройка CALL_MIN_SECONDS: нужно целое число"),
        ("CALL_MIN_SECONDS", "2000", "Настройки: CALL_MIN_SECONDS должна быть меньше CALL_MAX_SECONDS"),
        ("ORIGINALS_GRACE_DAYS", "30", "Настройки: ORIGINALS_GRACE_DAYS должна быть меньше ORIGINALS_ESCALATE_DAYS"),
        ("CALLBACK_HOURS", "0", "Настройка CALLBACK_HOURS: должно быть не меньше 1"),
        ("WEBHOOK_URL", "http://kpi.example.ru/tg", "Настройка WEBHOOK_URL: нужен адрес https://, доступный Telegram"),
        ("WEBHOOK_URL", "https://kpi.example.ru:8080/tg", "Настройка WEBHOOK_URL: Telegram шлёт вебхуки только на"),
        ("WEBHOOK_URL", "https://kpi.example.ru/tg", "Настройки: WEBHOOK_SECRET обязательна вместе с WEBHOOK_URL"),
        ("WEBHOOK_SECRET", "short", "Настройка WEBHOOK_SECRET: нужно от 16 до 256 символов из A-Z, a-z, 0-9, _ и -"),
        ("WEBHOOK_SECRET", "a" * 20, "Настройки: WEBHOOK_SECRET и WEBHOOK_LISTEN задаются только вместе с WEBHOOK_URL"),
        ("WEBHOOK_LISTEN", "8080", "Настройка WEBHOOK_LISTEN: '8080' — не host:port"),
        ("HEALTHZ_LISTEN", "0.0.0.0:99999", "Настройка HEALTHZ_LISTEN: '0.0.0.0:99999' — не host:port"),
        ("OUTBOX_LEASE_SECONDS", "0", "Настройка OUTBOX_LEASE_SECONDS: должно быть не меньше 1"),
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
    with pytest.raises(ConfigError, match=r"^Настройка BOT_TOKEN пуста"):
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
    with pytest.raises(ConfigError, match="Настройка COMPANY_NAME: не длиннее 120 символов"):
        load_settings()
    monkeypatch.setenv("COMPANY_NAME", "ООО \x07Звонок")
    with pytest.raises(ConfigError, match="Настройка COMPANY_NAME: нужен печатный текст"):
        load_settings()


async def test_a_sqlite_url_in_a_missing_folder_is_refused_not_created(tmp_path: Path) -> None:
    from bot.cli import CommandError, open_database

    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'typo' / 'kpibot.db'}")
    with pytest.raises(CommandError, match=r"^папки для базы данных нет \(.*typo/kpibot\.db\)"):
        async with open_database(settings, create=True):
            pass
    assert not (tmp_path / "typo").exists()
    default = load_settings()  # no .env: kpibot's own data folder, made on first use
    async with open_database(default, create=True):
        pass
    assert (tmp_path / "xdg-data" / "kpibot" / "kpibot.db").is_file()

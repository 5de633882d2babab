"""A misspelled setting in .env stops start-up naming it and the closest real one."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import texts
from bot.settings import ConfigError, load_settings, misspelled_settings


@pytest.mark.parametrize(
    ("written", "meant"),
    [("DIGEST_TIMES", "DIGEST_TIME"), ("KPI_TIER", "KPI_TIERS"), ("import_dirs", "IMPORT_DIR"),
     ("TIMEZON", "TIMEZONE")],
)  # fmt: skip
def test_a_misspelled_setting_in_env_stops_start_up(tmp_path: Path, written: str, meant: str) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN=42:T\n{written}=09:30\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value) == f"Настройка {written.upper()} неизвестна: может быть, {meant}?"


def test_other_programs_settings_and_the_right_names_pass(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "POSTGRES_PASSWORD=secret\nCOMPOSE_PROJECT_NAME=kpibot\nDIGEST_TIME=08:45\nKPI_TIERS=75:0.1,85:0.2\n",
        encoding="utf-8",
    )
    assert str(load_settings().digest_time) == "08:45:00"
    assert misspelled_settings(["bot_token", "LOG_LEVEL"]) == []


def test_every_misspelling_is_named_at_once(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DIGEST_TIMES=09:00\nKPI_TIER=75:0.1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"DIGEST_TIMES.*DIGEST_TIME.*; Настройка KPI_TIER .*KPI_TIERS"):
        load_settings()


# --- where the .env and the database are: never wherever the command happened to start -------------------


def test_without_env_or_database_url_the_database_is_in_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'xdg-data' / 'kpibot' / 'kpibot.db'}"


def test_the_database_lives_next_to_the_env_that_was_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "xdg-config" / "kpibot"
    config.mkdir(parents=True)
    (config / ".env").write_text("DIGEST_TIME=08:15\n", encoding="utf-8")
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    settings = load_settings()  # the configuration folder's .env, from any folder
    assert str(settings.digest_time) == "08:15:00"
    assert settings.database_url == f"sqlite+aiosqlite:///{config / 'kpibot.db'}"
    (elsewhere / ".env").write_text("DIGEST_TIME=08:20\n", encoding="utf-8")  # the current folder's comes first
    assert load_settings().database_url == f"sqlite+aiosqlite:///{elsewhere / 'kpibot.db'}"
    named = tmp_path / "etc" / "kpibot.env"
    named.parent.mkdir()
    named.write_text(
        "DIGEST_TIME=08:25\nDATABASE_URL=sqlite+aiosqlite:////var/lib/kpibot/kpibot.db\n", encoding="utf-8"
    )
    monkeypatch.setenv("KPIBOT_ENV_FILE", str(named))  # what the systemd unit sets
    settings = load_settings()
    assert str(settings.digest_time) == "08:25:00"
    assert settings.database_url == "sqlite+aiosqlite:////var/lib/kpibot/kpibot.db"
    monkeypatch.setenv("KPIBOT_ENV_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(ConfigError, match=r"KPIBOT_ENV_FILE: .*missing\.env — не файл"):
        load_settings()


def test_a_command_that_finds_no_database_says_so_and_makes_none(tmp_path: Path) -> None:
    from tests.test_cli import kpibot

    expected = tmp_path / "xdg-data" / "kpibot" / "kpibot.db"
    for command in (["employees"], ["outbox"], ["digest"]):
        result = kpibot(*command, cwd=tmp_path, env={})
        assert result.returncode == 1
        assert result.stderr.startswith(f"kpibot: {texts.cli_no_database(expected)}")
        assert "Traceback" not in result.stderr
    assert not expected.exists() and not (tmp_path / "kpibot.db").exists()
    misspelled = kpibot("employees", cwd=tmp_path, env={"KPIBOT_ENV_FILE": str(tmp_path / "k.env")})
    assert misspelled.returncode == 2 and "KPIBOT_ENV_FILE" in misspelled.stderr

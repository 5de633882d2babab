"""A misspelled setting in .env stops start-up naming it and the closest real one."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    assert str(error.value) == f"Setting {written.upper()} is not a kpibot setting: did you mean {meant}?"


def test_other_programs_settings_and_the_right_names_pass(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "POSTGRES_PASSWORD=secret\nCOMPOSE_PROJECT_NAME=kpibot\nDIGEST_TIME=08:45\nKPI_TIERS=75:0.1,85:0.2\n",
        encoding="utf-8",
    )
    assert str(load_settings().digest_time) == "08:45:00"
    assert misspelled_settings(["bot_token", "LOG_LEVEL"]) == []


def test_every_misspelling_is_named_at_once(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DIGEST_TIMES=09:00\nKPI_TIER=75:0.1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"DIGEST_TIMES.*DIGEST_TIME.*; Setting KPI_TIER .*KPI_TIERS"):
        load_settings()

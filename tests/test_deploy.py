"""deploy/: the systemd unit verifies (where systemd-analyze exists), the image holds every package,
and the settings the unit and compose file give kpibot are real ones."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from bot.settings import ENV_FILE_VARIABLE, Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SETTINGS = {name.upper() for name in Settings.model_fields}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_the_unit_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "kpibot.service").read_text(encoding="utf-8")
    kpibot = ROOT / ".venv" / "bin" / "kpibot"
    (tmp_path / "kpibot.service").write_text(unit.replace("/opt/kpibot/.venv/bin/kpibot", str(kpibot)))
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "kpibot.service")],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ExecStart=/opt/kpibot/.venv/bin/kpibot run" in unit
    assert f"Environment={ENV_FILE_VARIABLE}=/etc/kpibot/kpibot.env" in unit


def test_the_image_copies_every_package_the_project_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, flags=re.MULTILINE))
    assert packages <= copied, packages - copied
    assert "-c requirements.lock" in dockerfile


def test_compose_gives_kpibot_real_settings_only() -> None:
    compose = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    kpibot = compose.split("  kpibot:\n", 1)[1].split("\nvolumes:", 1)[0]
    environment = kpibot.split("    environment:\n", 1)[1].split("\n    volumes:", 1)[0]
    names = re.findall(r"^      (\w+):", environment, flags=re.MULTILINE)
    assert names and set(names) <= SETTINGS, set(names) - SETTINGS

"""The benchmark harness at a tiny size, so it cannot rot: every step runs and reports, and the
figures it writes are the ones it measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.dataset import Size, write_dataset
from bench.run import main


def test_the_dataset_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    size = Size.scaled(0.001)
    first = write_dataset(tmp_path / "a", size)
    second = write_dataset(tmp_path / "b", size)
    for entity, (path, rows) in first.items():
        assert path.read_bytes() == second[entity][0].read_bytes()
        assert rows > 0


@pytest.mark.slow
def test_a_small_benchmark_runs_every_step_and_writes_its_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--scale", "0.002", "--work", str(tmp_path / "work"), "--results", str(tmp_path / "results"),
                   "--repeat", "2"])  # fmt: skip
    assert status == 0
    out = capsys.readouterr().out
    for step in ("1. import", "2. digests", "3. commands", "4. broadcast", "5. re-import"):
        assert step in out
    (result,) = (tmp_path / "results").glob("*-sqlite-x0.002.json")
    data = json.loads(result.read_text(encoding="utf-8"))
    assert data["cores"] and data["size"]["managers"] == 2
    imported = data["results"]["import"]
    assert set(imported) == {"employees", "contracts", "payments", "interactions", "documents", "pbx"}
    assert all(figure["rows_per_s"] > 0 and figure["plain_rows_per_s"] > 0 for figure in imported.values())
    assert data["results"]["reimport"]["changed_rows"] == 0
    assert data["results"]["broadcast"]["delivered"] == data["results"]["broadcast"]["messages"] == 2
    assert data["results"]["digests"]["employees"] == 4  # 2 managers, 1 supervisor, 1 admin
    assert set(data["results"]["commands"]) >= {"/kpi", "/debtors", "/calls", "/team (admin, all)"}

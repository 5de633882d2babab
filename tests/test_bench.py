"""The benchmark harness at a tiny size, so it cannot rot: every step runs and reports, and the
figures it writes are the ones it measured."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench.dataset import Size, append_day, rewrite_export, write_dataset
from bench.run import main


def test_the_dataset_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    size = Size.scaled(0.001)
    first = write_dataset(tmp_path / "a", size)
    second = write_dataset(tmp_path / "b", size)
    for entity, (path, rows) in first.items():
        assert path.read_bytes() == second[entity][0].read_bytes()
        assert rows > 0


def test_the_rewritten_export_differs_in_every_file_and_in_no_row(tmp_path: Path) -> None:
    size = Size.scaled(0.001)
    files = write_dataset(tmp_path / "a", size)
    appended_folder, appended = append_day(
        tmp_path / "a", tmp_path / "next", size, {e: n for e, (_, n) in files.items()}
    )
    rewritten = rewrite_export(appended_folder, tmp_path / "quoted")
    for path in sorted(appended_folder.glob("*.csv")):
        copy = rewritten / path.name
        assert copy.read_bytes() != path.read_bytes(), path.name
        encoding, delimiter = ("utf-8", ",") if path.name == "Master.csv" else ("cp1251", ";")
        with path.open(encoding=encoding, newline="") as one, copy.open(encoding=encoding, newline="") as other:
            assert list(csv.reader(one, delimiter=delimiter)) == list(csv.reader(other, delimiter=delimiter))
    assert appended["payments"] > 0


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
    appended = data["results"]["reimport_appended_day"]
    assert appended["added_rows"] == sum(appended["appended_rows"].values()) and appended["changed_rows"] == 0
    rewritten = data["results"]["reimport_files_changed_rows_not"]
    assert rewritten["changed_rows"] == 0 and rewritten["skipped"] == []
    assert rewritten["unchanged_rows"] == sum(data["results"]["rows"].values()) + sum(
        appended["appended_rows"].values()
    )
    assert data["results"]["broadcast"]["delivered"] == data["results"]["broadcast"]["messages"] == 2
    assert data["results"]["digests"]["employees"] == 4  # 2 managers, 1 supervisor, 1 admin
    assert set(data["results"]["commands"]) >= {"/kpi", "/debtors", "/calls", "/team (admin, all)"}
    assert all(c["statements_per_call"] >= 1 for c in data["results"]["commands"].values())  # the viewer at least

"""The worked example of docs/odata.md, from the document's own blocks, on both databases."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from bot.settings import load_settings
from db.importer import import_paths
from db.importer.odata import sync_odata
from db.models import Payment
from db.session import SessionPool
from tests.factories import CONTRACTS_HEADER, EMPLOYEES_HEADER, write_csv
from tests.fake_1c_odata import PASSWORD, USER, FakeOData

DOC = (Path(__file__).parents[1] / "docs" / "odata.md").read_text(encoding="utf-8")
EXAMPLE = DOC.split("## Worked example")[1]
FIRST = datetime(2026, 11, 27, 23, 0)  # UTC: 02:00 on 28.11 in Moscow
SECOND = datetime(2026, 11, 28, 23, 0)  # the next night


def block(language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", EXAMPLE, re.DOTALL)
    assert found is not None, language
    return found.group(1)


async def test_the_worked_example_of_docs_odata(pool: SessionPool, database_url: str, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(block("toml"), encoding="utf-8")
    answer = json.loads(block("json"), parse_float=Decimal)
    assert answer["odata.metadata"].endswith("$metadata#Document_ПриходныйКассовыйОрдер")
    contract = answer["value"][0]["Договор_Key"]
    write_csv(tmp_path / "employees.csv", EMPLOYEES_HEADER, [["m1", "Аракелян Наринэ", "manager", "", "", "", "1"]])
    write_csv(tmp_path / "contracts.csv", CONTRACTS_HEADER,
              [[contract, "РС-1", "k1", "ООО «Ромашка»", "m1", "01.01.2026", "", "2 818,50", "ИТС", ""]])  # fmt: skip
    await import_paths(pool, [tmp_path], zone=load_settings().zone, now=FIRST)

    fake = await FakeOData({"Document_ПриходныйКассовыйОрдер": answer["value"]}).start()
    try:
        settings = load_settings(odata_url=fake.url, odata_user=USER, odata_password=PASSWORD,
                                 odata_mapping=str(mapping), database_url=database_url)  # fmt: skip
        await sync_odata(pool, settings, FIRST, backoff=0.001)
        async with pool() as session:
            payments = (await session.execute(select(Payment))).scalars().all()
        assert [(p.id, p.contract_id, p.paid_on, p.amount) for p in payments] == [
            ("9a700001-0000-11ee-8c99-0242ac120002", contract, date(2026, 11, 5), 281850)
        ]
        assert "**2 818,50 ₽**" in EXAMPLE and "(281 850 kopecks" in EXAMPLE
        await sync_odata(pool, settings, SECOND, backoff=0.001)
        asked = fake.requested("Document_ПриходныйКассовыйОрдер")[-1]["$filter"]
        assert f"`$filter={asked}`" in EXAMPLE
        first = fake.requested("Document_ПриходныйКассовыйОрдер")[0]
        shown = f"$select={first['$select']}&$orderby=Ref_Key&$top=1000&$skip=0"
        assert shown in EXAMPLE
    finally:
        await fake.stop()

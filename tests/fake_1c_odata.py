"""A fake 1C base's standard OData interface on 127.0.0.1 (aiohttp), serving what 1C serves.

``GET …/odata/standard.odata/<EntitySet>?$format=json`` answers
``{"odata.metadata": "<base>$metadata#<EntitySet>", "value": [...]}`` with 1C's Cyrillic entity
and field names, ``Ref_Key`` guids, ``DeletionMark``, ``Posted`` and ``Date``; ``$select``,
``$top``/``$skip`` (in ``$orderby=Ref_Key`` order) and the ``$filter`` forms kpibot sends
(``X eq true|false``, ``X ge datetime'…'``, joined by ``and``) are honoured. ``$metadata`` is an
EDMX document built from the entries' fields. HTTP Basic auth is checked; a wrong password gets
1C's 401. Faults are planned per request: ``faults[(entity_set, skip)]`` is a list consumed one
request at a time, each an HTTP status (answered with 1C's ``odata.error`` body), ``"slow"`` or
``"login page"`` (HTML with 200, as a proxy in front of 1C answers).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

BASE_PATH = "/buh/odata/standard.odata/"
USER, PASSWORD = "kpibot", "секрет"
_CONDITION = re.compile(r"^\(?(\w+) (eq|ge) (true|false|datetime'([^']+)')\)?$")


def _error(status: int, message: str) -> web.Response:
    body = {"odata.error": {"code": "-1", "message": {"lang": "ru", "value": message}}}
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _matches(entry: dict[str, Any], condition: str) -> bool:
    found = _CONDITION.match(condition.strip())
    if found is None:
        raise ValueError(condition)
    name, op, literal, moment = found.groups()
    value = entry.get(name)
    if moment is not None:
        return value is not None and op == "ge" and str(value) >= moment
    return value is (literal == "true")


def _json_default(value: object) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral() else int(value)
    raise TypeError(type(value))


@dataclass
class FakeOData:
    sets: dict[str, list[dict[str, Any]]]
    faults: dict[tuple[str, int], list[int | str]] = field(default_factory=dict)
    unpublished: set[str] = field(default_factory=set)  # sets 404, and absent from $metadata
    hidden_fields: dict[str, set[str]] = field(default_factory=dict)  # fields not in $metadata
    slow_seconds: float = 2.0
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> FakeOData:
        app = web.Application()
        app.router.add_get(BASE_PATH + "{name}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}{BASE_PATH}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def requested(self, entity_set: str) -> list[dict[str, str]]:
        return [params for name, params in self.requests if name == entity_set]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        params = dict(request.query)
        self.requests.append((name, params))
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if auth != expected:
            return _error(401, "Ошибка аутентификации")
        planned = self.faults.get((name, int(params.get("$skip", "0"))))
        if planned:
            fault = planned.pop(0)
            if fault == "slow":
                await asyncio.sleep(self.slow_seconds)
            elif fault == "login page":  # a proxy's sign-in page, answered 200
                return web.Response(text="<html><body>Вход</body></html>", content_type="text/html")
            else:
                assert isinstance(fault, int)
                return _error(fault, "Внутренняя ошибка сервера" if fault >= 500 else "Нет прав")
        if name == "$metadata":
            return web.Response(text=self._metadata(), content_type="application/xml")
        if name not in self.sets or name in self.unpublished:
            return _error(404, f"Не найден ресурс {name}")
        entries = sorted(self.sets[name], key=lambda e: str(e["Ref_Key"]))
        for condition in filter(None, params.get("$filter", "").split(" and ")):
            entries = [e for e in entries if _matches(e, condition)]
        skip, top = int(params.get("$skip", "0")), int(params.get("$top", str(len(entries))))
        page = entries[skip : skip + top]
        if "$select" in params:
            wanted = params["$select"].split(",")
            page = [{k: v for k, v in e.items() if k in wanted} for e in page]
        body = {"odata.metadata": f"{self.url}$metadata#{name}", "value": page}
        text = json.dumps(body, ensure_ascii=False, default=_json_default)
        return web.Response(text=text, content_type="application/json")

    def _metadata(self) -> str:
        types, sets = [], []
        for name, entries in self.sets.items():
            if name in self.unpublished:
                continue
            fields = sorted({key for entry in entries for key in entry} - self.hidden_fields.get(name, set()))
            props = "".join(f'<Property Name="{f}" Type="Edm.String"/>' for f in fields)
            types.append(f'<EntityType Name="{name}"><Key><PropertyRef Name="Ref_Key"/></Key>{props}</EntityType>')
            sets.append(f'<EntitySet Name="{name}" EntityType="StandardODATA.{name}"/>')
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<edmx:Edmx xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" Version="1.0">'
            '<edmx:DataServices xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
            '<Schema xmlns="http://schemas.microsoft.com/ado/2009/11/edm" Namespace="StandardODATA">'
            + "".join(types)
            + '<EntityContainer Name="StandardODATA" m:IsDefaultEntityContainer="true">'
            + "".join(sets)
            + "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
        )

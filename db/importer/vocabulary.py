"""The words of the exports: entity and file names, column headers and their Russian aliases, the
values of roles, kinds, directions and statuses, and Asterisk's CDR shapes."""

from __future__ import annotations

import re

ENTITIES = ("employees", "contracts", "payments", "interactions", "documents", "pbx")

# Normalized file or sheet names (see ``normalize``) for each entity.
ENTITY_NAMES: dict[str, tuple[str, ...]] = {
    "employees": ("employees", "сотрудники", "пользователи", "менеджеры"),
    "contracts": ("contracts", "договоры", "договора", "договоры сопровождения"),
    "payments": ("payments", "оплаты", "платежи", "поступления"),
    "interactions": ("interactions", "взаимодействия", "звонки и встречи", "события"),
    "documents": ("documents", "документы", "реализации"),
    "pbx": ("master", "cdr", "pbx"),
}

# Asterisk cdr_csv columns, in order; uniqueid/userfield with loguniqueid/loguserfield, and
# peeraccount/linkedid/sequence with newcdrcolumns.
CDR_BASE = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
)  # fmt: skip
CDR_SHAPES = {
    16: CDR_BASE,
    17: (*CDR_BASE, "uniqueid"),
    18: (*CDR_BASE, "uniqueid", "userfield"),
    19: (*CDR_BASE, "peeraccount", "linkedid", "sequence"),
    20: (*CDR_BASE, "uniqueid", "peeraccount", "linkedid", "sequence"),
    21: (*CDR_BASE, "uniqueid", "userfield", "peeraccount", "linkedid", "sequence"),
}
CDR_KEY_PREFIX = "cdr-"  # a PBX row's key: this and a digest of the record (``rows.cdr_key``)


def normalize(name: str) -> str:
    """Lower case, ``ё`` as ``е``, only letters and digits: ``"Срок (мес.)"`` → ``"срокмес"``."""
    return re.sub(r"[^0-9a-zа-я]", "", name.lower().replace("ё", "е"))


_ENTITY_BY_NAME = {normalize(alias): entity for entity, names in ENTITY_NAMES.items() for alias in names}


def entity_of(name: str) -> str | None:
    """Which entity a file stem or sheet name holds, or ``None``."""
    key = normalize(name)
    if key in _ENTITY_BY_NAME:
        return _ENTITY_BY_NAME[key]
    for alias, entity in _ENTITY_BY_NAME.items():
        if key.startswith(alias):  # contracts_2019-02.csv, Master-2019.csv
            return entity
    return None


# --------------------------------------------------------------------------------------------------
# Columns: the English names and the headers a 1C export carries
# --------------------------------------------------------------------------------------------------

HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "employees": {
        "id": ("код", "идентификатор", "табельный номер"),
        "name": ("сотрудник", "фио", "имя", "наименование", "менеджер"),
        "role": ("роль",),
        "team": ("отдел", "команда", "подразделение", "группа"),
        "phone_ext": ("внутренний номер", "добавочный", "внутренний"),
        "telegram_id": ("telegram", "telegram id", "телеграм", "ид телеграм"),
        "active": ("активен", "действует", "работает"),
    },
    "contracts": {
        "id": ("код", "код договора", "идентификатор"),
        "number": ("номер", "номер договора"),
        "client_id": ("код контрагента", "код клиента"),
        "client": ("контрагент", "клиент"),
        "manager_id": ("код менеджера", "код ответственного"),
        "start": ("дата начала", "начало", "начало действия"),
        "months": ("срок мес", "срок", "месяцев", "срок действия мес"),
        "monthly_fee": ("сумма в месяц", "ежемесячная плата", "абонентская плата", "стоимость в месяц"),
        "title": ("наименование", "описание", "вид сопровождения"),
        "closed_on": ("дата закрытия", "дата расторжения", "закрыт"),
        "terms_from": ("действует с", "условия с", "дата изменения", "изменения с"),
    },
    "payments": {
        "id": ("код", "номер", "идентификатор", "номер документа"),
        "contract_id": ("код договора", "договор"),
        "date": ("дата", "дата оплаты"),
        "amount": ("сумма", "сумма оплаты"),
        "period": ("период", "период оплаты", "за период"),
    },
    "interactions": {
        "id": ("код", "номер", "идентификатор"),
        "type": ("вид", "тип", "вид взаимодействия"),
        "direction": ("направление",),
        "manager_id": ("код менеджера", "код ответственного"),
        "client_id": ("код контрагента", "код клиента"),
        "client": ("контрагент", "клиент"),
        "contact": ("контактное лицо", "контакт"),
        "planned_at": ("запланировано", "дата начала", "план", "дата план"),
        "done_at": ("выполнено", "дата выполнения", "факт"),
        "duration_s": ("длительность сек", "длительность", "продолжительность сек"),
        "status": ("состояние", "статус"),
        "next_at": ("следующий контакт", "дата следующего контакта", "перезвонить"),
        "subject": ("тема", "предмет", "описание"),
    },
    "documents": {
        "id": ("код", "идентификатор"),
        "type": ("вид", "вид документа", "тип"),
        "number": ("номер", "номер документа"),
        "date": ("дата", "дата документа"),
        "client_id": ("код контрагента", "код клиента"),
        "client": ("контрагент", "клиент"),
        "manager_id": ("код менеджера", "код ответственного"),
        "amount": ("сумма", "сумма документа"),
        "original_received": ("оригинал получен", "получен оригинал", "оригинал"),
        "received_on": ("дата получения", "дата получения оригинала"),
    },
}

ROLE_WORDS = {
    "manager": "manager", "менеджер": "manager",
    "supervisor": "supervisor", "руководитель": "supervisor", "руководитель отдела": "supervisor",
    "руководитель группы": "supervisor", "супервайзер": "supervisor",
    "admin": "admin", "администратор": "admin", "админ": "admin",
}  # fmt: skip
INTERACTION_KINDS = {"call": "call", "звонок": "call", "телефонный звонок": "call",
                     "meeting": "meeting", "встреча": "meeting"}  # fmt: skip
DIRECTIONS = {"in": "in", "входящий": "in", "входящая": "in", "incoming": "in",
              "out": "out", "исходящий": "out", "исходящая": "out", "outgoing": "out"}  # fmt: skip
STATUSES = {
    "planned": "planned", "запланировано": "planned", "запланирован": "planned", "запланирована": "planned",
    "done": "done", "выполнено": "done", "выполнен": "done", "выполнена": "done", "состоялось": "done",
    "cancelled": "cancelled", "canceled": "cancelled", "отменено": "cancelled", "отменен": "cancelled",
    "отменена": "cancelled",
}  # fmt: skip
# What Asterisk writes in ``disposition``; ANSWERED may come with billsec 0 (see docs/discipline.md).
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")


def header_map(entity: str) -> dict[str, str]:
    """Normalized header → canonical column, for both the English and the Russian names."""
    mapping: dict[str, str] = {}
    for column, aliases in HEADERS[entity].items():
        for alias in (column, *aliases):
            mapping.setdefault(normalize(alias), column)
    return mapping


REQUIRED = {
    "employees": ("id", "name", "role"),
    "contracts": ("id", "client_id", "client", "manager_id", "start", "monthly_fee"),
    "payments": ("id", "contract_id", "date", "amount"),
    "interactions": ("id", "type", "manager_id", "status"),
    "documents": ("id", "date", "manager_id"),
}

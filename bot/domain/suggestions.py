"""Suggestions (建议): raise one, file it under a topic, and move it from new to done."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from bot import texts
from bot.core.messages import OutgoingText
from bot.core.models import (
    AttendanceHow,
    Group,
    Hamlet,
    NightTalk,
    NightTalkStatus,
    PointsEntry,
    Suggestion,
    SuggestionChange,
    SuggestionStatus,
)
from bot.domain.attendance import note_present, present_row
from bot.domain.points import POINTS_KEY, SUGGEST
from bot.outbox.replies import reply_row, store_replies
from scheduler.dbtypes import driver_rows, insert_rows, utcnow

log = logging.getLogger(__name__)

TEXT_LIMIT = 1000
REPLY_LIMIT = 1000

# Words villagers actually use when they raise something; the topic with most hits wins.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "roads": ("路灯", "修路", "道路", "马路", "公路", "水泥路", "泥巴路", "路面", "路口", "路窄",
              "拓宽", "硬化", "坑", "桥", "塌方", "班车", "公交", "停车", "减速带", "会车",
              "路不好走", "出行"),
    "water": ("水渠", "沟渠", "水利", "灌溉", "抽水", "水塘", "山塘", "水库", "河堤", "自来水",
              "停水", "水管", "水压", "水质", "吃水", "饮水", "井水", "打井", "水费", "放水",
              "抗旱", "干旱", "排水", "积水", "内涝", "防汛", "水泵"),
    "waste": ("垃圾", "清运", "臭", "污水", "脏乱", "乱扔", "乱倒", "乱堆", "环境卫生", "搞卫生",
              "厕所", "改厕", "化粪池", "粪", "污染", "烧秸秆", "焚烧", "噪音", "苍蝇", "蚊子"),
    "safety": ("偷", "被盗", "防盗", "监控", "摄像头", "治安", "安全", "巡逻", "报警", "派出所",
               "诈骗", "骗子", "打架", "赌博", "火灾", "防火", "消防", "灭火器", "电线", "野狗",
               "狗咬", "溺水", "护栏"),
    "medical_insurance": ("医保", "医疗", "合作医疗", "农合", "报销", "看病", "就医", "医院",
                          "卫生院", "卫生室", "村医", "医生", "买药", "拿药", "药费", "慢性病",
                          "大病", "住院", "体检", "门诊", "社保卡"),
    "land": ("承包地", "土地", "田地", "耕地", "山林", "林地", "林权", "山地", "荒地", "撂荒",
             "流转", "确权", "地界", "山界", "砍树", "砍伐", "占地", "征地", "退耕"),
    "housing": ("宅基地", "建房", "盖房", "起屋", "修房子", "危房", "房子", "漏雨", "住房",
                "房屋", "拆迁", "搬迁", "老屋", "倒塌", "裂缝"),
    "agriculture": ("种子", "化肥", "农药", "种田", "种地", "插秧", "稻谷", "水稻", "粮食",
                    "收割", "农机", "耕田", "育秧", "病虫害", "虫害", "养猪", "养鸡", "养殖",
                    "茶叶", "油茶", "柑橘", "果树", "蔬菜", "销路", "卖不出去", "收购价",
                    "合作社", "种粮补贴", "农技"),
    "elderly": ("老人", "老年", "养老", "高龄", "孤寡", "五保", "空巢", "独居", "敬老院",
                "幸福院", "助餐", "食堂", "陪护", "照料", "失能", "残疾"),
    "education": ("学校", "小学", "中学", "幼儿园", "上学", "读书", "老师", "教师", "校车",
                  "学生", "留守儿童", "辍学", "助学", "学费", "放学", "托管"),
    "other": (),
}

CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    key: (texts.SUGGESTION_CATEGORY_LABELS[key], words) for key, words in _KEYWORDS.items()
}
STATUS_LABELS: dict[SuggestionStatus, str] = {
    status: texts.SUGGESTION_STATUS_LABELS[status.value] for status in SuggestionStatus
}
TRANSITIONS: dict[SuggestionStatus, frozenset[SuggestionStatus]] = {
    SuggestionStatus.NEW: frozenset({SuggestionStatus.ADOPTED, SuggestionStatus.DECLINED}),
    SuggestionStatus.ADOPTED: frozenset(
        {SuggestionStatus.IN_PROGRESS, SuggestionStatus.DONE, SuggestionStatus.DECLINED}
    ),
    SuggestionStatus.IN_PROGRESS: frozenset({SuggestionStatus.DONE}),
    SuggestionStatus.DECLINED: frozenset({SuggestionStatus.ADOPTED}),  # reconsidered
    SuggestionStatus.DONE: frozenset(),
}


class SuggestionError(ValueError):
    """A refused suggestion operation; the message is Chinese and shown to the user as is."""


# Each keyword under its first character: a message is checked only for the keywords that can
# start somewhere in it, instead of counting all 250 in every message.
_BY_FIRST_CHAR: dict[str, list[tuple[str, str]]] = {}
for _key, (_label, _words) in CATEGORIES.items():
    for _word in _words:
        _BY_FIRST_CHAR.setdefault(_word[0], []).append((_key, _word))
_FIRST_CHARS = frozenset(_BY_FIRST_CHAR)
_PLACE = {key: place for place, key in enumerate(CATEGORIES)}


def categorize(text: str) -> str:
    """The category key whose keywords occur most often in `text`; "other" if none do."""
    hits: dict[str, int] = {}
    for char in _FIRST_CHARS.intersection(text):
        for key, word in _BY_FIRST_CHAR[char]:
            if word in text:  # most are not: one scan instead of counting
                hits[key] = hits.get(key, 0) + text.count(word)
    if not hits:
        return "other"
    # The most hits; ties go to the category listed first.
    return min(hits, key=lambda key: (-hits[key], _PLACE[key]))


def _clean_text(text: str, *, allow_empty: bool) -> str:
    text = text.strip()
    if not text and not allow_empty:
        raise SuggestionError(texts.SUGGESTION_EMPTY)
    if len(text) > TEXT_LIMIT:
        raise SuggestionError(texts.SUGGESTION_TOO_LONG.format(limit=TEXT_LIMIT))
    return text


NUMBER = "{number}"  # where a receipt's text names the suggestion's number, once known


@dataclass(frozen=True)
class Receipt:
    """The answer a suggestion gets, stored in the suggestion's own transaction: the two are
    committed together or not at all. `answer`'s text has a `NUMBER` to fill in."""

    message_id: str  # the delivered message it answers, and the answer's place there
    place: int
    answer: OutgoingText
    hold: timedelta | None = None  # not sent before this long unless released (a transcript)


@dataclass(frozen=True)
class Raised:
    """A suggestion about to be stored, and what storing it brings."""

    row: dict[str, Any]  # the suggestion's columns, as `prepare_suggestion` makes them
    points: int = 0  # earned by the author when it is new
    item_id: int | None = None  # the village's list item the points are for
    join_open_talk: bool = False  # filed under the group's open night talk, if one is open
    # The row's hamlet is only the group's default (its author belongs to none): the open
    # talk's place says better when it names one of the group's hamlets.
    hamlet_from_talk: bool = False
    receipt: Receipt | None = None  # its answer, if known before its number is
    # Its answer is the plain receipt, made from the stored row when sent (`receipts_from_rows`).
    receipt_from_row: bool = False


def prepare_suggestion(
    *,
    group: Group,
    platform: str,
    chat_id: str,
    message_id: str,
    author_id: str,
    author_name: str,
    text: str,
    voice_path: str | None = None,
    raised_by: tuple[str, str] | None = None,
    night_talk_id: int | None = None,
    now: datetime | None = None,
    with_photo: bool = False,
    hamlet: str = "",
) -> dict[str, Any]:
    """The row a message raises, its text checked and its topic guessed; not yet stored.

    A plain dict of column values: building a table model per inbound message costs more than
    storing it does. `hamlet` is the author's own 屋场; without one, the group's.
    """
    text = _clean_text(text, allow_empty=voice_path is not None or with_photo)
    if group.id is None:
        raise ValueError("the group must be saved before suggestions are added to it")
    now = now or utcnow()
    return {
        "group_id": group.id,
        "night_talk_id": night_talk_id,
        "hamlet": hamlet or group.hamlet,
        "platform": platform,
        "chat_id": chat_id,
        "message_id": message_id,
        "author_id": author_id,
        "author_name": author_name,
        "raised_by_id": raised_by[0] if raised_by else None,
        "raised_by_name": raised_by[1] if raised_by else None,
        "text": text,
        "voice_path": voice_path,
        "category": categorize(text),
        "status": SuggestionStatus.NEW,
        "handler_name": None,
        "reply": None,
        "merged_into": None,
        "created_at": now,
        "updated_at": now,
    }


_SUGGESTIONS: Table = Suggestion.__table__  # type: ignore[attr-defined]
_TALKS: Table = NightTalk.__table__  # type: ignore[attr-defined]
_POINTS: Table = PointsEntry.__table__  # type: ignore[attr-defined]
_MESSAGE_KEY = ("platform", "chat_id", "message_id")
_STORED = select(_SUGGESTIONS.c.id).where(
    _SUGGESTIONS.c.platform == bindparam("platform"),
    _SUGGESTIONS.c.chat_id == bindparam("chat_id"),
    _SUGGESTIONS.c.message_id == bindparam("message_id"),
)
_HAMLETS: Table = Hamlet.__table__  # type: ignore[attr-defined]
# The open talks with their place and their group's hamlets (one row per hamlet): one query
# tells both where a suggestion is filed and which 屋场 the talk's place names.
_OPEN_TALKS = (
    select(_TALKS.c.group_id, _TALKS.c.id, _TALKS.c.place, _HAMLETS.c.name)
    .select_from(_TALKS.outerjoin(_HAMLETS, _HAMLETS.c.group_id == _TALKS.c.group_id))
    .where(_TALKS.c.status == NightTalkStatus.OPEN,
           _TALKS.c.group_id.in_(bindparam("groups", expanding=True)))
    .order_by(_TALKS.c.opened_at, _TALKS.c.id)
)


# The same on SQLite as the driver's own statement: read once per batch, SQLAlchemy's building
# of it costs more than SQLite's answering it.
_OPEN_TALKS_SQL = (
    "SELECT night_talk.group_id, night_talk.id, night_talk.place, hamlet.name FROM night_talk "
    "LEFT OUTER JOIN hamlet ON hamlet.group_id = night_talk.group_id "
    "WHERE night_talk.status = ? AND night_talk.group_id IN ({groups}) "
    "ORDER BY night_talk.opened_at, night_talk.id")


def _open_talks(connection: Connection, groups: list[int]) -> list[tuple[Any, ...]]:
    """(group id, talk id, place, one of the group's hamlets or None) of the groups' open
    talks, the latest opened last."""
    if connection.dialect.name != "sqlite":
        return [tuple(row) for row in connection.execute(_OPEN_TALKS, {"groups": groups})]
    status = _TALKS.c.status.type.dialect_impl(connection.dialect).bind_processor(
        connection.dialect)
    open_ = status(NightTalkStatus.OPEN) if status is not None else NightTalkStatus.OPEN
    sql = _OPEN_TALKS_SQL.format(groups=", ".join("?" * len(groups)))
    return driver_rows(connection, sql, [open_, *groups])


@dataclass
class _OpenTalk:
    id: int
    place: str
    hamlets: list[str]

    def hamlet(self) -> str:
        """The hamlet the talk's place names: one of the group's (the longest it contains),
        or, for a group without a list of hamlets, the place itself."""
        place = self.place.strip()
        if not self.hamlets:
            return place
        named = [name for name in self.hamlets if name and name in place]
        return max(named, key=len) if named else ""


def store_suggestions(connection: Connection, items: Sequence[Raised]) -> list[tuple[int, bool]]:
    """Store suggestions once per platform message, in one statement per table.

    Returns (number, created) for each item; a message delivered again finds its first number.
    Runs inside the caller's transaction: nothing is committed here.
    """
    wanted = sorted({item.row["group_id"] for item in items if item.join_open_talk})
    # The latest opened talk wins when (by mistake) two are open.
    talks: dict[int, _OpenTalk] = {}
    if wanted:
        for group, talk_id, place, hamlet in _open_talks(connection, wanted):
            known = talks.get(group)
            if known is None or known.id != talk_id:
                known = talks[group] = _OpenTalk(talk_id, place or "", [])
            if hamlet is not None:
                known.hamlets.append(hamlet)
    values = []
    for item in items:
        value = item.row
        talk = talks.get(value["group_id"]) if item.join_open_talk else None
        if talk is not None and value["night_talk_id"] is None:
            value = {**value, "night_talk_id": talk.id}
            if item.hamlet_from_talk and (named := talk.hamlet()):
                value["hamlet"] = named
        if item.receipt_from_row:
            value = {**value, "receipt_from_row": True}
        values.append(value)
    new = {(platform, chat, message): number
           for number, platform, chat, message in insert_rows(
               connection, _SUGGESTIONS, _MESSAGE_KEY, values, returning=("id", *_MESSAGE_KEY))}
    results: list[tuple[int, bool]] = []
    points = []
    present = []
    receipts = []
    for item, value in zip(items, values, strict=True):
        key = {name: value[name] for name in _MESSAGE_KEY}
        number = new.pop((key["platform"], key["chat_id"], key["message_id"]), None)
        created = number is not None
        if number is None:  # delivered again, or twice in this very batch
            number = connection.execute(_STORED, key).scalar_one()
            log.debug("message %s/%s/%s delivered again: suggestion %s already stored",
                     key["platform"], key["chat_id"], key["message_id"], number)
        if item.receipt is not None:  # a redelivery's is found stored: not stored twice
            receipts.append(_receipt_row(item.receipt, key, number))
        if not created:
            results.append((number, False))
            continue
        log.debug("suggestion %s raised in group %s (%s)", number, value["group_id"],
                  value["category"])
        results.append((number, True))
        if item.join_open_talk and value["night_talk_id"] is not None:
            present.append(present_row(value["night_talk_id"], value["author_id"],
                                       value["author_name"], AttendanceHow.SUGGESTION,
                                       value["created_at"]))
        if item.points:
            points.append({"group_id": value["group_id"], "user_id": value["author_id"],
                           "user_name": value["author_name"], "reason": SUGGEST,
                           "ref": str(number), "points": item.points,
                           "item_id": item.item_id,
                           "created_at": value["created_at"]})
    insert_rows(connection, _POINTS, POINTS_KEY, points)
    if receipts:
        store_replies(connection, receipts)
    note_present(connection, present)  # whoever raises one during a talk came to it
    return results


def _receipt_row(receipt: Receipt, key: dict[str, Any], number: int) -> dict[str, Any]:
    now = utcnow()
    return reply_row(key["platform"], key["chat_id"], receipt.message_id, receipt.place,
                     receipt.answer, suggestion=number, now=now,
                     text=receipt.answer.text.replace(NUMBER, str(number)),
                     hold_until=None if receipt.hold is None else now + receipt.hold)


def add_suggestion(db: Session, **fields: Any) -> tuple[Suggestion, bool]:
    """Store a suggestion once per platform message: (row, created); a redelivery finds it.

    Takes the fields of `prepare_suggestion`; awards no points (the chat's path does).
    """
    raised = Raised(prepare_suggestion(**fields))
    [(number, created)] = store_suggestions(db.connection(), [raised])
    stored = db.get(Suggestion, number)
    assert stored is not None, "the row was just found or inserted"
    return stored, created


def get_suggestion(db: Session, number: int, *, group_id: int | None = None) -> Suggestion:
    """Suggestion number `number` (in `group_id` if given), or SuggestionError."""
    row = db.get(Suggestion, number) if number > 0 else None
    if row is None or (group_id is not None and row.group_id != group_id):
        raise SuggestionError(texts.SUGGESTION_NOT_FOUND.format(number=number))
    return row


def _refusal(number: int, current: SuggestionStatus, to: SuggestionStatus) -> str:
    names = {"number": number, "current": STATUS_LABELS[current], "status": STATUS_LABELS[to]}
    if current == to:
        return texts.SUGGESTION_ALREADY.format(**names)
    if current == SuggestionStatus.DONE:
        return texts.SUGGESTION_FINISHED.format(**names)
    needs_adoption = (SuggestionStatus.IN_PROGRESS, SuggestionStatus.DONE)
    if to in needs_adoption and current in (SuggestionStatus.NEW, SuggestionStatus.DECLINED):
        return texts.SUGGESTION_ADOPT_FIRST.format(**names)
    return texts.SUGGESTION_BAD_STEP.format(**names)


def change_status(
    db: Session,
    number: int,
    to: SuggestionStatus,
    *,
    actor_id: str,
    actor_name: str,
    reply: str = "",
    group_id: int | None = None,
    now: datetime | None = None,
) -> Suggestion:
    """Move a suggestion one allowed step, recording who, when and the reply in its history."""
    row = get_suggestion(db, number, group_id=group_id)
    current = row.status
    if to not in TRANSITIONS[current]:
        raise SuggestionError(_refusal(number, current, to))
    reply = reply.strip()
    if not reply and to == SuggestionStatus.DONE:
        raise SuggestionError(texts.SUGGESTION_NEEDS_RESULT)
    if not reply and to == SuggestionStatus.DECLINED:
        raise SuggestionError(texts.SUGGESTION_NEEDS_REASON)
    if len(reply) > REPLY_LIMIT:
        raise SuggestionError(texts.SUGGESTION_REPLY_TOO_LONG.format(limit=REPLY_LIMIT))
    now = now or utcnow()
    values: dict[str, Any] = {"status": to, "updated_at": now}
    if row.assigned_at is None:  # an assigned handler stays named whoever moves it
        values["handler_name"] = actor_name
    if to == SuggestionStatus.DONE:
        values["done_at"] = now
    if reply:  # a step without words (办理) keeps the last reply people were given
        values["reply"] = reply
    # Only moves the row if nobody moved it meanwhile, so two secretaries cannot both adopt it.
    moved = db.exec(
        update(Suggestion)
        .where(col(Suggestion.id) == number, col(Suggestion.status) == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.refresh(row)
    if moved.rowcount != 1:
        raise SuggestionError(_refusal(number, row.status, to))
    db.add(SuggestionChange(suggestion_id=number, from_status=current, to_status=to,
                            actor_id=actor_id, actor_name=actor_name, reply=reply,
                            created_at=now))
    db.flush()
    log.info("suggestion %s: %s -> %s by %s", number, current, to, actor_id)
    return row


def category_key(name: str) -> str:
    """The category key for a key or a Chinese label, or SuggestionError listing the choices."""
    name = name.strip()
    for key, (label, _words) in CATEGORIES.items():
        if name in (key, label):
            return key
    choices = "、".join(label for label, _words in CATEGORIES.values())
    raise SuggestionError(texts.SUGGESTION_UNKNOWN_CATEGORY.format(name=name, choices=choices))


def set_category(db: Session, number: int, category: str, *, group_id: int | None = None,
                 now: datetime | None = None) -> Suggestion:
    """Correct a suggestion's category (a key such as "roads" or a label such as 道路交通)."""
    row = get_suggestion(db, number, group_id=group_id)
    row.category = category_key(category)
    row.updated_at = now or utcnow()
    db.add(row)
    db.flush()
    return row


def set_text(db: Session, number: int, text: str, *, group_id: int | None = None,
             now: datetime | None = None) -> Suggestion:
    """Correct a suggestion's text or fill in a voice one's; an "other" one is filed again."""
    row = get_suggestion(db, number, group_id=group_id)
    row.text = _clean_text(text, allow_empty=False)
    if row.category == "other":
        row.category = categorize(row.text)
    row.updated_at = now or utcnow()
    db.add(row)
    db.flush()
    return row


def history(db: Session, number: int) -> list[SuggestionChange]:
    """Every status change of a suggestion, oldest first."""
    query = (
        select(SuggestionChange)
        .where(SuggestionChange.suggestion_id == number)
        .order_by(col(SuggestionChange.created_at), col(SuggestionChange.id))
    )
    return list(db.exec(query))


def suggestions_by(db: Session, group_id: int, author_id: str) -> list[Suggestion]:
    """What one person raised in a group (also on their behalf), newest first."""
    query = (
        select(Suggestion)
        .where(Suggestion.group_id == group_id, Suggestion.author_id == author_id)
        .order_by(col(Suggestion.id).desc())
    )
    return list(db.exec(query))


def suggestions_in_talk(db: Session, night_talk_id: int) -> list[Suggestion]:
    """The suggestions raised during one night talk, in the order they were raised."""
    query = (
        select(Suggestion)
        .where(Suggestion.night_talk_id == night_talk_id)
        .order_by(col(Suggestion.id))
    )
    return list(db.exec(query))

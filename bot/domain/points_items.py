"""The village's points list (积分清单): its items, points given by hand, and taking them back."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import texts
from bot.core.adapter import AdapterError
from bot.core.db import in_session
from bot.core.messages import OutgoingText
from bot.core.models import Group, Member, PointsEntry, PointsItem, Role
from bot.core.roles import allows
from bot.domain.handling import match_members
from bot.domain.points import ADOPTED, LISTEN, SUGGEST, PointsRules
from bot.domain.villages import village_of
from bot.outbox import Outbox
from scheduler.dbtypes import insert_once, utcnow

log = logging.getLogger(__name__)

ITEM = "item"  # PointsEntry.reason of points given by hand for an item of the list
BUILTIN_KINDS = (LISTEN, SUGGEST, ADOPTED)
AWARD_ROLES = (Role.FACILITATOR, Role.SECRETARY, Role.ADMIN)
NAME_LIMIT = 30
NOTE_LIMIT = 200
POINTS_LIMIT = 10_000


class PointsError(ValueError):
    """Why points cannot be given or an item saved, in words a secretary reads."""


@dataclass(frozen=True)
class ItemFields:
    """What a secretary sets on an item of the list."""

    name: str
    points: int
    award_role: Role = Role.FACILITATOR
    daily_cap: int | None = None
    yearly_cap: int | None = None
    needs_photo: bool = False


def change_words(points: int) -> str:
    """「加 20 分」 or 「扣 10 分」."""
    if points < 0:
        return texts.POINTS_CHANGE_MINUS.format(points=-points)
    return texts.POINTS_CHANGE_PLUS.format(points=points)


def _builtin_points(rules: PointsRules, kind: str) -> int:
    return {LISTEN: rules.listen, SUGGEST: rules.suggest, ADOPTED: rules.adopted}[kind]


def seed_builtins(db: Session, village_id: int, rules: PointsRules) -> None:
    """Put the three things the bot rewards by itself on the village's list, once, with the
    values the settings give."""
    have = set(db.exec(select(PointsItem.kind).where(PointsItem.village_id == village_id,
                                                     col(PointsItem.kind).is_not(None))))
    for kind in BUILTIN_KINDS:
        if kind in have:
            continue
        now = utcnow()
        item = PointsItem(village_id=village_id, name=texts.POINTS_BUILTIN_NAMES[kind],
                          points=_builtin_points(rules, kind), kind=kind,
                          award_role=Role.ADMIN, created_at=now, updated_at=now)
        if insert_once(db, item, ("village_id", "name")) is None:
            # A secretary's own item has the name already: the built-in takes a marked one.
            item.name = f"{item.name}（{texts.POINTS_BUILTIN_MARK}）"
            insert_once(db, item, ("village_id", "name"))


def set_up_village(db: Session, group: Group, rules: PointsRules) -> int:
    """The id of the group's village, made with the built-ins on its list if need be. Called
    when a group is added too: its first messages then find them instead of making them (a
    transaction of its own, in the middle of the chat's first burst)."""
    village = village_of(db, group)
    assert village.id is not None, "a stored village has an id"
    seed_builtins(db, village.id, rules)
    return village.id


def village_items(db: Session, group: Group, rules: PointsRules, *, active_only: bool = False
                  ) -> list[PointsItem]:
    """The list of the group's village, built-ins first, then by name."""
    query = select(PointsItem).where(PointsItem.village_id == set_up_village(db, group, rules))
    if active_only:
        query = query.where(col(PointsItem.active))
    items = list(db.exec(query))
    order = {kind: i for i, kind in enumerate(BUILTIN_KINDS)}
    return sorted(items, key=lambda i: (order.get(i.kind or "", len(order)), i.name))


# What each group's three built-ins are worth, remembered for a minute: raising a suggestion is
# the inbound hot path, and asking the list for every message would cost a transaction each. An
# edit in this process is seen at once; one made from another process within a minute.
BUILTIN_TTL_S = 60.0
_builtin_values: dict[tuple[str, int, str], tuple[float, int | None, int]] = {}


# Each engine's URL as text, the key of what is remembered: rendering it anew for every
# message costs more than the lookup it keys.
_urls: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _database(engine: Engine) -> str:
    url = _urls.get(engine)
    if url is None:
        url = _urls[engine] = str(engine.url)
    return url


def remembered_builtin_value(engine: Engine, group_id: int, kind: str
                             ) -> tuple[int | None, int] | None:
    """The value `builtin_value` gave for this database, group and kind within the last
    minute, if any."""
    hit = _builtin_values.get((_database(engine), group_id, kind))
    if hit is None or time.monotonic() - hit[0] > BUILTIN_TTL_S:
        return None
    return hit[1], hit[2]


# The lookups under way: a burst of messages from one group, all arriving before the first
# lookup is remembered, waits for that one instead of each asking the database.
_looking_up: dict[tuple[str, int, str], asyncio.Future[tuple[int | None, int]]] = {}


async def current_builtin_value(engine: Engine, group_id: int, kind: str, rules: PointsRules
                                ) -> tuple[int | None, int]:
    """`builtin_value` from memory when it is fresh, else from one lookup per group and kind."""
    known = remembered_builtin_value(engine, group_id, kind)
    if known is not None:
        return known
    key = (_database(engine), group_id, kind)
    pending = _looking_up.get(key)
    if pending is None:
        pending = asyncio.ensure_future(in_session(engine, builtin_value, group_id, kind, rules))
        _looking_up[key] = pending
        pending.add_done_callback(lambda _done: _looking_up.pop(key, None))
    return await asyncio.shield(pending)


def builtin_value(db: Session, group_id: int, kind: str, rules: PointsRules
                  ) -> tuple[int | None, int]:
    """(item id, points) the bot gives for `kind` in this group now, remembered for a minute."""
    value = _builtin_value(db, group_id, kind, rules)
    bind = db.get_bind()
    url = bind.url if isinstance(bind, Engine) else bind.engine.url
    _builtin_values[(str(url), group_id, kind)] = (time.monotonic(), *value)
    return value


def _builtin_value(db: Session, group_id: int, kind: str, rules: PointsRules
                   ) -> tuple[int | None, int]:
    """(item id, points) the bot gives for `kind` in this group now; 0 points when the village
    switched that item off."""
    group = db.get(Group, group_id)
    if group is None:
        return None, _builtin_points(rules, kind)
    village_id = set_up_village(db, group, rules)
    item = db.exec(select(PointsItem).where(PointsItem.village_id == village_id,
                                            PointsItem.kind == kind)).first()
    if item is None:
        return None, _builtin_points(rules, kind)
    return item.id, item.points if item.active else 0


def check_fields(fields: ItemFields) -> ItemFields:
    """The fields cleaned, or PointsError naming what is wrong."""
    name = " ".join(fields.name.split())
    if not name:
        raise PointsError(texts.POINTS_ITEM_NAME_MISSING)
    if len(name) > NAME_LIMIT:
        raise PointsError(texts.POINTS_ITEM_NAME_LONG.format(limit=NAME_LIMIT))
    if fields.points == 0 or abs(fields.points) > POINTS_LIMIT:
        raise PointsError(texts.POINTS_ITEM_BAD_POINTS.format(limit=POINTS_LIMIT))
    if fields.award_role not in AWARD_ROLES:
        raise PointsError(texts.POINTS_ITEM_BAD_ROLE)
    for cap in (fields.daily_cap, fields.yearly_cap):
        if cap is not None and not 0 < cap <= POINTS_LIMIT:
            raise PointsError(texts.POINTS_ITEM_BAD_CAP)
    return ItemFields(name, fields.points, fields.award_role, fields.daily_cap,
                      fields.yearly_cap, fields.needs_photo)


def _name_taken(db: Session, village_id: int, name: str, but: int | None = None) -> bool:
    query = select(PointsItem.id).where(PointsItem.village_id == village_id,
                                        PointsItem.name == name)
    return any(found != but for found in db.exec(query))


def add_item(db: Session, group: Group, fields: ItemFields, *, now: datetime | None = None
             ) -> PointsItem:
    """A new item on the list of the group's village; PointsError if a field is off."""
    fields = check_fields(fields)
    village = village_of(db, group)
    assert village.id is not None, "a stored village has an id"
    if _name_taken(db, village.id, fields.name):
        raise PointsError(texts.POINTS_ITEM_NAME_TAKEN.format(name=fields.name))
    now = now or utcnow()
    item = PointsItem(village_id=village.id, name=fields.name, points=fields.points,
                      award_role=fields.award_role, daily_cap=fields.daily_cap,
                      yearly_cap=fields.yearly_cap, needs_photo=fields.needs_photo,
                      created_at=now, updated_at=now)
    db.add(item)
    db.flush()
    log.info("village %s: item %s (%s, %+d) added", village.id, item.id, item.name, item.points)
    return item


def get_item(db: Session, item_id: int, *, village_id: int | None = None) -> PointsItem:
    """Item `item_id` (of `village_id` if given), or PointsError."""
    item = db.get(PointsItem, item_id) if 0 < item_id < 2**63 else None
    if item is None or (village_id is not None and item.village_id != village_id):
        raise PointsError(texts.POINTS_ITEM_NOT_FOUND.format(number=item_id))
    return item


def edit_item(db: Session, item: PointsItem, fields: ItemFields, *, active: bool | None = None,
              now: datetime | None = None) -> PointsItem:
    """Change an item; points already given for it stay exactly as they were given."""
    fields = check_fields(fields)
    if _name_taken(db, item.village_id, fields.name, but=item.id):
        raise PointsError(texts.POINTS_ITEM_NAME_TAKEN.format(name=fields.name))
    item.name, item.points, item.award_role = fields.name, fields.points, fields.award_role
    item.daily_cap, item.yearly_cap = fields.daily_cap, fields.yearly_cap
    item.needs_photo = fields.needs_photo
    if active is not None:
        item.active = active
    item.updated_at = now or utcnow()
    db.add(item)
    db.flush()
    _builtin_values.clear()
    log.info("item %s edited (%s, %+d, active %s)", item.id, item.name, item.points, item.active)
    return item


def set_active(db: Session, item: PointsItem, active: bool, *, now: datetime | None = None
               ) -> PointsItem:
    """Switch an item on or off; an item off the list can no longer be given."""
    item.active, item.updated_at = active, now or utcnow()
    db.add(item)
    db.flush()
    _builtin_values.clear()
    return item


def fields_of(item: PointsItem) -> ItemFields:
    """An item's current fields, to change one of them."""
    return ItemFields(item.name, item.points, item.award_role, item.daily_cap, item.yearly_cap,
                      item.needs_photo)


def find_item(db: Session, group: Group, words: str, rules: PointsRules) -> PointsItem:
    """The active hand-given item `words` names (whole name, else the one name containing it)."""
    words = words.strip()
    listed = village_items(db, group, rules, active_only=True)
    items = [i for i in listed if i.kind is None]
    for rule in (lambda i: i.name == words, lambda i: words in i.name):
        found = [i for i in items if rule(i)]
        if len(found) == 1:
            return found[0]
        if found:
            raise PointsError(texts.POINTS_WHICH_ITEM.format(
                words=words, names="、".join(i.name for i in found[:6])))
    automatic = [i.name for i in listed if i.kind is not None and i.name == words]
    if automatic:  # listed beside the others, but the bot gives it by itself
        raise PointsError(texts.POINTS_ITEM_AUTOMATIC.format(item=automatic[0]))
    raise PointsError(texts.POINTS_NO_SUCH_ITEM.format(
        words=words, names="、".join(i.name for i in items[:12]) or texts.POINTS_LIST_EMPTY))


def find_person(db: Session, group_id: int, who: str) -> Member:
    """The one member of the group `who` names; PointsError to ask which one."""
    name = who.strip().lstrip("@＠").strip()
    if not name:
        raise PointsError(texts.POINTS_WHO_MISSING)
    found = match_members(db, group_id, name)
    if len(found) == 1:
        return found[0]
    if found:
        raise PointsError(texts.POINTS_WHICH_MEMBER.format(
            name=name, names="、".join(m.display_name for m in found[:5])))
    raise PointsError(texts.POINTS_NO_SUCH_MEMBER.format(name=name))


def _span(zone: ZoneInfo, now: datetime, *, year: bool) -> tuple[datetime, datetime]:
    local = now.astimezone(zone)
    if year:
        start = datetime(local.year, 1, 1, tzinfo=zone)
        end = datetime(local.year + 1, 1, 1, tzinfo=zone)
    else:
        start = datetime(local.year, local.month, local.day, tzinfo=zone)
        end = datetime.fromordinal(start.toordinal() + 1).replace(tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def times_given(db: Session, item: PointsItem, user_id: str, span: tuple[datetime, datetime]
                ) -> int:
    """How often the item counts for the person between the span's two instants."""
    return db.exec(select(func.count()).select_from(PointsEntry).where(
        PointsEntry.item_id == item.id, PointsEntry.user_id == user_id,
        col(PointsEntry.revoked_at).is_(None), col(PointsEntry.created_at) >= span[0],
        col(PointsEntry.created_at) < span[1])).one()


@dataclass(frozen=True)
class Giver:
    """Who gives the points, and what they may give."""

    by_id: str
    by_name: str
    role: Role


def give(db: Session, group: Group, item: PointsItem, member: Member, giver: Giver, *,
         note: str = "", photo_seen: bool = False, now: datetime | None = None) -> PointsEntry:
    """Give (or take) an item's points to a member; PointsError when the giver's role, the
    item's caps or its photo say no. What is stored keeps who, when, which item and why."""
    assert group.id is not None, "a stored group has an id"
    if item.kind is not None or not item.active:
        raise PointsError(texts.POINTS_NOT_BY_HAND.format(item=item.name))
    if not allows(giver.role, item.award_role):
        raise PointsError(texts.POINTS_ROLE_REFUSED.format(
            item=item.name, who=texts.CMD_ROLE_LABELS[item.award_role.value]))
    if item.needs_photo and not photo_seen:
        raise PointsError(texts.POINTS_PHOTO_NEEDED.format(item=item.name))
    now = now or utcnow()
    zone = ZoneInfo(group.timezone)
    if item.daily_cap is not None or item.yearly_cap is not None:
        # Count under a lock on the item: of two awards racing for the last one a cap allows,
        # the second counts after the first is stored (SQLite's write lock, PostgreSQL's row).
        db.execute(update(PointsItem).where(col(PointsItem.id) == item.id)
                   .values(updated_at=PointsItem.updated_at)
                   .execution_options(synchronize_session=False))
    for cap, year, text in ((item.daily_cap, False, texts.POINTS_DAILY_CAP),
                            (item.yearly_cap, True, texts.POINTS_YEARLY_CAP)):
        if cap is not None and times_given(db, item, member.user_id,
                                           _span(zone, now, year=year)) >= cap:
            raise PointsError(text.format(name=member.display_name, item=item.name, cap=cap))
    entry = PointsEntry(group_id=group.id, user_id=member.user_id, user_name=member.display_name,
                        reason=ITEM, ref=secrets.token_hex(8), points=item.points,
                        created_at=now, item_id=item.id, note=note.strip()[:NOTE_LIMIT],
                        by_id=giver.by_id, by_name=giver.by_name)
    db.add(entry)
    db.flush()
    log.info("group %s: %s gave %s %+d (item %s, entry %s)", group.id, giver.by_id,
             member.user_id, item.points, item.id, entry.id)
    return entry


def village_entry(db: Session, entry_id: int, group: Group) -> PointsEntry:
    """Points entry `entry_id` of a group of the same village as `group`, or PointsError."""
    entry = db.get(PointsEntry, entry_id) if 0 < entry_id < 2**63 else None
    owner = db.get(Group, entry.group_id) if entry is not None else None
    if entry is None or owner is None or village_of(db, owner).id != village_of(db, group).id:
        raise PointsError(texts.POINTS_ENTRY_NOT_FOUND.format(number=entry_id))
    return entry


def revoke(db: Session, entry: PointsEntry, *, by_name: str, reason: str,
           now: datetime | None = None) -> PointsEntry:
    """Take an award back: its row stays with who, when and why, and it stops counting."""
    reason = reason.strip()[:NOTE_LIMIT]
    if not reason:
        raise PointsError(texts.POINTS_REVOKE_REASON_MISSING)
    if entry.revoked_at is not None:
        raise PointsError(texts.POINTS_ALREADY_REVOKED.format(number=entry.id))
    entry.revoked_at, entry.revoked_by_name, entry.revoke_reason = now or utcnow(), by_name, reason
    db.add(entry)
    db.flush()
    log.info("points entry %s revoked by %s", entry.id, by_name)
    return entry


def item_name(db: Session, entry: PointsEntry) -> str:
    """What an entry was for, as a member reads it."""
    if entry.item_id is not None and (item := db.get(PointsItem, entry.item_id)) is not None:
        return item.name
    return texts.POINTS_BUILTIN_NAMES.get(entry.reason, entry.reason)


def recent_entries(db: Session, group: Group, limit: int = 50) -> list[PointsEntry]:
    """The latest points given by hand in the group's village, newest first."""
    village = village_of(db, group)
    ids = [g.id for g in db.exec(select(Group).where(Group.village_id == village.id))]
    return list(db.exec(select(PointsEntry).where(col(PointsEntry.group_id).in_(ids),
                                                  PointsEntry.reason == ITEM)
                        .order_by(col(PointsEntry.id).desc()).limit(limit)))


def told_message(entry: PointsEntry, item: str) -> OutgoingText:
    """What the member hears of points given or taken: privately where the platform can."""
    note = texts.POINTS_TOLD_NOTE.format(note=entry.note) if entry.note else ""
    if entry.points > 0:
        text = texts.POINTS_TOLD_PLUS.format(name=entry.user_name, item=item,
                                             points=entry.points, note=note)
    else:
        text = texts.POINTS_TOLD_MINUS.format(name=entry.user_name, item=item,
                                              points=-entry.points, note=note,
                                              by=entry.by_name or "")
    return OutgoingText(text, private_to=entry.user_id)


def revoked_message(entry: PointsEntry, item: str) -> OutgoingText:
    """What the member hears when an award of theirs is taken back."""
    return OutgoingText(texts.POINTS_TOLD_REVOKED.format(
        name=entry.user_name, item=item, change=change_words(entry.points),
        reason=entry.revoke_reason or ""),
        private_to=entry.user_id)


async def tell_member(outbox: Outbox, group: Group, message: OutgoingText) -> None:
    """Send a member their points news in the group's chat (privately where it can)."""
    try:
        await outbox.send(group.platform, group.chat_id, [message])
    except AdapterError as exc:  # the points are stored; only the note to the member is lost
        log.warning("group %s: telling %s of points failed: %s", group.id, message.private_to,
                    exc)

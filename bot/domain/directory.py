"""The group and member lookups adapters ask for, and a group following its new chat id."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from bot.core.adapter import ChatMoved, StorageError
from bot.core.db import in_session, run_db, session
from bot.core.models import Group, Member, SeenRequest

log = logging.getLogger(__name__)


def move_chat(db: Session, moved: ChatMoved) -> bool:
    """Give the group its new chat id; False when it is unknown or the new id is taken."""
    group = db.exec(select(Group).where(Group.platform == moved.platform,
                                        Group.chat_id == moved.old_chat_id)).first()
    if group is None:
        return False
    if db.exec(select(Group).where(Group.platform == moved.platform,
                                   Group.chat_id == moved.new_chat_id)).first() is not None:
        log.warning("%s group %s moved to %s, which is already a group of its own: both kept, "
                    "remove one with the console", moved.platform, moved.old_chat_id,
                    moved.new_chat_id)
        return False
    group.chat_id = moved.new_chat_id
    db.add(group)
    log.info("%s group %r moved to %s: chat id updated", moved.platform, group.name,
             moved.new_chat_id)
    return True


class GroupDirectory:
    """The adapters' `Directory`, answered from the group and member tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def serves(self, platform: str, chat_id: str) -> bool:
        """Whether an admin added this chat as a group."""
        return await run_db(self.engine, self._serves, platform, chat_id)

    def _serves(self, platform: str, chat_id: str) -> bool:
        with session(self.engine) as db:
            return db.exec(select(Group.id).where(Group.platform == platform,
                                                  Group.chat_id == chat_id)).first() is not None

    async def member_name(self, platform: str, chat_id: str, user_id: str) -> str | None:
        """The display name the member table holds, if any (None too when the lookup fails)."""
        query = (select(Member.display_name).join(Group)
                 .where(Group.platform == platform, Group.chat_id == chat_id,
                        Member.user_id == user_id))
        try:
            return await in_session(self.engine, lambda db: db.exec(query).first() or None)
        except SQLAlchemyError:
            # A missing name only makes the message plainer; it must not lose the message.
            log.warning("%s: could not look up the name of %s in %s", platform, user_id,
                        chat_id)
            return None

    async def chat_moved(self, moved: ChatMoved) -> None:
        """Store the group's new chat id."""
        await in_session(self.engine, move_chat, moved)

    async def accept_once(self, platform: str, signature: str, seen_at: datetime,
                          keep_for: timedelta) -> bool:
        """Insert the signature, or find it is there already (the unique key decides, so two
        instances cannot both accept it); forget the platform's signatures past `keep_for`."""
        return await run_db(self.engine, self._accept_once, platform, signature, seen_at,
                            keep_for)

    def _accept_once(self, platform: str, signature: str, seen_at: datetime,
                     keep_for: timedelta) -> bool:
        try:
            with session(self.engine) as db:
                db.execute(delete(SeenRequest).where(
                    col(SeenRequest.platform) == platform,
                    col(SeenRequest.seen_at) < seen_at - keep_for))
                db.add(SeenRequest(platform=platform, signature=signature, seen_at=seen_at))
                db.flush()
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise StorageError(f"could not record a {platform} request signature: {exc}") \
                from exc
        return True

    async def forget_once(self, platform: str, signature: str) -> None:
        """Delete the recorded signature (see `accept_once`)."""
        try:
            await in_session(self.engine, lambda db: db.execute(delete(SeenRequest).where(
                col(SeenRequest.platform) == platform,
                col(SeenRequest.signature) == signature)))
        except SQLAlchemyError as exc:
            raise StorageError(f"could not forget a {platform} request signature: {exc}") \
                from exc

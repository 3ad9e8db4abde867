"""Rows the tests start from, written as the bot's own commands would write them."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.core.db import session
from bot.core.models import Group, Member, Role


def add_group(engine: Engine, name: str = "枫树屋场", *, platform: str = "web",
              chat_id: str = "fengshu", hamlet: str = "", timezone: str = "Asia/Shanghai"
              ) -> Group:
    """A group the bot serves, as `yehua groups add` adds it; returned with its id."""
    with session(engine) as db:
        group = Group(platform=platform, chat_id=chat_id, name=name, hamlet=hamlet,
                      timezone=timezone)
        db.add(group)
        db.flush()
        assert group.id is not None
        return group


def add_member(engine: Engine, group_id: int, user_id: str, name: str,
               role: Role = Role.MEMBER) -> None:
    """Someone the group knows, with the role granted to them."""
    with session(engine) as db:
        db.add(Member(group_id=group_id, user_id=user_id, display_name=name, role=role))

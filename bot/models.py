"""Tables the bot owns: groups, members and roles, the lesson registry, web-chat history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from scheduler.dbtypes import UTCDateTime, utcnow


class Role(StrEnum):
    MEMBER = "member"
    FACILITATOR = "facilitator"
    SECRETARY = "secretary"
    ADMIN = "admin"


class Group(SQLModel, table=True):
    """A chat group on one platform, belonging to a hamlet (屋场)."""

    __tablename__ = "chat_group"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    chat_id: str
    name: str
    hamlet: str = ""
    timezone: str = "Asia/Shanghai"
    speech_profile: str = "普通话"
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Member(SQLModel, table=True):
    """A person in a group, with the bot's own role for them."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id", index=True)
    user_id: str
    display_name: str
    role: Role = Role.MEMBER
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LessonRecord(SQLModel, table=True):
    """A lesson from the library as last loaded, so history survives edits and deletions."""

    __tablename__ = "lesson"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    title: str
    speaker: str = ""
    summary: str = ""
    content_hash: str = ""
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChatMessage(SQLModel, table=True):
    """One message in the built-in web group chat, kept so late joiners see the history."""

    __tablename__ = "chat_message"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id", index=True)
    sender_id: str
    sender_name: str
    from_bot: bool = False
    text: str = Field(default="", sa_type=Text)
    audio_url: str | None = None
    audio_duration: float | None = None
    subtitle_url: str | None = None  # SubRip cues shown in step with the audio
    lesson_slug: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

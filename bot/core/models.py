"""Tables the bot owns: groups, members and roles, the lesson registry, web-chat history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, LargeBinary, Text, UniqueConstraint
from sqlalchemy import text as sql_text
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
    # The public ledger's address for this group: unguessable, so only members who were given
    # the link read it.
    ledger_key: str | None = Field(default=None, unique=True, index=True)
    # The village (a set of groups) whose points list, households and shop the group shares.
    village_id: int | None = Field(default=None, foreign_key="village.id", index=True)


class Member(SQLModel, table=True):
    """A person in a group, with the bot's own role for them."""

    __tablename__ = "member"
    # The unique pair also serves lookups by group: each index is written with every new
    # member, so none is kept twice.
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id")
    user_id: str
    display_name: str
    role: Role = Role.MEMBER
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    hamlet_id: int | None = Field(default=None, foreign_key="hamlet.id", index=True)
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)


class LessonRecord(SQLModel, table=True):
    """A lesson from the library as last loaded, so history survives edits and deletions."""

    __tablename__ = "lesson"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True)
    title: str
    speaker: str = ""
    summary: str = ""
    content_hash: str = ""  # of the current version's text
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The database is the library; a file in the lessons folder is a seed and an editor's
    # way in. `source` is the current version's text (front matter and body, as in a file).
    source: str = Field(default="", sa_type=Text)
    version: int = 0  # the current version's number (0: only registered, never stored)
    # The hash of the file text last taken in: a file that differs from it was edited.
    file_hash: str = ""
    # A file edited after the console's edits: not taken in until someone chooses.
    conflict_hash: str | None = None
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LessonOrigin(StrEnum):
    FILE = "file"  # taken in from the lessons folder
    CONSOLE = "console"  # written in the console
    CLI = "cli"


class LessonVersion(SQLModel, table=True):
    """One saved version of a lesson's text: who, when, and from where."""

    __tablename__ = "lesson_version"
    __table_args__ = (UniqueConstraint("lesson_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    lesson_id: int = Field(foreign_key="lesson.id", index=True)
    number: int
    source: str = Field(default="", sa_type=Text)
    content_hash: str = ""
    origin: LessonOrigin = LessonOrigin.FILE
    author: str = ""  # a console user's name, or the file's name
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LessonRecording(SQLModel, table=True):
    """The speaker's own voice for a lesson, used instead of synthesis while it is current.

    The loudness-normalised MP3 is kept in the row, so any instance can serve it."""

    __tablename__ = "lesson_recording"

    id: int | None = Field(default=None, primary_key=True)
    lesson_id: int = Field(foreign_key="lesson.id", index=True)
    audio: bytes = Field(default=b"", sa_type=LargeBinary)  # 24 kHz mono 48 kbps MP3
    audio_hash: str = ""  # sha256 hex of `audio`: its file name in the media folder
    duration_s: float = 0.0
    cues: str = Field(default="", sa_type=Text)  # SubRip text, a cue per paragraph
    original_name: str = ""  # the uploaded file's name (or 浏览器录音)
    uploaded_by: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_by: str | None = None


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
    reply_to_id: int | None = Field(default=None, foreign_key="chat_message.id")
    lesson_slug: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # A member's voice deleted under the retention rule: shown as expired, not as a player.
    voice_expired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # An answer for one member alone: only they see it, live and in the history.
    recipient_id: str | None = None
    image_url: str | None = None  # a member's picture, shown in the bubble


class NightTalkStatus(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    DRAFT = "draft"  # awaiting the facilitator's 确认: never reminded, listed or announced


class NightTalk(SQLModel, table=True):
    """A night-talk meeting (夜话): a group, a time, a place, a topic, a host."""

    __tablename__ = "night_talk"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id", index=True)
    topic: str
    place: str = ""  # the hamlet (屋场) or the yard where people meet
    host: str = ""  # the facilitator (话事佬) who hosts it
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    status: NightTalkStatus = Field(default=NightTalkStatus.SCHEDULED, index=True)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    open_message_id: str | None = None  # replies to the opening message become suggestions
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    series_id: int | None = Field(default=None, foreign_key="night_talk_series.id", index=True)
    # People who came in person but were not named (`/到场 23人`): added to the checked-in ones.
    walk_ins: int = 0


class SuggestionStatus(StrEnum):
    NEW = "new"
    ADOPTED = "adopted"  # 采纳
    IN_PROGRESS = "in_progress"  # 办理中
    DONE = "done"  # 办结
    DECLINED = "declined"  # 暂不采纳


class Suggestion(SQLModel, table=True):
    """What a member raised (建议), and what became of it."""

    __tablename__ = "suggestion"
    # Each index is written with every suggestion the chat brings in: a group's own come from
    # (group, author), which also finds one author's; the deadline's holds only suggestions
    # that have one; the category is read only within a group's; the receipts' holds those
    # whose receipt is made from the row, each chat's together in their order.
    __table_args__ = (
        UniqueConstraint("platform", "chat_id", "message_id"),
        Index("ix_suggestion_group_author", "group_id", "author_id"),
        Index("ix_suggestion_due_at", "due_at", sqlite_where=sql_text("due_at IS NOT NULL"),
              postgresql_where=sql_text("due_at IS NOT NULL")),
        Index("ix_suggestion_receipt_from_row", "platform", "chat_id", "id",
              sqlite_where=sql_text("receipt_from_row IS NOT NULL"),
              postgresql_where=sql_text("receipt_from_row IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id")
    night_talk_id: int | None = Field(default=None, foreign_key="night_talk.id", index=True)
    hamlet: str = ""  # copied from the group when raised, so reports keep it
    platform: str
    chat_id: str
    message_id: str  # the platform message it came from: delivered twice, stored once
    author_id: str
    author_name: str
    raised_by_id: str | None = None  # a facilitator raising it on the author's behalf (代提)
    raised_by_name: str | None = None
    text: str = Field(default="", sa_type=Text)
    voice_path: str | None = None  # a voice suggestion's audio file (in the audio folder)
    # `text` of a voice suggestion written by a transcription server and not yet confirmed
    # or corrected by a person (shown as 机器转写).
    machine_text: bool = False
    category: str = "other"
    status: SuggestionStatus = Field(default=SuggestionStatus.NEW, index=True)
    handler_name: str | None = None
    # Who handles an adopted suggestion: a member (by platform user id) or a named person
    # outside the group (the grid worker, the road crew) reached by phone.
    handler_user_id: str | None = None
    handler_phone: str | None = None
    handler_role: str | None = None  # shown on the public ledger instead of a phone number
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reply: str | None = Field(default=None, sa_type=Text)
    merged_into: int | None = Field(default=None, foreign_key="suggestion.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # True: its receipt is the plain 「收到…第 N 号」 made from this row, sent once the chat's
    # `ReceiptsSent` mark passes its id (on SQLite; elsewhere, and for every other receipt,
    # the answer is a stored Reply).
    receipt_from_row: bool | None = None


class SuggestionChange(SQLModel, table=True):
    """One step in a suggestion's history: who moved it, when, and what they replied."""

    __tablename__ = "suggestion_change"

    id: int | None = Field(default=None, primary_key=True)
    suggestion_id: int = Field(foreign_key="suggestion.id", index=True)
    from_status: SuggestionStatus
    to_status: SuggestionStatus
    actor_id: str
    actor_name: str
    reply: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PointsEntry(SQLModel, table=True):
    """Points (积分) earned once for one thing: listening to a lesson, raising, being adopted."""

    __tablename__ = "points_entry"
    # The unique key also serves lookups by group and by (group, member).
    __table_args__ = (UniqueConstraint("group_id", "user_id", "reason", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id")
    user_id: str
    user_name: str
    reason: str  # "listen", "suggest", "adopted", or "item" for an item of the village's list
    ref: str  # what it was for: a lesson delivery, a suggestion number, one award
    points: int  # as given: changing the item later never rewrites it
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    item_id: int | None = Field(default=None, foreign_key="points_item.id", index=True)
    note: str = Field(default="", sa_type=Text)  # why, in the awarder's words
    by_id: str | None = None  # who gave or took the points; None for the bot's own awards
    by_name: str | None = None
    # An award taken back keeps its row: who, when and why, and it stops counting.
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by_name: str | None = None
    revoke_reason: str | None = None


class ConsoleUser(SQLModel, table=True):
    """An account for the secretary's and facilitator's web console (/admin)."""

    __tablename__ = "console_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True)
    display_name: str
    password_hash: str  # argon2id, PHC string format
    role: Role = Role.SECRETARY
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random token, the table only its hash."""

    __tablename__ = "console_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)
    user_id: int = Field(foreign_key="console_user.id", index=True)
    csrf_token: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class SeenRequest(SQLModel, table=True):
    """A signed request accepted once: a replay of the same signature is refused, across
    restarts and instances, for as long as the platform's time window would accept it."""

    __tablename__ = "seen_request"
    __table_args__ = (UniqueConstraint("platform", "signature"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    signature: str
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class LoginFailure(SQLModel, table=True):
    """A failed console sign-in, kept for the lockout window so a restart forgets nothing."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True)
    address: str
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class PendingVoice(SQLModel, table=True):
    """A voice message sent outside a night talk, waiting for its member to say 「是」 before it
    becomes a suggestion; kept in the database so a restart does not lose the offer."""

    __tablename__ = "pending_voice"
    __table_args__ = (UniqueConstraint("group_id", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id", index=True)
    user_id: str
    message_id: str  # the voice message: a suggestion made of it is keyed by it too
    voice_path: str
    text: str = Field(default="", sa_type=Text)  # a caption sent with the voice, if any
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ListenTally(SQLModel, table=True):
    """What a group was last told about who listened to one lesson delivery.

    Kept so a restart neither repeats a tally nor posts two within the interval."""

    __tablename__ = "listen_tally"

    delivery_id: int = Field(primary_key=True)  # the lesson delivery listened to
    group_id: int = Field(foreign_key="chat_group.id", index=True)
    told_count: int = 0  # listeners the group was last told of
    told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rounds: int = 0  # tally timers armed so far; the next one's ref ends in rounds + 1

class NightTalkSeriesStatus(StrEnum):
    DRAFT = "draft"  # awaiting the facilitator's 确认
    ACTIVE = "active"
    CANCELLED = "cancelled"


class NightTalkSeries(SQLModel, table=True):
    """Night talks that repeat (每周五, 每月第一个周五, 每月15号): one talk stands for the next."""

    __tablename__ = "night_talk_series"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id", index=True)
    topic: str
    place: str = ""
    host: str = ""
    kind: str  # weekly, monthly_weekday or monthly_day
    weekday: int = 0  # Monday 0
    ordinal: int = 1  # the nth weekday of the month; -1 the last
    day: int = 1  # the day of the month
    hour: int
    minute: int
    length_minutes: int = 120
    status: NightTalkSeriesStatus = Field(default=NightTalkSeriesStatus.DRAFT, index=True)
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Hamlet(SQLModel, table=True):
    """A 屋场 (hamlet) a group covers: members may belong to one, suggestions are counted by it."""

    __tablename__ = "hamlet"
    __table_args__ = (UniqueConstraint("group_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id", index=True)
    name: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PhotoKind(StrEnum):
    RAISED = "raised"  # sent with the suggestion, or added to it by its members
    DONE = "done"  # the handler's photo of the finished work


class Photo(SQLModel, table=True):
    """A picture attached to a suggestion: the file and its thumbnail in the media folder."""

    __tablename__ = "photo"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="chat_group.id", index=True)
    suggestion_id: int | None = Field(default=None, foreign_key="suggestion.id", index=True)
    kind: PhotoKind = PhotoKind.RAISED
    path: str  # relative to the media folder
    thumb_path: str  # relative to the media folder
    content_type: str  # image/jpeg, image/png, image/webp, image/gif
    size_bytes: int
    width: int
    height: int
    sha256: str = Field(index=True)
    uploader_id: str = Field(index=True)
    uploader_name: str
    message_id: str | None = None  # the platform message it came in, if any
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class AttendanceHow(StrEnum):
    CHECK_IN = "check_in"  # 到 / 签到 / the web chat's button
    SUGGESTION = "suggestion"  # raised a suggestion during the talk
    IN_PERSON = "in_person"  # named by the facilitator (`/到场 张三`)


class Attendance(SQLModel, table=True):
    """Someone counted present at a night talk, once each."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("night_talk_id", "person"),)

    id: int | None = Field(default=None, primary_key=True)
    night_talk_id: int = Field(foreign_key="night_talk.id", index=True)
    # "u:<platform user id>" for a member, "n:<name>" for someone named by the facilitator.
    person: str
    name: str
    how: AttendanceHow
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Village(SQLModel, table=True):
    """A village: one or more groups sharing a points list (积分清单), households and a shop."""

    __tablename__ = "village"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PointsItem(SQLModel, table=True):
    """One line of a village's points list: what earns (or costs) how many points, and who may
    give it. `kind` marks the three the bot gives by itself (listen, suggest, adopted)."""

    __tablename__ = "points_item"
    __table_args__ = (UniqueConstraint("village_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    name: str
    points: int  # negative for a deduction (扣分)
    kind: str | None = None  # "listen", "suggest" or "adopted" for the built-in ones
    award_role: Role = Role.FACILITATOR  # the least role that may give it by hand
    daily_cap: int | None = None  # at most this many times a day per person
    yearly_cap: int | None = None  # at most this many times a year per person
    needs_photo: bool = False
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Household(SQLModel, table=True):
    """A household (户) of a village: members are placed in one, and it is ranked as a whole."""

    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("village_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    name: str  # usually the head of the household: 王大伯家
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ShopGood(SQLModel, table=True):
    """Something the village's points shop (积分超市) gives for points."""

    __tablename__ = "shop_good"
    __table_args__ = (UniqueConstraint("village_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    name: str
    price: int  # points for one
    stock: int = 0  # never below zero: taken with a guarded update
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Redemption(SQLModel, table=True):
    """Points spent in the shop: the price as it was, kept for the member's balance."""

    __tablename__ = "redemption"

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    good_id: int = Field(foreign_key="shop_good.id", index=True)
    group_id: int = Field(foreign_key="chat_group.id", index=True)
    user_id: str = Field(index=True)
    user_name: str
    quantity: int = 1
    points: int  # spent in all: price × quantity when it was redeemed
    by_id: str | None = None  # the secretary who recorded it
    by_name: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class MediaFile(SQLModel, table=True):
    """A file served at /media/<name> (a voice, a picture, a lesson's audio in one format),
    kept in the database so whichever instance is asked can serve it without a shared disk."""

    __tablename__ = "media_file"

    name: str = Field(primary_key=True)  # as served: content-addressed or random, with extension
    data: bytes = Field(default=b"", sa_type=LargeBinary)
    size: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class SendBudget(SQLModel, table=True):
    """What one platform account (a bot token, a robot) may send next: a token bucket that
    every instance draws from, so two instances together keep the platform's limit."""

    __tablename__ = "send_budget"

    account: str = Field(primary_key=True)  # platform and a digest of its credentials
    tokens: float = 0.0
    refilled_at: float = 0.0  # the database's clock, seconds since the epoch


class ReceiptsSent(SQLModel, table=True):
    """How far a chat's receipts made from suggestion rows have gone out: every one up to
    the suggestion numbered `through`. Sent in their order, they need no mark of their own,
    so sending them writes one row, not one per suggestion."""

    __tablename__ = "receipt_sent"

    platform: str = Field(primary_key=True)
    chat_id: str = Field(primary_key=True)
    through: int


class MemberChanges(SQLModel, table=True):
    """How many member rows (and 屋场 rows) were ever changed or removed, by any process: on
    SQLite triggers count them (migration 0022). A bot that keeps the members it has read
    reads this one number instead of all of them again, and forgets them when it moved.
    One row, `id` 1. Elsewhere nothing counts, and nothing relies on it."""

    __tablename__ = "member_change"

    id: int = Field(primary_key=True)
    count: int = 0


class Reply(SQLModel, table=True):
    """An answer the bot owes a chat message, kept until the platform has taken it: stored
    before the platform hears the message was taken, sent in chat order, resent after a
    restart (bot.outbox.replies)."""

    __tablename__ = "reply"
    # The answers waiting in a chat are found in their order without passing those of other
    # chats or those sent; the sent ones by when (to remove them a day later).
    __table_args__ = (
        UniqueConstraint("platform", "chat_id", "message_id", "seq"),
        Index("ix_reply_waiting", "platform", "chat_id", "id",
              sqlite_where=sql_text("sent_at IS NULL"),
              postgresql_where=sql_text("sent_at IS NULL")),
        Index("ix_reply_sent_at", "sent_at", sqlite_where=sql_text("sent_at IS NOT NULL"),
              postgresql_where=sql_text("sent_at IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)  # the chat's order
    platform: str
    chat_id: str
    message_id: str  # the message answered: a redelivery finds its answers already stored
    seq: int = 0  # the message's answers in the order they were given
    body: str = Field(default="", sa_type=Text)  # the OutgoingText, as JSON
    suggestion: int | None = None  # the suggestion this answer acknowledges (gathered if many)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # PostgreSQL: the instance sending the chat's answers, until its lease runs out.
    claimed_by: str | None = None
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Not to be sent before then: a voice suggestion's receipt waits for its transcript so
    # long, and goes without it should the bot die meanwhile.
    hold_until: datetime | None = Field(default=None, sa_type=UTCDateTime)

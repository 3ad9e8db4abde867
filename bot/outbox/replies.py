"""The bot's answers to chat messages, kept in the database until the platform has taken them.

A command's answer (`Context.reply/tell/ask`) is stored in the inbound path's batched writes
before the platform hears that the message was taken (a suggestion's receipt in the
suggestion's own transaction): a storage fault makes the platform deliver the message again,
and the answers of a redelivered message are found stored (one row per message and answer,
`store_replies`). A sender per chat then sends the stored answers in
their order through the outbox, whose pacing keeps the platform's limits, and marks each one
sent once the platform took it. Whatever is not marked goes out after a restart, kill -9
included; an answer taken by the platform in the moment before the process died goes out a
second time (at most one per chat).

Under a backlog the acknowledgements of suggestions are gathered: when more than `backlog` of
them wait in one chat, one message in the group names all their numbers (「收到 37 条建议，
编号 12–48，…」, or only the span they lie in when the runs would make a long line) instead of
one message each, so a burst of N suggestions costs a few answers rather than N paced ones,
however large N is; after a gathered line the chat's sender waits a few seconds, so what comes
meanwhile makes one more line, not one per paced slot. Private acknowledgements (where the
platform can answer a member privately) are gathered too: one group line about many numbers
is quieter than the group-line fallbacks of those who cannot be reached privately, and the
private ones, which share the account's sending rate, would take minutes; each member finds
their number in the line (or with 「我的建议」).

Where the bot is alone on its database (SQLite), a suggestion's plain receipt (「收到…第 N
号」) is not stored beside it as an answer: the suggestion row says its receipt is made from it
(`receipt_from_row`), and the sender makes the receipt from the row and sends it before the
chat's other waiting answers. Those receipts go out in their order, so one mark per chat says
how far they have gone (`ReceiptsSent`): sending a thousand writes one row. Committed with the
suggestion all the same, a receipt goes out after a restart like any stored answer.

On PostgreSQL several instances share the table: an instance claims a chat's waiting answers
with a lease, renewed whenever it marks one sent, and no other instance sends in that chat
while the lease lives. A periodic sweep sends what nobody is sending (another instance died,
a platform was down, the bot restarted).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, or_, select, text, update
from sqlalchemy.engine import Connection, Engine

from bot import texts
from bot.core.adapter import AdapterError
from bot.core.db import run_db
from bot.core.messages import OutgoingText
from bot.core.models import Reply
from bot.outbox import Outbox
from scheduler.dbtypes import driver_rows, insert_rows, sqlite_text, utcnow

log = logging.getLogger(__name__)

_REPLIES: Table = Reply.__table__  # type: ignore[attr-defined]
_KEY = ("platform", "chat_id", "message_id", "seq")
SWEEP_SECONDS = 10.0  # how often waiting answers nobody is sending are looked for
GATHER_PAUSE = 5.0  # after a gathered line, how long the next one gathers
GATHERED_RUNS_MAX = 60  # characters of number runs a gathered line names; longer: the span
WINDOW = 1000  # the answers of one chat read (and claimed) at a time
KEEP_SENT = timedelta(days=1)  # sent answers are kept this long (to look into), then removed
PRUNE_EVERY = timedelta(hours=1)
_COLUMNS = (_REPLIES.c.id, _REPLIES.c.body, _REPLIES.c.suggestion)
_UNSENT = _REPLIES.c.sent_at.is_(None)
# Not held back (a receipt waiting for its transcript) past the moment bound as "due".
_DUE = or_(_REPLIES.c.hold_until.is_(None), _REPLIES.c.hold_until <= bindparam("due"))
# (Bound names differ from the columns': an UPDATE keeps those for the values it sets.)
_IN_CHAT = (_REPLIES.c.platform == bindparam("in_platform"),
            _REPLIES.c.chat_id == bindparam("in_chat"))
_WAITING = (select(*_COLUMNS).where(*_IN_CHAT, _UNSENT, _DUE).order_by(_REPLIES.c.id)
            .limit(WINDOW))
# The same on SQLite, as the driver's own statement (SQLAlchemy's building and reading of
# up to WINDOW rows costs more than SQLite's answering).
_WAITING_SQL = ("SELECT id, body, suggestion FROM reply WHERE platform = ? AND chat_id = ? "
                "AND sent_at IS NULL AND (hold_until IS NULL OR hold_until <= ?) "
                f"ORDER BY id LIMIT {WINDOW}")
# Another instance's live claim on an answer still waiting in the chat: it sends there now.
_CLAIMED_ELSEWHERE = select(_REPLIES.c.id).where(
    *_IN_CHAT, _UNSENT, _REPLIES.c.claimed_by != bindparam("me"),
    _REPLIES.c.claimed_until > bindparam("now")).limit(1)
_CLAIM = (update(_REPLIES)
          .where(_REPLIES.c.id.in_(select(_REPLIES.c.id).where(*_IN_CHAT, _UNSENT, _DUE)
                                   .order_by(_REPLIES.c.id).limit(WINDOW).scalar_subquery()))
          .values(claimed_by=bindparam("me"), claimed_until=bindparam("until"))
          .returning(*_COLUMNS))
_MARK_SENT = (update(_REPLIES).where(_REPLIES.c.id.in_(bindparam("ids", expanding=True)))
              .values(sent_at=bindparam("now")))
# The same on SQLite, one statement for any number of answers (a gathered line marks up to
# WINDOW at once; SQLAlchemy would write and bind a placeholder for each).
_MARK_SENT_SQL = "UPDATE reply SET sent_at = ? WHERE id IN (SELECT value FROM json_each(?))"
_RENEW = (update(_REPLIES).where(*_IN_CHAT, _UNSENT, _REPLIES.c.claimed_by == bindparam("me"))
          .values(claimed_until=bindparam("until")))


# The receipts a chat's suggestions wait for, those past the chat's mark (SQLite only: see
# `receipts_from_rows`).
_RECEIPTS_SQL = ("SELECT id, message_id, author_id FROM suggestion WHERE platform = ?1 "
                 "AND chat_id = ?2 AND receipt_from_row IS NOT NULL AND id > coalesce("
                 "(SELECT through FROM receipt_sent WHERE platform = ?1 AND chat_id = ?2), 0) "
                 f"ORDER BY id LIMIT {WINDOW}")
_RECEIPTS_SENT_SQL = ("INSERT INTO receipt_sent (platform, chat_id, through) VALUES (?, ?, ?) "
                      "ON CONFLICT (platform, chat_id) "
                      "DO UPDATE SET through = max(through, excluded.through)")
# Per served chat (a suggestion's chat is its group's), one probe of the receipts' index.
_RECEIPTS_WAITING_SQL = (
    "SELECT chat_group.platform, chat_group.chat_id, (SELECT count(*) FROM suggestion "
    "WHERE suggestion.platform = chat_group.platform AND suggestion.chat_id = chat_group.chat_id "
    "AND receipt_from_row IS NOT NULL AND suggestion.id > coalesce((SELECT through FROM "
    "receipt_sent WHERE receipt_sent.platform = chat_group.platform "
    "AND receipt_sent.chat_id = chat_group.chat_id), 0)) AS waiting FROM chat_group")


def receipts_from_rows(engine: Engine) -> bool:
    """Whether a suggestion's plain receipt is made from its own row when sent, instead of
    stored as an answer beside it: where one bot alone sends (SQLite; on a shared database
    the instances claim stored answers)."""
    return engine.dialect.name == "sqlite"


# An answer's fields are plain values: read one by one, not deep-copied (`asdict`); only
# those that differ from their defaults are stored (read back, the others get them again).
_DEFAULTS = tuple((field.name, field.default) for field in dataclasses.fields(OutgoingText))
# One encoder for every stored answer (`json.dumps` with options builds one per call).
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def reply_row(platform: str, chat_id: str, message_id: str, seq: int, message: OutgoingText,
              *, suggestion: int | None = None, now: datetime | None = None,
              text: str | None = None, hold_until: datetime | None = None) -> dict[str, Any]:
    """The stored form of answer number `seq` to one chat message; `suggestion`: the number
    it acknowledges (such answers are gathered under a backlog); `text`: the message's, if
    not its own (a receipt's, its number filled in); `hold_until`: not sent before then
    unless released (`release_reply`)."""
    fields = {name: value for name, default in _DEFAULTS
              if (value := getattr(message, name)) != default}
    if text is not None:
        fields["text"] = text
    return {"platform": platform, "chat_id": chat_id, "message_id": message_id, "seq": seq,
            "body": _ENCODE(fields),
            "suggestion": suggestion, "created_at": now or utcnow(), "sent_at": None,
            "claimed_by": None, "claimed_until": None, "hold_until": hold_until}


def store_replies(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[None]:
    """Store answers once per message and place: a redelivered message's answers are found
    stored. Runs inside the caller's transaction: nothing is committed here."""
    insert_rows(connection, _REPLIES, _KEY, rows)
    return [None for _row in rows]


def release_reply(connection: Connection, platform: str, chat_id: str, message_id: str,
                  seq: int, *, text: str | None = None) -> bool:
    """Let a held answer go now, its text replaced by `text` if given; False if it is no
    longer waiting (its hold ran out and it went as it was)."""
    key = {"platform": platform, "chat_id": chat_id, "message_id": message_id, "seq": seq}
    where = [*(_REPLIES.c[name] == value for name, value in key.items()), _UNSENT]
    body = connection.execute(select(_REPLIES.c.body).where(*where)).scalar_one_or_none()
    if body is None:
        return False
    if text is not None:
        body = json.dumps({**json.loads(body), "text": text}, ensure_ascii=False)
    connection.execute(update(_REPLIES).where(*where).values(body=body, hold_until=None))
    return True


def number_ranges(numbers: Iterable[int]) -> str:
    """Numbers compactly, runs as ranges: 「12–30、33、35–48」."""
    ordered = sorted(set(numbers))
    parts: list[str] = []
    start = previous = ordered[0]
    for number in [*ordered[1:], None]:
        if number is not None and number == previous + 1:
            previous = number
            continue
        if start == previous:
            parts.append(str(start))
        elif previous == start + 1:
            parts.append(f"{start}、{previous}")
        else:
            parts.append(f"{start}–{previous}")
        if number is not None:
            start = previous = number
    return "、".join(parts)


def gathered_line(numbers: Sequence[int]) -> str:
    """One line acknowledging many suggestions: their numbers as runs, or, when those would
    make a long line (numbers spread among other groups'), the span they lie in."""
    runs = number_ranges(numbers)
    if len(runs) <= GATHERED_RUNS_MAX:
        return texts.REPLY_GATHERED.format(count=len(numbers), numbers=runs)
    return texts.REPLY_GATHERED_SPREAD.format(count=len(numbers), first=min(numbers),
                                              last=max(numbers))


@dataclass(frozen=True)
class _Waiting:
    id: int
    body: str  # read into a message only when sent on its own (gathered ones never are)
    suggestion: int | None

    def message(self) -> OutgoingText:
        return OutgoingText(**json.loads(self.body))


@dataclass(frozen=True)
class _Receipt:
    """A suggestion's plain receipt, made from its row (`receipts_from_rows`)."""

    suggestion: int
    message_id: str
    author_id: str

    def message(self) -> OutgoingText:
        # As `Context.tell` would have stored it: for the author, quoting their message.
        return OutgoingText(texts.CMD_SUGGESTION_RAISED.format(number=self.suggestion),
                            reply_to=self.message_id, private_to=self.author_id)


Waiting = _Receipt | _Waiting


def _waiting(rows: Iterable[Sequence[Any]]) -> list[_Waiting]:
    return sorted((_Waiting(*row) for row in rows), key=lambda waiting: waiting.id)


class Replies:
    """The stored answers' sender: one task per chat with answers waiting, woken as soon as
    new ones are stored, and a sweep for those nobody is sending."""

    def __init__(self, engine: Engine, outbox: Outbox, *, backlog: int = 5,
                 lease: timedelta | None = None, sweep: float = SWEEP_SECONDS,
                 gather_pause: float = GATHER_PAUSE,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.outbox = outbox
        self.backlog = backlog
        self.lease = lease  # None: alone on the database (SQLite), nothing to claim
        self.sweep = sweep
        self.gather_pause = gather_pause
        self._hurry = asyncio.Event()  # set: no pause between gathered lines (draining)
        self.clock = clock
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._senders: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._again: set[tuple[str, str]] = set()  # stored while its sender was reading
        self._sweeper: asyncio.Task[None] | None = None
        self._closing = False
        self._pruned: datetime | None = None
        self.messages = 0  # answer messages sent (a gathered one counts once)

    def start(self) -> None:
        """Send what waits from before (a restart) and sweep from now on."""
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    def wake(self, platform: str, chat_id: str) -> None:
        """Send the chat's stored answers now (they are committed)."""
        key = (platform, chat_id)
        sender = self._senders.get(key)
        # A sender that has just found nothing more to send is done, though still listed
        # until its callback runs: what was stored now needs a new one.
        if sender is not None and not sender.done():
            self._again.add(key)
            return
        if self._closing or platform not in self.outbox.adapters:
            return  # stays stored: a bot with that platform switched on sends it
        task = asyncio.get_running_loop().create_task(self._send_chat(key))
        self._senders[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))

    def _forget(self, key: tuple[str, str], task: asyncio.Task[None]) -> None:
        if self._senders.get(key) is task:  # not a newer sender for the same chat
            del self._senders[key]

    async def _sweep_forever(self) -> None:
        while True:
            try:
                for platform, chat_id in await run_db(self.engine, self._unattended):
                    self.wake(platform, chat_id)
            except Exception as exc:  # the storage is down: the next sweep tries again
                log.warning("could not look for waiting answers: %s", exc)
            await asyncio.sleep(self.sweep)

    def _unattended(self) -> list[tuple[str, str]]:
        """The chats with answers (or receipts) waiting that no live claim covers; old sent
        ones go."""
        now = self.clock()
        query = select(_REPLIES.c.platform, _REPLIES.c.chat_id).where(_UNSENT, _DUE).distinct()
        if self.lease is not None:
            query = query.where((_REPLIES.c.claimed_until.is_(None))
                                | (_REPLIES.c.claimed_until <= now)
                                | (_REPLIES.c.claimed_by == self.me))
        if self._pruned is None or now - self._pruned >= PRUNE_EVERY:
            with self.engine.begin() as connection:
                connection.execute(delete(_REPLIES).where(_REPLIES.c.sent_at < now - KEEP_SENT))
            self._pruned = now
        with self.engine.connect() as connection:
            chats = [(row.platform, row.chat_id)
                     for row in connection.execute(query, {"due": now})]
            if receipts_from_rows(self.engine):
                chats += [(platform, chat_id) for platform, chat_id, waiting in driver_rows(
                          connection, _RECEIPTS_WAITING_SQL, ())
                          if waiting and (platform, chat_id) not in chats]
            return chats

    async def _send_chat(self, key: tuple[str, str]) -> None:
        platform, chat_id = key
        try:
            while True:
                self._again.discard(key)
                waiting = await run_db(self.engine, self._claim, platform, chat_id)
                if not waiting:
                    if key in self._again:
                        continue
                    return
                sent = await self._send_waiting(platform, chat_id, waiting)
                if sent is None:
                    return  # the platform is down: the sweep tries again later
                if sent and not self._hurry.is_set():
                    # A burst is under way: what arrives meanwhile is gathered into the next
                    # line, a few lines a minute rather than one per paced slot.
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self._hurry.wait(), self.gather_pause)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the storage failed: what waits stays, the sweep retries
            log.warning("answers to %s/%s wait for the next sweep: %s", platform, chat_id, exc)

    def _claim(self, platform: str, chat_id: str) -> list[Waiting]:
        """The chat's waiting answers, oldest first (the receipts made from suggestions
        before them); with several instances, those this one may send (none while another
        instance's claim on the chat lives)."""
        chat = {"in_platform": platform, "in_chat": chat_id}
        now = self.clock()
        if self.lease is None:
            with self.engine.connect() as connection:
                if receipts_from_rows(self.engine):  # read often under a backlog
                    receipts: list[Waiting] = [
                        _Receipt(*row) for row in driver_rows(
                            connection, _RECEIPTS_SQL, (platform, chat_id))]
                    return receipts + _waiting(driver_rows(
                        connection, _WAITING_SQL, (platform, chat_id, sqlite_text(now))))
                return list(_waiting(connection.execute(_WAITING, {**chat, "due": now})))
        with self.engine.begin() as connection:
            # One claimer per chat at a time: the check below then sees the other's commit.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                               {"key": f"reply:{platform}:{chat_id}"})
            if connection.execute(_CLAIMED_ELSEWHERE, {**chat, "me": self.me, "now": now}
                                  ).first() is not None:
                return []
            return list(_waiting(connection.execute(
                _CLAIM, {**chat, "me": self.me, "due": now, "until": now + self.lease})))

    async def _send_waiting(self, platform: str, chat_id: str, waiting: list[Waiting]
                            ) -> bool | None:
        """Send `waiting` in order, the acknowledgements gathered if there are many; whether
        they were gathered, or None if the platform is down (what is left stays stored)."""
        acks = [item for item in waiting if item.suggestion is not None]
        gather = len(acks) > self.backlog
        gathered = False
        for item in waiting:
            if gather and item.suggestion is not None:
                if gathered:
                    continue
                gathered = True
                message = OutgoingText(gathered_line(
                    [ack.suggestion for ack in acks if ack.suggestion is not None]))
                sent = acks
            else:
                message, sent = item.message(), [item]
            try:
                await self.outbox.send(platform, chat_id, [message])
                self.messages += 1
            except AdapterError as exc:
                if exc.transient:  # tried as often as the outbox tries: later, by the sweep
                    log.warning("answers to %s/%s wait: %s", platform, chat_id, exc)
                    return None
                # The platform refuses this answer for good (the member left, a bad id).
                log.error("answer in %s/%s refused, given up: %s", platform, chat_id, exc)
            await run_db(self.engine, self._mark_sent, platform, chat_id, sent)
        return gather

    async def release(self, platform: str, chat_id: str, message_id: str, seq: int, *,
                      text: str | None = None) -> None:
        """Send a held answer now (`text` instead of its own, if given)."""
        def let_go() -> bool:
            with self.engine.begin() as connection:
                return release_reply(connection, platform, chat_id, message_id, seq, text=text)

        if await run_db(self.engine, let_go):
            self.wake(platform, chat_id)

    def _mark_sent(self, platform: str, chat_id: str, sent: list[Waiting]) -> None:
        now = self.clock()
        ids = [item.id for item in sent if isinstance(item, _Waiting)]
        # Receipts go in their order, each sent (or given up) before the next: the last one
        # sent marks all before it.
        receipts = [item.suggestion for item in sent if isinstance(item, _Receipt)]
        with self.engine.begin() as connection:
            if receipts:
                driver_rows(connection, _RECEIPTS_SENT_SQL, (platform, chat_id, max(receipts)))
            if ids and connection.dialect.name == "sqlite":
                driver_rows(connection, _MARK_SENT_SQL, (sqlite_text(now), json.dumps(ids)))
            elif ids:
                connection.execute(_MARK_SENT, {"ids": ids, "now": now})
            if self.lease is not None:  # still sending here: the claim lives on
                connection.execute(_RENEW, {"in_platform": platform, "in_chat": chat_id,
                                            "me": self.me, "until": now + self.lease})

    async def drain(self, within: float | None = None) -> None:
        """Wait until the answers stored so far have gone out (at most `within` seconds)."""
        loop = asyncio.get_running_loop()
        deadline = None if within is None else loop.time() + within
        self._hurry.set()
        try:
            while self._senders:
                left = None if deadline is None else deadline - loop.time()
                if left is not None and left <= 0:
                    return
                await asyncio.wait(set(self._senders.values()), timeout=left)
        finally:
            if not self._closing:
                self._hurry.clear()

    async def close(self, within: float = 5.0) -> None:
        """Let the answers under way go out for a moment; the rest stay stored, counted in
        the log, and go out after the restart."""
        self._closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.drain(within)
        senders = list(self._senders.values())
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        try:
            left = await run_db(self.engine, self._left)
        except Exception as exc:  # the storage is down: the answers are in it all the same
            log.warning("could not count the answers left for after the restart: %s", exc)
            return
        if left:
            log.warning("%d answers left for after the restart", left)

    def _left(self) -> int:
        """How many answers wait; this instance's claims released for the others at once."""
        with self.engine.begin() as connection:
            if self.lease is not None:
                connection.execute(update(_REPLIES).where(
                    _UNSENT, _REPLIES.c.claimed_by == self.me).values(claimed_until=None))
            left = int(connection.execute(
                select(func.count()).select_from(_REPLIES).where(_UNSENT)).scalar_one())
            if receipts_from_rows(self.engine):
                left += sum(waiting for _platform, _chat, waiting in driver_rows(
                    connection, _RECEIPTS_WAITING_SQL, ()))
            return left

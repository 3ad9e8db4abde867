"""The chat router: commands and text handlers with an explicit Context; the error boundary."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from bot import texts
from bot.chat.ingest import Ingest
from bot.chat.phrasing import bare_word
from bot.core.adapter import StorageError
from bot.core.db import in_session, is_storage_fault
from bot.core.messages import IncomingMessage, OutgoingText
from bot.core.models import Group, Role
from bot.core.roles import ROLE_RANK, allows
from bot.domain.photos import discard, photo_kept
from bot.domain.services import Services
from bot.outbox import Outbox
from bot.outbox.replies import reply_row
from scheduler.dbtypes import utcnow

log = logging.getLogger(__name__)

PLATFORM_ROLES = {"owner": Role.ADMIN, "admin": Role.FACILITATOR}
COMMAND_PREFIXES = ("/", "／")
_HEAD = re.compile(r"\s*[/／](\S*)\s*(.*)", re.DOTALL)

CommandHandler = Callable[["Context", str], Awaitable[None]]
# Lets someone below the command's role use it this once (a handler closing their own item).
Admits = Callable[["Context", str], Awaitable[bool]]
TextHandler = Callable[["Context"], Awaitable[bool]]


@dataclass
class Answers:
    """The answers one delivered message gets, each stored under that message and its place,
    so the message delivered again finds them stored."""

    message_id: str
    given: int = 0

    def place(self) -> tuple[str, int]:
        """The next answer's key: the message and how many answers came before."""
        self.given += 1
        return self.message_id, self.given - 1


@dataclass
class Context:
    """One incoming message with who sent it, where, and what they may do."""

    engine: Engine
    outbox: Outbox
    message: IncomingMessage
    group: Group
    name: str  # the sender's current display name
    role: Role
    services: Services
    ingest: Ingest  # the inbound path's batched writes
    hamlet: str = ""  # the 屋场 the sender belongs to ("" for none)
    # Shared by the contexts made from this one for a message it stands for (a voice a 「是」
    # accepts): answers are keyed by the message that was delivered.
    answers: Answers | None = field(default=None, repr=False)
    # The sender's new member row or display name, being stored in the batch the message's own
    # writes join; the message counts as taken once it is committed (`Router.handle`).
    remembering: asyncio.Future[Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.answers is None:
            self.answers = Answers(self.message.message_id)

    @property
    def group_id(self) -> int:
        assert self.group.id is not None, "a stored group has an id"
        return self.group.id

    def now(self) -> datetime:
        return self.services.clock()

    def allows(self, role: Role) -> bool:
        """Whether the sender holds `role` or a higher one."""
        return allows(self.role, role)

    async def reply(self, text: str) -> None:
        """Answer the message in its chat, quoting it where the platform can."""
        await self.post(OutgoingText(text, reply_to=self.message.message_id))

    async def tell(self, text: str, *, short: str | None = None, in_group: bool = True,
                   acknowledges: int | None = None, hold: timedelta | None = None
                   ) -> tuple[str, int]:
        """Answer the sender alone: privately where the platform allows, else one short
        @-reply line in the group (`short`, or the text's first line); nothing there at all
        when `in_group` is False. `acknowledges`: the suggestion this answer receipts (many
        waiting receipts go out as one message). `hold`: see `post`."""
        return await self.post(self.for_sender(text, short=short, in_group=in_group),
                               acknowledges=acknowledges, hold=hold)

    def for_sender(self, text: str, *, short: str | None = None, in_group: bool = True
                   ) -> OutgoingText:
        """The answer `tell` gives, not yet stored."""
        return OutgoingText(text, reply_to=self.message.message_id,
                            private_to=self.message.user_id, in_group=in_group, short=short)

    def next_answer(self) -> tuple[str, int]:
        """The key of the next answer (its message and place), taken now for one stored
        beside something else (a suggestion's receipt, in the suggestion's transaction)."""
        assert self.answers is not None, "made in __post_init__"
        return self.answers.place()

    async def ask(self, text: str) -> None:
        """Ask the sender something they answer here: for them alone where the chat can show
        that (the web chat), else a quoted reply in the group."""
        await self.post(OutgoingText(text, reply_to=self.message.message_id,
                                     private_to=self.message.user_id, answered_here=True))

    async def post(self, message: OutgoingText, *, acknowledges: int | None = None,
                   hold: timedelta | None = None) -> tuple[str, int]:
        """Post to the message's chat: stored (committed) when this returns, sent in the
        background; the answer's key (its message and place). A storage fault raises, so the
        platform delivers the message again; its answers then find the ones stored the first
        time and are not stored twice. `hold`: not sent before this long unless released
        (`Replies.release`), so a bot stopping meanwhile still sends it after its restart."""
        incoming = self.message
        message_id, place = self.next_answer()
        now = utcnow()
        row = reply_row(incoming.platform, incoming.chat_id, message_id, place, message,
                        suggestion=acknowledges, now=now,
                        hold_until=None if hold is None else now + hold)
        await self.ingest.reply(row)
        if hold is None:
            self.services.replies.wake(incoming.platform, incoming.chat_id)
        return message_id, place


@dataclass(frozen=True)
class Command:
    """A chat command: its names (Chinese first), the least role allowed, and its help line."""

    names: tuple[str, ...]
    role: Role
    handler: CommandHandler
    summary: str = ""
    usage: str = ""
    admits: Admits | None = None


def split_command(text: str) -> tuple[str, str, bool] | None:
    """`/名字@bot 参数` -> (名字, 参数, whether it named a bot); None if it is no command."""
    match = _HEAD.fullmatch(text)
    if match is None:
        return None
    head, args = match.group(1), match.group(2).strip()
    if not head and args:  # `/ 采纳 12`: a space slipped in after the slash
        head, *rest = args.split(None, 1)
        args = rest[0] if rest else ""
    name, at, _bot = head.replace("＠", "@").partition("@")
    return name, args, bool(at)


def resolve_role(table_role: Role, platform_role: str | None) -> Role:
    """The higher of the bot's own role and what the platform's group role maps to."""
    mapped = PLATFORM_ROLES.get(platform_role or "", Role.MEMBER)
    return max(table_role, mapped, key=ROLE_RANK.__getitem__)


async def _remembered(message: IncomingMessage, remembering: asyncio.Future[Any]) -> None:
    """Wait for the sender's member row. A storage fault loses only their name, which comes
    again with their next message; whatever the message itself needed stored failed in the
    same transaction and says so on its own."""
    try:
        await remembering
    except StorageError as exc:
        log.warning("member %s in %s/%s not remembered: %s", message.user_id,
                    message.platform, message.chat_id, exc)


class Router:
    """Routes each incoming message to one command or the first text handler that takes it."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.ingest = Ingest(services.engine)
        self.commands: list[Command] = []
        self._by_name: dict[str, Command] = {}
        self._text_handlers: list[TextHandler] = []

    def command(self, names: Sequence[str], *, role: Role = Role.MEMBER, summary: str = "",
                usage: str = "", admits: Admits | None = None
                ) -> Callable[[CommandHandler], CommandHandler]:
        """Register a command under every name in `names` (Chinese first, English alias)."""

        def register(handler: CommandHandler) -> CommandHandler:
            command = Command(tuple(names), role, handler, summary, usage, admits)
            for name in command.names:
                if name.lower() in self._by_name:
                    raise ValueError(f"command name {name!r} is registered twice")
                self._by_name[name.lower()] = command
            self.commands.append(command)
            return handler

        return register

    def text(self, handler: TextHandler) -> TextHandler:
        """Register a handler for plain text; it returns True when it took the message."""
        self._text_handlers.append(handler)
        return handler

    def find(self, head: str, args: str) -> tuple[Command, str] | None:
        """The command `head` names, exactly or as a prefix (`/采纳12` means `/采纳 12`)."""
        command = self._by_name.get(head.lower())
        if command is not None:
            return command, args
        for name in sorted(self._by_name, key=len, reverse=True):
            if head.startswith(name) and not name.isascii():
                return self._by_name[name], f"{head[len(name):]} {args}".strip()
        return None

    def commands_for(self, role: Role) -> list[Command]:
        """The commands someone with `role` may use, in registration order."""
        return [c for c in self.commands if allows(role, c.role)]

    async def handle(self, message: IncomingMessage) -> None:
        """The app's `on_event`: raises only StorageError, when the bot's storage could not
        take what the message needed (the adapter then has it delivered again); any other
        fault is logged and apologised for."""
        ctx: Context | None = None
        try:
            ctx = await self._context(message)
            if ctx is not None:
                try:
                    await self.dispatch(ctx)
                finally:
                    if ctx.remembering is not None:
                        await _remembered(ctx.message, ctx.remembering)
        except Exception as exc:  # the router is an error boundary: log, answer kindly, go on
            if is_storage_fault(exc):
                # Nothing of it was committed: the platform must not be told it was taken, and
                # its picture stays for the message's next delivery.
                log.warning("message %s in %s/%s not stored: %s", message.message_id,
                            message.platform, message.chat_id, exc)
                if isinstance(exc, StorageError):
                    raise
                raise StorageError(f"storage failed: {exc}") from exc
            log.exception("handling message %s in %s/%s failed", message.message_id,
                          message.platform, message.chat_id)
            if ctx is not None:
                await self._apologise(ctx)
        if message.photo is not None:
            await self._drop_unkept(message.photo)

    async def dispatch(self, ctx: Context) -> None:
        """Run the command the message names, or offer it to the text handlers in order."""
        parsed = split_command(ctx.message.text)
        if parsed is not None:
            head, args, named_bot = parsed
            found = self.find(head, args) if head else None
            if found is None:
                if head and not named_bot:  # `/x@otherbot` is some other bot's business
                    await ctx.reply(texts.CMD_UNKNOWN.format(name=head))
                return
            command, args = found
            if not ctx.allows(command.role) and not (
                    command.admits is not None and await command.admits(ctx, args)):
                log.info("refused /%s to %s (%s) in %s", command.names[0],
                         ctx.message.user_id, ctx.role, ctx.message.chat_id)
                await ctx.tell(texts.CMD_REFUSED.format(
                    who=texts.CMD_ROLE_LABELS[command.role]))
                return
            await command.handler(ctx, args)
            return
        bare = self.bare_command(ctx.message.text)
        if bare is not None:
            await bare.handler(ctx, "")
            return
        for handler in self._text_handlers:
            if await handler(ctx):
                return

    def bare_command(self, text: str) -> Command | None:
        """The members' command a whole message names without the slash (「积分」「帮助。」).

        Only members' commands: a facilitator's or secretary's command acts on the group, so it
        needs the slash that shows it was meant.
        """
        word = bare_word(text)
        command = self._by_name.get(word) if word and not word.isascii() else None
        return command if command is not None and command.role == Role.MEMBER else None

    async def _context(self, message: IncomingMessage) -> Context | None:
        ingest = self.ingest
        sender = await ingest.sender(message.platform, message.chat_id, message.user_id)
        if sender is None or sender.group.id is None:
            # The bot's account may sit in many groups it does not serve: counted, not a line
            # apiece.
            log.debug("message from unknown group %s/%s ignored", message.platform,
                      message.chat_id)
            ingest.unserved.add()
            return None
        name = sender.name
        remembering = None
        # Created on first sight; the display name kept current (an empty one changes nothing).
        if name is None or (message.user_name and message.user_name != name):
            remembering = ingest.remember(sender.group.id, message.user_id, message.user_name,
                                          new=name is None)
            name = message.user_name
        role = resolve_role(sender.role or Role.MEMBER, message.platform_role)
        return Context(self.services.engine, self.services.outbox, message, sender.group, name,
                       role, self.services, ingest, sender.hamlet, remembering=remembering)

    async def _drop_unkept(self, photo: Path) -> None:
        """A received picture no suggestion kept is ordinary chat: its file goes."""
        try:
            kept = await in_session(self.services.engine, photo_kept, photo.name)
        except Exception as exc:  # the file stays; nothing points at it, and nothing is lost
            log.warning("could not tell whether photo %s is kept: %s", photo.name, exc)
            return
        if kept:
            return
        if self.services.media is None:
            discard(photo)
            return
        try:
            await self.services.media.discard(photo)
        except Exception as exc:  # its copy for other instances stays; nothing points at it
            log.warning("photo %s not removed from the shared media: %s", photo.name, exc)

    async def _apologise(self, ctx: Context) -> None:
        try:
            await ctx.reply(texts.CMD_FAILED)
        except Exception:  # the apology is best effort; the fault is already logged
            log.warning("could not tell %s/%s about the failure", ctx.message.platform,
                        ctx.message.chat_id)

"""How night talks read in the chat: times said the way people say them, and the summary."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from bot import texts
from bot.core.models import Group, NightTalk, Suggestion
from bot.domain.attendance import participants, participants_line

SUMMARY_TEXT_LIMIT = 80
MESSAGE_LIMIT = 1500  # below every platform's limit, so a long summary goes in parts


def local_zone(name: str) -> ZoneInfo:
    """The time zone called `name`; Asia/Shanghai if it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def clock_text(moment: datetime, timezone: str) -> str:
    """The local time as people say it: 19:30 -> 「晚上7点半」."""
    local = moment.astimezone(local_zone(timezone))
    period = [word for start, word in texts.NIGHT_PERIODS if local.hour >= start][-1]
    hour = local.hour % 12 or 12
    if local.minute == 0:
        return texts.NIGHT_CLOCK.format(period=period, hour=hour)
    if local.minute == 30:
        return texts.NIGHT_CLOCK_HALF.format(period=period, hour=hour)
    return texts.NIGHT_CLOCK_MINUTES.format(period=period, hour=hour, minute=local.minute)


def date_text(moment: datetime, timezone: str, now: datetime | None = None) -> str:
    """The local date with its weekday, 「12月5日（星期六）」; the year only if not this year."""
    tz = local_zone(timezone)
    local = moment.astimezone(tz)
    fields = {"year": local.year, "month": local.month, "day": local.day,
              "weekday": texts.NIGHT_WEEKDAYS[local.weekday()]}
    if now is not None and now.astimezone(tz).year != local.year:
        return texts.NIGHT_DATE_YEAR.format(**fields)
    return texts.NIGHT_DATE.format(**fields)


def when_text(moment: datetime, timezone: str, now: datetime | None = None) -> str:
    """Date and time together: 「12月5日（星期六）晚上7点半」."""
    return date_text(moment, timezone, now) + clock_text(moment, timezone)


def _summary_line(suggestion: Suggestion) -> str:
    text = " ".join(suggestion.text.split())
    if len(text) > SUMMARY_TEXT_LIMIT:
        text = text[:SUMMARY_TEXT_LIMIT - 1] + "…"
    if suggestion.voice_path:
        if text and suggestion.machine_text:
            return texts.NIGHT_VOICE_MACHINE.format(text=text)
        return texts.NIGHT_VOICE_WITH_TEXT.format(text=text) if text else texts.NIGHT_VOICE_ONLY
    return text


def summary_text(db: Session, talk: NightTalk, ledger_url: str = "") -> str:
    """The closing summary: who came, and every suggestion raised in the talk, numbered; then
    where to follow them (the public ledger), when `ledger_url` is given."""
    query = select(Suggestion).where(Suggestion.night_talk_id == talk.id).order_by(
        col(Suggestion.id))
    rows = list(db.exec(query))
    came = participants_line(participants(db, talk))
    link = [texts.LEDGER_CLOSE_LINE.format(url=ledger_url)] if ledger_url else []
    if not rows:
        return "\n".join(line for line in [texts.NIGHT_CLOSE_NONE.format(topic=talk.topic), came,
                                             *link] if line)
    lines = [texts.NIGHT_CLOSE_HEAD.format(topic=talk.topic, count=len(rows))]
    if came:
        lines.append(came)
    lines += [texts.NIGHT_CLOSE_ITEM.format(n=n, text=_summary_line(row), author=row.author_name,
                                            number=row.id) for n, row in enumerate(rows, 1)]
    lines.append(texts.NIGHT_CLOSE_TAIL)
    return "\n".join(lines + link)


def message_parts(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Whole lines packed into messages of at most `limit` characters."""
    parts: list[str] = []
    for line in text.split("\n"):
        if parts and len(parts[-1]) + 1 + len(line) <= limit:
            parts[-1] += "\n" + line
        else:
            parts.append(line)
    return parts


def talk_fields(talk: NightTalk, group: Group, now: datetime) -> dict[str, str]:
    """The pieces the night-talk messages in texts.py are filled with."""
    tz = group.timezone
    return {"date": date_text(talk.starts_at, tz, now), "time": clock_text(talk.starts_at, tz),
            "end": clock_text(talk.ends_at, tz), "topic": talk.topic,
            "place": texts.NIGHT_PLACE.format(place=talk.place) if talk.place else "",
            "host": texts.NIGHT_HOST.format(host=talk.host) if talk.host else ""}

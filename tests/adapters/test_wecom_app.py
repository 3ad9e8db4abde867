"""WeCom end to end: the real app sends through the fake robot and hears the encrypted callback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import col, select
from yarl import URL

from bot.app import ENGINE, OUTBOX, SCHEDULER
from bot.core.db import session
from bot.core.models import Group, Member, Role, Suggestion, SuggestionStatus
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus
from scheduler.schedules import add_schedule
from tests.support.app import RunningApp, running
from tests.support.fakes.wecom import (
    FakeWeCom,
    ManualClock,
    amr_seconds,
    start_fake_wecom,
)
from tests.support.fakes.wecom_callback import WeComCallbackClient
from tests.support.polling import eventually
from tests.support.wecom import (
    AES_KEY,
    CORP_ID,
    ECHO_SIGNATURE,
    ECHOSTR,
    ENCRYPT,
    MSG_SIGNATURE,
)
from tests.support.wecom import TOKEN as VECTOR_TOKEN

KEY = "8a2f6c1e-3b4d-4f5a-9c7e-fengshu"
CHAT = "wrkSFfCgAAfengshu"  # the group's chatid, as the smart-robot callback names it
TOKEN = "Yehua2026Token"
AES = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
ZHANG, SECRETARY = "ZhangDaYe", "LiShuJi"
WITHIN = 90.0  # the outbox paces WeCom to 20 messages a minute


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake_wecom(clock: ManualClock) -> AsyncIterator[FakeWeCom]:
    # Started before the app, so it is torn down after it and the app never sees it vanish.
    async with start_fake_wecom([KEY], clock=clock) as fake:
        yield fake


@pytest.fixture
def wecom_settings(settings: Settings, fake_wecom: FakeWeCom) -> Settings:
    return replace(settings, extra={
        "YEHUA_WECOM_ROBOTS": f"{CHAT}:{KEY}", "YEHUA_WECOM_API_BASE": fake_wecom.url,
        "YEHUA_WECOM_TOKEN": TOKEN, "YEHUA_WECOM_AES_KEY": AES})


def village(app: web.Application) -> None:
    """The WeCom group the admin added, its secretary and a member named in the member table."""
    with session(app[ENGINE]) as db:
        group = Group(platform="wecom", chat_id=CHAT, name="枫树村大群", hamlet="上屋场")
        db.add(group)
        db.flush()
        assert group.id is not None
        db.add(Member(group_id=group.id, user_id=SECRETARY, display_name="李书记",
                      role=Role.SECRETARY))
        db.add(Member(group_id=group.id, user_id=ZHANG, display_name="张大爷"))


def member(bot: RunningApp) -> WeComCallbackClient:
    return WeComCallbackClient(f"{bot.url}/wecom/callback", TOKEN, AES)


def suggestions(bot: RunningApp) -> list[Suggestion]:
    with session(bot.app[ENGINE]) as db:
        return list(db.exec(select(Suggestion).order_by(col(Suggestion.id))))


def texts(fake: FakeWeCom) -> list[dict[str, Any]]:
    return [m["text"] for m in fake.delivered(KEY) if m["msgtype"] == "text"]


async def schedule_lesson(bot: RunningApp, slug: str) -> None:
    with session(bot.app[ENGINE]) as db:
        group = db.exec(select(Group).where(Group.chat_id == CHAT)).one()
        add_schedule(db, slug, [(group.id or 0, group.timezone)],
                     run_at=utcnow() + timedelta(seconds=1))
    await bot.app[SCHEDULER].rearm()


def lesson_posted(bot: RunningApp) -> Callable[[], bool]:
    def check() -> bool:
        with session(bot.app[ENGINE]) as db:
            return any(d.status == DeliveryStatus.SENT for d in db.exec(select(Delivery)))
    return check


async def test_a_lesson_arrives_as_markdown_then_three_amr_voice_clips_in_order(
    wecom_settings: Settings, fake_wecom: FakeWeCom
) -> None:
    async with running(wecom_settings, village) as bot:
        await schedule_lesson(bot, "ebike-charging")
        await eventually(lesson_posted(bot), WITHIN)
        messages = fake_wecom.delivered(KEY)
        assert [m["msgtype"] for m in messages] == ["markdown", "voice", "voice", "voice"]
        assert messages[0]["markdown"]["content"].startswith("**【微党课】")
        clips = [fake_wecom.media[m["voice"]["media_id"]] for m in messages[1:]]
        seconds = [amr_seconds(clip.data) for clip in clips]
        assert all(10 < s <= 55.5 for s in seconds), seconds
        assert sum(seconds) > 110  # the whole lesson, told in three parts
        assert [u.kind for u in fake_wecom.uploads] == ["voice"] * 3


async def test_a_suggestion_raised_in_the_group_is_stored_and_acknowledged_with_its_number(
    wecom_settings: Settings, fake_wecom: FakeWeCom
) -> None:
    async with running(wecom_settings, village) as bot:
        status, answer = await member(bot).say(CHAT, ZHANG, "建议 村口路灯坏了，晚上看不见路")
        assert (status, answer) == (200, "")
        [raised] = suggestions(bot)  # committed before WeCom got its answer
        assert (raised.text, raised.author_id) == ("村口路灯坏了，晚上看不见路", ZHANG)
        [ack] = await eventually(lambda: texts(fake_wecom), WITHIN)
        assert f"第 {raised.id} 号" in ack["content"]
        assert ack["mentioned_list"] == [ZHANG]  # WeCom cannot quote: the author is @-ed


async def test_a_secretarys_status_change_reaches_the_group_mentioning_the_author(
    wecom_settings: Settings, fake_wecom: FakeWeCom
) -> None:
    async with running(wecom_settings, village) as bot:
        people = member(bot)
        await people.say(CHAT, ZHANG, "建议 修一修水渠")
        [raised] = suggestions(bot)
        await people.say(CHAT, SECRETARY, f"/采纳 {raised.id} 已列入下月计划")
        notice = (await eventually(lambda: texts(fake_wecom)[1:], WITHIN))[-1]
        assert "已采纳" in notice["content"] and "已列入下月计划" in notice["content"]
        assert "张大爷" in notice["content"]  # the name the admin gave, not the userid
        assert notice["mentioned_list"] == [ZHANG]
        assert suggestions(bot)[0].status is SuggestionStatus.ADOPTED


@pytest.mark.parametrize("forge", ["unsigned", "bad_signature", "wrong_key", "wrong_receiver",
                                   "stale"])
async def test_a_forged_or_unsigned_callback_is_refused_and_nothing_is_stored(
    wecom_settings: Settings, fake_wecom: FakeWeCom, forge: str
) -> None:
    async with running(wecom_settings, village) as bot:
        status, _ = await member(bot).say(CHAT, ZHANG, "建议 给我发红包", forge=forge)
        assert status == (401 if forge == "unsigned" else 403)
        assert suggestions(bot) == []
        assert fake_wecom.sends == []  # nothing answered in the group either


async def test_malformed_and_oversized_callbacks_are_answered_4xx(
    wecom_settings: Settings, fake_wecom: FakeWeCom
) -> None:
    async with running(wecom_settings, village) as bot:
        people = member(bot)
        status, _ = await people.post(b"not json at all")
        assert status == 400
        status, _ = await people.post(b'{"text": "' + "字".encode() * 30000 + b'"}')
        assert status == 413
        assert suggestions(bot) == []


async def test_an_app_callback_in_xml_is_verified_and_handed_on(
    wecom_settings: Settings, fake_wecom: FakeWeCom
) -> None:
    async with running(wecom_settings, village) as bot:
        xml = ("<xml><ToUserName><![CDATA[]]></ToUserName><FromUserName><![CDATA[ZhangDaYe]]>"
               "</FromUserName><CreateTime>1765432100</CreateTime><MsgType><![CDATA[text]]>"
               "</MsgType><Content><![CDATA[建议 修桥]]></Content><MsgId>4561255354251345930"
               "</MsgId><AgentID>1000002</AgentID></xml>")
        assert (await member(bot).post(xml.encode(), xml=True))[0] == 200
        assert suggestions(bot) == []  # chat 1000002 is no group the admin added
        assert (await member(bot).post(xml.encode(), xml=True, forge="bad_signature"))[0] == 403


async def test_saving_the_callback_url_in_wecom_verifies_it(
    wecom_settings: Settings, fake_wecom: FakeWeCom
) -> None:
    async with running(wecom_settings, village) as bot:
        assert await member(bot).verify_url("1616140317555161061") == (200, "1616140317555161061")
        status, answer = await member(bot).verify_url("1616140317555161061",
                                                      forge="bad_signature")
        assert status == 403 and answer == ""


async def test_flood_control_is_survived_with_nothing_lost_and_nothing_doubled(
    wecom_settings: Settings, fake_wecom: FakeWeCom, clock: ManualClock
) -> None:
    """Someone else used 18 of the robot's 20 messages this minute: the lesson's second clip
    meets errcode 45009. The fake's minute passes when the test moves its clock; the adapter
    is told the window is half a second so the outbox's real pause stays short."""

    def short_window(app: web.Application) -> None:
        village(app)
        app[OUTBOX].adapter("wecom").window = 0.5  # type: ignore[attr-defined]

    async with running(wecom_settings, short_window) as bot:
        fake_wecom.fill(KEY, 18)
        await schedule_lesson(bot, "ebike-charging")
        await eventually(lambda: fake_wecom.refused(45009), WITHIN)
        clock.advance(60.0)
        await eventually(lesson_posted(bot), WITHIN)
        messages = fake_wecom.delivered(KEY)
        assert [m["msgtype"] for m in messages] == ["markdown", "voice", "voice", "voice"]
        media = [m["voice"]["media_id"] for m in messages[1:]]
        assert len(set(media)) == 3 and len(fake_wecom.uploads) == 3  # none uploaded twice
        assert "【微党课】" in messages[0]["markdown"]["content"]


async def test_the_official_vectors_pass_through_the_running_app(
    settings: Settings, fake_wecom: FakeWeCom
) -> None:
    """WeCom's published vectors, signed afresh: their own 2014 timestamps are long past the
    five-minute window, so as published they are refused."""
    official = replace(settings, extra={
        "YEHUA_WECOM_ROBOTS": f"218:{KEY}", "YEHUA_WECOM_API_BASE": fake_wecom.url,
        "YEHUA_WECOM_TOKEN": VECTOR_TOKEN, "YEHUA_WECOM_AES_KEY": AES_KEY,
        "YEHUA_WECOM_RECEIVE_ID": CORP_ID})
    signer = WeComCallbackClient("", VECTOR_TOKEN, AES_KEY, CORP_ID)
    now = str(int(time.time()))
    async with running(official) as bot, aiohttp.ClientSession() as http:
        url = f"{bot.url}/wecom/callback"
        query = {"msg_signature": ECHO_SIGNATURE, "timestamp": "1409659589",
                 "nonce": "263014780", "echostr": ECHOSTR}
        async with http.get(url, params=query) as response:
            assert (response.status, await response.text()) == (403, "")
        fresh = signer.sign(now, "263014780", ECHOSTR)
        query |= {"msg_signature": fresh, "timestamp": now}
        async with http.get(url, params=query) as response:
            assert (response.status, await response.text()) == (200, "1616140317555161061")
        # WeCom may leave + and / unescaped in the query: still verified.
        raw = URL(f"{url}?msg_signature={fresh}&timestamp={now}"
                  f"&nonce=263014780&echostr={ECHOSTR}", encoded=True)
        async with http.get(raw) as response:
            assert (response.status, await response.text()) == (200, "1616140317555161061")
        body = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA["
                f"{ENCRYPT}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>")
        query = {"msg_signature": MSG_SIGNATURE, "timestamp": "1409659813",
                 "nonce": "1372623149"}
        async with http.post(url, params=query, data=body.encode()) as response:
            assert response.status == 403
        query |= {"msg_signature": signer.sign(now, "1372623149", ENCRYPT), "timestamp": now}
        async with http.post(url, params=query, data=body.encode()) as response:
            assert response.status == 200  # "hello" from mycreate, handed to the router
        query["nonce"] = "1372623150"
        async with http.post(url, params=query, data=body.encode()) as response:
            assert response.status == 403

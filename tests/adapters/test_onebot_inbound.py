"""OneBot events coming in: signatures, X-Self-ID, sizes, the reverse WebSocket, the token."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from sqlmodel import select

from bot.adapters.onebot.wire import signature
from bot.app import ENGINE, SERVICES, create_app
from bot.core.db import session
from bot.core.models import Member, SuggestionStatus
from bot.settings import Settings, SettingsError
from tests.support.app import running
from tests.support.fakes.onebot import SECRET, SELF_ID, FakeNapCat, fake_napcat
from tests.support.onebot import (
    GROUP,
    LI,
    OWNER,
    ZHANG,
    prepare_qq_groups,
    said,
    stored,
    with_onebot,
)
from tests.support.polling import eventually


def members(app: object) -> list[Member]:
    with session(app[ENGINE]) as db:  # type: ignore[index]
        return list(db.exec(select(Member)))


async def test_forged_unsigned_or_anonymous_events_are_refused_and_nothing_is_stored(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        event = napcat.group_message(GROUP, ZHANG, said("/采纳 1 好"), role="owner")
        assert (await napcat.post_event(bot.url, event, secret=None))[0] == 401
        assert (await napcat.post_event(bot.url, event, secret="guessed"))[0] == 403
        assert (await napcat.post_event(bot.url, event, signature="sha1=00"))[0] == 403
        assert (await napcat.post_event(bot.url, event, self_id=""))[0] == 400
        assert (await napcat.post_event(bot.url, event, self_id="夜话"))[0] == 400
        raised = napcat.group_message(GROUP, ZHANG, said("建议 村口路灯坏了"))
        assert (await napcat.post_event(bot.url, raised, secret="guessed"))[0] == 403
        assert stored(bot.app) == [] and members(bot.app) == []
        assert napcat.sent == [], "a forged event makes the bot say nothing"
        # The same event, signed with the secret, is taken.
        assert (await napcat.post_event(bot.url, raised))[0] == 204
        assert len(stored(bot.app)) == 1


async def test_malformed_and_oversized_bodies_are_answered_4xx(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        async with aiohttp.ClientSession() as http:
            for body, status in ((b"{not json", 400), (b"[1, 2]", 400),
                                 (b'{"x": "' + b"a" * (1024 * 1024) + b'"}', 413)):
                headers = {"X-Self-ID": str(SELF_ID), "Content-Type": "application/json",
                           "X-Signature": signature(SECRET, body)}
                async with http.post(f"{bot.url}/onebot/v11/", data=body,
                                     headers=headers) as response:
                    assert response.status == status, body[:20]
        assert stored(bot.app) == []


async def test_a_body_that_arrives_in_pieces_is_read_whole_before_the_signature_is_checked(
    settings: Settings, napcat: FakeNapCat
) -> None:
    """A slow link: the headers first, the body later and in parts, with Content-Length or
    chunked; each event is taken once it is all there, and a cut-off one is refused."""
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        host, port = bot.url.removeprefix("http://").split(":")

        async def trickle(body: bytes, *, chunked: bool, cut: bool = False) -> int:
            length = ("Transfer-Encoding: chunked" if chunked
                      else f"Content-Length: {len(body) + (10 if cut else 0)}")
            head = (f"POST /onebot/v11/ HTTP/1.1\r\nHost: {host}\r\nX-Self-ID: {SELF_ID}\r\n"
                    f"Content-Type: application/json\r\n{length}\r\n"
                    f"X-Signature: {signature(SECRET, body)}\r\nConnection: close\r\n\r\n")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(head.encode())
            await writer.drain()
            half = len(body) // 2
            for part in (body[:half], body[half:]):
                await asyncio.sleep(0.2)
                writer.write(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                await writer.drain()
            if chunked:
                writer.write(b"0\r\n\r\n")
            elif cut:
                writer.write_eof()  # the sender gave up: ten bytes never come
            status = await reader.readline()
            writer.close()
            return int(status.split()[1]) if status else 0

        for n, chunked in enumerate((False, True)):
            event = napcat.group_message(GROUP, ZHANG + n, said(f"建议 第{n + 1}盏路灯不亮"))
            assert await trickle(json.dumps(event).encode(), chunked=chunked) == 204
        event = napcat.group_message(GROUP, LI, said("建议 修一修水渠"))
        assert await trickle(json.dumps(event).encode(), chunked=False, cut=True) in (0, 400)
        assert sorted(s.text for s in stored(bot.app)) == ["第1盏路灯不亮", "第2盏路灯不亮"]


async def test_events_by_http_post_need_a_secret_unless_openness_is_allowed(
    settings: Settings, napcat: FakeNapCat
) -> None:
    event = napcat.group_message(GROUP, ZHANG, said("建议 村口路灯坏了"))
    no_secret = with_onebot(settings, napcat, YEHUA_ONEBOT_SECRET="")
    async with running(no_secret, prepare_qq_groups) as bot:
        assert (await napcat.post_event(bot.url, event, secret=None))[0] == 403
        assert stored(bot.app) == []
    open_one = with_onebot(settings, napcat, YEHUA_ONEBOT_SECRET="",
                           YEHUA_ONEBOT_ACCESS_TOKEN="", YEHUA_ONEBOT_ALLOW_NO_TOKEN="true")
    async with running(open_one) as bot:  # same data folder: the groups are there already
        assert (await napcat.post_event(bot.url, event, secret=None))[0] == 204
        assert len(stored(bot.app)) == 1


async def test_a_role_the_event_leaves_out_is_asked_of_the_implementation(
    settings: Settings, napcat: FakeNapCat
) -> None:
    napcat.members[(GROUP, OWNER)] = "owner"
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        await napcat.post_event(bot.url, napcat.group_message(GROUP, ZHANG, said("建议 修路")))
        adopt = napcat.group_message(GROUP, OWNER, said("/采纳 1 马上修"), card="王书记")
        del adopt["sender"]["role"]  # as Lagrange reports it
        await napcat.post_event(bot.url, adopt)
        [row] = stored(bot.app)
    assert row.status is SuggestionStatus.ADOPTED
    asked = [params for action, params, _via in napcat.calls
             if action == "get_group_member_info"]
    assert {"group_id": GROUP, "user_id": OWNER} in asked


async def test_the_old_http_paths_nonebot_configs_use_work_too(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        for number, path in enumerate(("/onebot/v11", "/onebot/v11/http"), start=1):
            event = napcat.group_message(GROUP, ZHANG, said(f"建议 第{number}件事"))
            assert (await napcat.post_event(bot.url, event, path=path))[0] == 204
        assert len(stored(bot.app)) == 2


async def test_an_empty_access_token_stops_the_app_naming_the_variable(
    settings: Settings, napcat: FakeNapCat
) -> None:
    with pytest.raises(SettingsError) as refused:
        create_app(with_onebot(settings, napcat, YEHUA_ONEBOT_ACCESS_TOKEN=""))
    assert refused.value.variable == "YEHUA_ONEBOT_ACCESS_TOKEN"
    assert "hijacked" in str(refused.value)


async def test_the_explicit_override_lets_an_open_reverse_websocket_in(
    settings: Settings
) -> None:
    async with fake_napcat(token="") as fake:
        open_one = with_onebot(settings, fake, YEHUA_ONEBOT_ACCESS_TOKEN="",
                               YEHUA_ONEBOT_ALLOW_NO_TOKEN="true")
        async with running(open_one, prepare_qq_groups) as bot, \
                fake.reverse_ws(bot.url, token=None) as ws:
            await ws.send_event(fake.group_message(GROUP, LI, said("建议 多装几个垃圾桶")))
            await eventually(lambda: fake.answered(GROUP))
        assert [s.text for s in stored(bot.app)] == ["多装几个垃圾桶"]


async def test_reverse_websocket_delivers_a_suggestion_and_the_ack_goes_back_over_it(
    settings: Settings, napcat: FakeNapCat
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        async with napcat.reverse_ws(bot.url) as ws:
            event = napcat.group_message(GROUP, LI, said(" 建议 修一下东头的水渠", at_bot=True),
                                         nickname="李婶")
            await ws.send_event(event)
            [ack] = await eventually(lambda: napcat.answered(GROUP))
            await ws.send_event({"time": 1, "self_id": SELF_ID, "post_type": "meta_event",
                                 "meta_event_type": "heartbeat", "interval": 30000,
                                 "status": {"online": True, "good": True}})
        assert ack.via == "ws" and "第 1 号" in ack.text
        assert ack.user_id == LI  # for the author alone
        assert [(s.text, s.author_name) for s in stored(bot.app)] == [("修一下东头的水渠", "李婶")]
        # With the socket gone, the next answer takes the HTTP API.
        await napcat.post_event(bot.url, napcat.group_message(GROUP, ZHANG, said("建议 修路")))
        await bot.app[SERVICES].replies.drain()
        assert napcat.answered(GROUP)[-1].via == "http"


@pytest.mark.parametrize(("token", "self_id", "status"), [
    (None, str(SELF_ID), 401), ("wrong-token", str(SELF_ID), 403), ("napcat-test-token-0123456789",
                                                                    "", 400)])
async def test_a_reverse_websocket_without_the_right_token_or_account_is_refused(
    settings: Settings, napcat: FakeNapCat, token: str | None, self_id: str, status: int
) -> None:
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        headers = {"X-Client-Role": "Universal"}
        if self_id:
            headers["X-Self-ID"] = self_id
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{bot.url}/onebot/v11/ws", headers=headers)
        assert refused.value.status == status


async def test_voice_from_a_group_the_bot_does_not_serve_is_not_fetched(
    settings: Settings, napcat: FakeNapCat
) -> None:
    napcat.voices["4f0c1d2e.amr"] = b"ID3 not fetched anyway"
    async with running(with_onebot(settings, napcat), prepare_qq_groups) as bot:
        voice = napcat.group_message(555000111, ZHANG, [{"type": "record", "data": {
            "file": "4f0c1d2e.amr"}}])
        assert (await napcat.post_event(bot.url, voice))[0] == 204
    assert [action for action, _params, _via in napcat.calls] == []
    assert stored(bot.app) == [] and napcat.sent == []

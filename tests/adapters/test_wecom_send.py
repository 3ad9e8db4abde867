"""The WeCom adapter against the fake robot webhook: formats, byte limits, voice, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.wecom.adapter import WeComAdapter
from bot.adapters.wecom.config import WeComConfig
from bot.core.adapter import AdapterError, RetryAfter, Unsupported
from bot.core.messages import OutgoingAudio, OutgoingText
from lessons.audio import silence_mp3, to_amr_clips
from tests.support.fakes.wecom import FakeWeCom, ManualClock, amr_seconds, start_fake_wecom

KEY = "5f7c0a3e-1b2d-4e8f-9a6b-robot-one"
CHAT = "wrkSFfCgAAfengshu"


@dataclass
class Rig:
    fake: FakeWeCom
    adapter: WeComAdapter
    clock: ManualClock


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    clock = ManualClock()
    async with start_fake_wecom([KEY], clock=clock) as fake:
        config = WeComConfig(robots={CHAT: KEY, "gone": "deleted-robot"}, api_base=fake.url)
        adapter = WeComAdapter(config, clock=clock)
        await adapter.open()
        try:
            yield Rig(fake, adapter, clock)
        finally:
            await adapter.close()


def amr_clip(folder: Path, seconds: float, name: str = "a1b2c3d4e5f60718.amr") -> Path:
    [clip] = to_amr_clips(silence_mp3(seconds), normalise=False)
    path = folder / name
    path.write_bytes(clip)
    return path


async def test_a_status_notice_mentions_its_author_by_userid(rig: Rig) -> None:
    await rig.adapter.send(CHAT, OutgoingText("第 3 号建议已采纳。", mention="ZhangDaYe"))
    [body] = rig.fake.delivered(KEY)
    assert body == {"msgtype": "text", "text": {"content": "第 3 号建议已采纳。",
                                                "mentioned_list": ["ZhangDaYe"]}}


async def test_a_long_lesson_arrives_as_markdown_pieces_in_order(rig: Rig) -> None:
    body = "电动车要在车棚充电，不要推进楼道。" * 120  # 6,120 bytes
    lesson = OutgoingText(f"【微党课】电动车安全\n{body}", lesson_slug="ebike-charging")
    first = await rig.adapter.send(CHAT, lesson)
    pieces = [m["markdown"]["content"] for m in rig.fake.delivered(KEY)]
    assert len(pieces) == 2 and first
    assert all(len(p.encode()) <= 4096 for p in pieces)
    assert pieces[0].startswith("**【微党课】电动车安全**\n")
    assert pieces[0].endswith("。") and "".join(pieces).endswith(body[-30:])
    assert "".join(pieces).replace("**【微党课】电动车安全**\n", "") == body


async def test_a_voice_clip_is_uploaded_as_amr_then_posted_as_voice(rig: Rig, tmp_path: Path
                                                                   ) -> None:
    path = amr_clip(tmp_path, 3.0)
    await rig.adapter.send(CHAT, OutgoingAudio(path, 3.0, caption="电动车安全"))
    [upload] = rig.fake.uploads
    assert (upload.kind, upload.filename, upload.errcode) == ("voice", path.name, 0)
    assert upload.filelength == str(path.stat().st_size)
    assert 2.9 < amr_seconds(upload.data) < 3.2
    [body] = rig.fake.delivered(KEY)
    assert body == {"msgtype": "voice", "voice": {"media_id": upload.media_id}}


async def test_a_clip_wecom_forgot_is_uploaded_afresh_on_the_retry(rig: Rig, tmp_path: Path
                                                                   ) -> None:
    clip = OutgoingAudio(amr_clip(tmp_path, 1.0), 1.0)
    await rig.adapter.send(CHAT, clip)
    await rig.adapter.send(CHAT, clip)
    assert len(rig.fake.uploads) == 1  # the media id is good for three days
    rig.fake.media.clear()
    with pytest.raises(AdapterError) as caught:
        await rig.adapter.send(CHAT, clip)
    assert caught.value.transient and "40007" in str(caught.value)
    await rig.adapter.send(CHAT, clip)
    assert len(rig.fake.uploads) == 2 and len(rig.fake.delivered(KEY)) == 3


async def test_flood_control_says_to_wait_until_the_minute_window_frees(rig: Rig) -> None:
    for n in range(20):
        await rig.adapter.send(CHAT, OutgoingText(f"第{n}条"))
        rig.clock.advance(1.0)
    rig.clock.advance(10.0)  # 30 s after the first of the twenty
    with pytest.raises(RetryAfter) as caught:
        await rig.adapter.send(CHAT, OutgoingText("第21条"))
    assert caught.value.seconds == pytest.approx(30.0)
    rig.clock.advance(caught.value.seconds)
    await rig.adapter.send(CHAT, OutgoingText("第21条"))
    assert [m["text"]["content"] for m in rig.fake.delivered(KEY)][-2:] == ["第19条", "第21条"]


async def test_someone_elses_posts_through_the_robot_mean_waiting_a_whole_window(rig: Rig
                                                                                 ) -> None:
    rig.fake.fill(KEY, 20)
    with pytest.raises(RetryAfter) as caught:
        await rig.adapter.send(CHAT, OutgoingText("通知"))
    assert caught.value.seconds == 60.0
    assert caught.value.transient


async def test_a_long_text_cut_off_by_flood_control_resumes_without_doubling(rig: Rig) -> None:
    rig.fake.fill(KEY, 18)  # two messages left in this minute
    text = OutgoingText("请大家按时交医保。" * 600)  # 16,200 bytes: eight pieces of ≤ 2048
    with pytest.raises(RetryAfter):
        await rig.adapter.send(CHAT, text)
    assert len(rig.fake.delivered(KEY)) == 2
    rig.clock.advance(60.0)
    await rig.adapter.send(CHAT, text)
    sent = "".join(m["text"]["content"] for m in rig.fake.delivered(KEY))
    assert sent == text.text  # every piece once, in order


async def test_a_deleted_robot_is_a_permanent_error_with_wecoms_message(rig: Rig) -> None:
    with pytest.raises(AdapterError) as caught:
        await rig.adapter.send("gone", OutgoingText("通知"))
    assert "93000" in str(caught.value) and "invalid webhook url" in str(caught.value)
    assert not caught.value.transient


async def test_a_chat_without_a_robot_is_refused_without_calling_wecom(rig: Rig) -> None:
    with pytest.raises(AdapterError) as caught:
        await rig.adapter.send("no-such-chat", OutgoingText("通知"))
    assert "YEHUA_WECOM_ROBOTS" in str(caught.value) and not rig.fake.sends


async def test_server_errors_and_timeouts_are_worth_retrying(rig: Rig) -> None:
    rig.fake.misbehave(status=502)
    with pytest.raises(AdapterError) as caught:
        await rig.adapter.send(CHAT, OutgoingText("通知"))
    assert caught.value.transient
    rig.adapter.timeout = 0.3
    await rig.adapter.close()
    await rig.adapter.open()
    rig.fake.misbehave(stall=5.0)
    with pytest.raises(AdapterError) as caught:
        await rig.adapter.send(CHAT, OutgoingText("通知"))
    assert caught.value.transient
    await rig.adapter.send(CHAT, OutgoingText("通知"))
    assert [m["text"]["content"] for m in rig.fake.delivered(KEY)] == ["通知"]


async def test_audio_that_is_not_amr_is_unsupported(rig: Rig, tmp_path: Path) -> None:
    mp3 = tmp_path / "0123456789abcdef.mp3"
    mp3.write_bytes(silence_mp3(1.0))
    with pytest.raises(Unsupported):
        await rig.adapter.send(CHAT, OutgoingAudio(mp3, 1.0))
    assert not rig.fake.uploads


async def test_the_fake_refuses_what_wecom_refuses(rig: Rig) -> None:
    """The fake's own limits, so the tests above stand on a faithful imitation."""
    send = f"{rig.fake.url}/cgi-bin/webhook/send"
    cases = [({"msgtype": "text", "text": {"content": "字" * 683}}, 40058),
             ({"msgtype": "markdown", "markdown": {"content": "字" * 1366}}, 40058),
             ({"msgtype": "text", "text": {"content": ""}}, 44004),
             ({"msgtype": "sticker", "sticker": {}}, 40008),
             ({"msgtype": "voice", "voice": {"media_id": "never-uploaded"}}, 40007)]
    async with aiohttp.ClientSession() as http:
        for body, code in cases:
            async with http.post(send, params={"key": KEY}, json=body) as resp:
                assert resp.status == 200 and (await resp.json())["errcode"] == code, body

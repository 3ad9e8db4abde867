"""A quiet group on WeCom, DingTalk and Feishu: their robots cannot write to one member, so an
answer meant for one member is one short line in the group that @-mentions them."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from bot.app import ENGINE, SERVICES
from bot.core.db import session
from bot.core.models import Group, Member
from bot.settings import Settings
from tests.support import dingtalk, feishu
from tests.support.app import running
from tests.support.fakes.dingtalk import fake_dingtalk
from tests.support.fakes.feishu import fake_feishu
from tests.support.fakes.wecom import ManualClock, start_fake_wecom
from tests.support.fakes.wecom_callback import WeComCallbackClient
from tests.support.polling import eventually
from tests.support.robots import add_group

SECRETARY = ("secretary0001", "王书记")
ASKED = ("建议 村口路灯坏了", "建议 东头水渠该清了", "我的建议", "/采纳 1 好")


def one_line_each(lines: list[str]) -> None:
    """The four answers: two numbers, the member's suggestions, a refusal; one line each."""
    assert len(lines) == 4, lines
    assert all("\n" not in line for line in lines), lines
    assert "第 1 号" in lines[0] and "第 2 号" in lines[1]
    assert "您提过 2 条建议，最近的第 2 号" in lines[2]
    assert "对不起" in lines[3]


async def test_wecom_answers_one_member_with_one_mentioning_line(settings: Settings) -> None:
    key, chat, token, aes, zhang = ("8a2f6c1e-quiet", "wrkQuietChat", "Yehua2026Token",
                                    "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "ZhangDaYe")
    async with start_fake_wecom([key], clock=ManualClock()) as fake:
        on_wecom = replace(settings, extra={
            "YEHUA_WECOM_ROBOTS": f"{chat}:{key}", "YEHUA_WECOM_API_BASE": fake.url,
            "YEHUA_WECOM_TOKEN": token, "YEHUA_WECOM_AES_KEY": aes})

        def village(app: web.Application) -> None:
            with session(app[ENGINE]) as db:
                group = Group(platform="wecom", chat_id=chat, name="枫树村大群")
                db.add(group)
                db.flush()
                db.add(Member(group_id=group.id or 0, user_id=zhang, display_name="张大爷"))

        async with running(on_wecom, village) as bot:
            people = WeComCallbackClient(f"{bot.url}/wecom/callback", token, aes)
            for text in ASKED:
                await people.say(chat, zhang, text)
            await bot.app[SERVICES].replies.drain(within=90)
            sent = await eventually(lambda: len(fake.delivered(key)) == 4
                                    and fake.delivered(key), 90)
    assert all(m["text"]["mentioned_list"] == [zhang] for m in sent)
    one_line_each([m["text"]["content"] for m in sent])


async def test_dingtalk_answers_one_member_with_one_mentioning_line(settings: Settings) -> None:
    async with fake_dingtalk() as fake:
        fake.add_robot(dingtalk.TOKEN, dingtalk.SECRET)
        on_dingtalk = replace(settings, extra={
            "YEHUA_DINGTALK_ROBOTS": f"{dingtalk.CHAT}:{dingtalk.TOKEN}:{dingtalk.SECRET}",
            "YEHUA_DINGTALK_APP_SECRET": dingtalk.APP_SECRET,
            "YEHUA_DINGTALK_API_BASE": fake.url})
        async with running(on_dingtalk, lambda app: add_group(
                app, "dingtalk", dingtalk.CHAT, SECRETARY)) as bot:
            for text in ASKED:
                await fake.callback(bot.url, fake.at_message(dingtalk.CHAT, dingtalk.ZHANG, text),
                                    app_secret=dingtalk.APP_SECRET)
            await bot.app[SERVICES].replies.drain()
            sent = fake.delivered(f"session:{dingtalk.CHAT}")
    staff_id = dingtalk.ZHANG[0]
    assert all(m["at"]["atUserIds"] == [staff_id] for m in sent)
    one_line_each([m["text"]["content"].removeprefix(f"@{staff_id} ") for m in sent])


async def test_feishu_answers_one_member_with_one_mentioning_line(settings: Settings) -> None:
    async with fake_feishu() as fake:
        fake.add_bot(feishu.TOKEN, feishu.SECRET)
        on_feishu = replace(settings, extra={
            "YEHUA_FEISHU_ROBOTS": f"{feishu.CHAT}:{feishu.TOKEN}:{feishu.SECRET}",
            "YEHUA_FEISHU_VERIFICATION_TOKEN": feishu.VERIFICATION,
            "YEHUA_FEISHU_ENCRYPT_KEY": feishu.ENCRYPT_KEY, "YEHUA_FEISHU_API_BASE": fake.url})
        async with running(on_feishu, lambda app: add_group(
                app, "feishu", feishu.CHAT, SECRETARY)) as bot:
            for text in ASKED:
                event = fake.message_event(feishu.CHAT, feishu.ZHANG, text,
                                           token=feishu.VERIFICATION)
                await fake.post_event(bot.url, event, encrypt_key=feishu.ENCRYPT_KEY)
            await bot.app[SERVICES].replies.drain()
            sent = [m["content"]["text"] for m in fake.delivered(feishu.TOKEN)]
    at = f'<at user_id="{feishu.ZHANG}"></at> '
    assert all(line.startswith(at) for line in sent)
    one_line_each([line.removeprefix(at) for line in sent])

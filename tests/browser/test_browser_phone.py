"""The console on a 390 px phone: every page fits, text is readable, the menu and filters work."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from aiohttp import web
from playwright.async_api import Browser, Page, expect
from sqlmodel import col, select

from bot import texts
from bot.app import ENGINE
from bot.core.db import session
from bot.core.models import (
    ConsoleUser,
    Group,
    NightTalk,
    NightTalkStatus,
    Role,
    Suggestion,
    SuggestionStatus,
    Village,
)
from bot.domain.accounts import create_user
from bot.settings import Settings
from scheduler.dbtypes import utcnow
from scheduler.models import Delivery, DeliveryStatus, Schedule, ScheduleKind, ScheduleTarget
from tests.support.app import RunningApp, running
from tests.support.console import PASSWORD, with_console
from tests.support.points import LI, WANG, ZHANG, seed_village

PHONE = {"width": 390, "height": 844}
LESSON = "telecom-fraud"
# What villagers really write: a whole paragraph, not three words.
LONG_TEXT = ("村口到学校那段路的路灯坏了快一个月了，晚上孩子们放学回家要摸黑走，老人出门也怕摔跤。"
             "建议村里尽快找电工来修，顺便在拐弯的地方多装一盏灯，再把路边的杂草清一清，"
             "下雨天那里积水也很深，最好一起垫一垫。")

# The checks run on every page, in the page: problems come back as sentences.
CHECKS = """() => {
  const problems = [];
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const start = (el) => (el.textContent || el.name || "").trim().slice(0, 12);
  const root = document.scrollingElement;
  if (root.scrollWidth > window.innerWidth) {
    problems.push(`the page is ${root.scrollWidth}px wide`);
  }
  for (const el of document.querySelectorAll("main *")) {
    const overflow = getComputedStyle(el).overflowX;
    // The trend chart alone may slide sideways: twelve months of bars need the room.
    if ((overflow === "auto" || overflow === "scroll") && el.scrollWidth > el.clientWidth + 1
        && !el.classList.contains("chart-wrap")) {
      problems.push(`${el.tagName.toLowerCase()}.${el.className} scrolls sideways`);
    }
  }
  // Text that wraps must have room for about eight characters a line.
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data.trim();
    const parent = node.parentElement;
    if (text.length < 6 || !parent || parent.closest("svg, select, textarea, script")) continue;
    range.selectNodeContents(node);
    const lines = Array.from(range.getClientRects()).filter((r) => r.width > 0);
    if (lines.length < 2) continue;
    const widest = Math.max(...lines.map((r) => r.width));
    const size = parseFloat(getComputedStyle(parent).fontSize);
    if (widest < 8 * size) {
      problems.push(`"${text.slice(0, 12)}" squeezed to ${Math.round(widest)}px a line`);
    }
  }
  for (const cell of document.querySelectorAll("main td, main tbody th")) {
    const width = cell.getBoundingClientRect().width;
    if (shown(cell) && cell.textContent.trim() && width < 200) {
      problems.push(`table cell "${start(cell)}" is ${Math.round(width)}px wide`);
    }
  }
  const targets = "button, select, summary, input:not([type=hidden]):not([type=checkbox])"
    + ":not([type=radio]), label.check, .nav a, td a, .pager a, .card-action";
  for (const el of document.querySelectorAll(targets)) {
    const height = el.getBoundingClientRect().height;
    if (shown(el) && height < 40) {
      problems.push(`${el.tagName.toLowerCase()} "${start(el)}" is ${Math.round(height)}px tall`);
    }
  }
  // A field to fill in takes (nearly) the whole width, so what is typed stays readable.
  const fields = "main input:not([type=hidden]):not([type=checkbox]):not([type=radio]),"
    + " main select, main textarea";
  for (const el of document.querySelectorAll(fields)) {
    const width = el.getBoundingClientRect().width;
    if (shown(el) && width < 250) {
      problems.push(`field ${el.name} is ${Math.round(width)}px wide`);
    }
  }
  return problems;
}"""

# A status badge's colours, and how readable its text is on its background (WCAG contrast).
BADGE = """(el) => {
  const style = getComputedStyle(el);
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
  return {background: style.backgroundColor, contrast: (a + 0.05) / (b + 0.05)};
}"""


def prepare(app: web.Application) -> None:
    """A village with its groups and people, long suggestions in every status, talks, lessons
    sent and failed and one coming up, and an admin account."""
    with_console(app)
    engine = app[ENGINE]
    seeded = seed_village(engine)
    now = utcnow()
    with session(engine) as db:
        create_user(db, "root", "刘主任", PASSWORD, Role.ADMIN)
        past = NightTalk(group_id=seeded.fengshu, topic="修路和路灯的事，大家一起商量怎么办",
                         place="枫树屋场晒谷坪旁边的老祠堂", host="张大爷",
                         starts_at=now - timedelta(days=3),
                         ends_at=now - timedelta(days=3, hours=-2),
                         status=NightTalkStatus.CLOSED)
        coming = NightTalk(group_id=seeded.lianhua, topic="今年冬天的防火安排",
                           place="莲花屋场村部", host="王伯", starts_at=now + timedelta(days=4),
                           ends_at=now + timedelta(days=4, hours=2))
        db.add_all([past, coming])
        db.flush()
        for n, status in enumerate(list(SuggestionStatus) * 2):
            who = (ZHANG, LI, WANG)[n % 3]
            handled = status in (SuggestionStatus.ADOPTED, SuggestionStatus.IN_PROGRESS)
            db.add(Suggestion(
                group_id=seeded.fengshu, night_talk_id=past.id if n < 5 else None,
                hamlet="枫树屋场", platform="web", chat_id="fengshu", message_id=f"m{n}",
                author_id=who[0], author_name=who[1], text=f"{LONG_TEXT}（第{n + 1}条）",
                category="roads", status=status, machine_text=n == 0,
                handler_name="村里电工老陈" if handled else None,
                handler_phone="13800001111" if handled else None,
                due_at=now + timedelta(days=n - 3) if handled else None,
                reply={SuggestionStatus.DONE: "路灯已经修好了，拐弯处也新装了一盏，谢谢大家提醒。",
                       SuggestionStatus.DECLINED: "村里今年的钱已经用完，明年春天第一批安排。"
                       }.get(status),
                created_at=now - timedelta(days=n), updated_at=now - timedelta(days=n)))
        for days, state in ((1, DeliveryStatus.FAILED), (2, DeliveryStatus.SENT)):
            when = now - timedelta(days=days)
            db.add(Delivery(lesson_slug=LESSON, group_id=seeded.fengshu, occurrence=when,
                            status=state, sent_at=when if state == DeliveryStatus.SENT else None,
                            error="AdapterError: 503 from the platform, will try again later"
                            if state == DeliveryStatus.FAILED else None))
        schedule = Schedule(lesson_slug=LESSON, kind=ScheduleKind.ONCE,
                            run_at=now + timedelta(days=5))
        db.add(schedule)
        db.flush()
        assert schedule.id is not None
        db.add(ScheduleTarget(schedule_id=schedule.id, group_id=seeded.lianhua,
                              next_due=now + timedelta(days=5)))


# JSON a page's script polls while a job runs; there is no page to look at.
POLLING_FEEDS = {"/admin/lesson-listen/{key}"}


def path_values(bot: RunningApp) -> dict[str, Any]:
    """What each path parameter of a console route is filled with: the seeded rows' ids."""
    with session(bot.app[ENGINE]) as db:
        group = db.exec(select(Group).where(Group.name == "枫树屋场")).one()
        village = db.exec(select(Village)).first()
        talk = db.exec(select(NightTalk).where(NightTalk.status == NightTalkStatus.CLOSED)).one()
        suggestion = db.exec(select(Suggestion).order_by(col(Suggestion.id))).first()
        user = db.exec(select(ConsoleUser)).first()
        assert village and suggestion and user
        return {"id": group.id, "group": group.id, "village": village.id, "talk": talk.id,
                "number": suggestion.id, "suggestion": suggestion.id, "user": user.id,
                "slug": LESSON, "lesson": LESSON}


def console_pages(bot: RunningApp) -> list[tuple[str, str]]:
    """Every GET route under /admin as (its pattern, a URL with the seeded ids filled in)."""
    values = path_values(bot)
    pages = []
    for route in bot.app.router.routes():
        if route.method != "GET":
            continue
        info = route.resource.get_info() if route.resource else {}
        pattern = info.get("path") or info.get("formatter") or ""
        if pattern != "/admin" and not pattern.startswith("/admin/"):
            continue
        if pattern in POLLING_FEEDS:
            continue
        names = re.findall(r"\{(\w+)", pattern)
        missing = [name for name in names if name not in values]
        assert not missing, (f"console route {pattern} ({route.handler.__name__}) needs "
                             f"a seeded value for {missing}")
        assert route.resource is not None
        filled = {name: str(values[name]) for name in names}
        if "/versions/" in pattern:  # a lesson's version: the library took its file in as 1
            filled["number"] = "1"
        url = route.resource.url_for(**filled)
        pages.append((pattern, str(url)))
    return pages


async def sign_in(page: Page, url: str) -> None:
    await page.goto(url + "/admin/login")
    await page.get_by_test_id("login-username").fill("root")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-button").click()
    await expect(page.get_by_test_id("viewer-name")).to_have_text("刘主任")


async def test_every_console_page_fits_a_phone_and_reads_well(
    settings: Settings, chromium: Browser
) -> None:
    async with running(settings, prepare) as bot:
        page = await chromium.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                       has_touch=True)
        errors: list[str] = []  # script errors and content the CSP refused
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        await sign_in(page, bot.url)

        visited = []
        for pattern, path in console_pages(bot):
            answer = await page.request.get(bot.url + path)
            if "text/html" not in answer.headers.get("content-type", ""):
                continue  # a download or a page's JSON feed
            assert answer.ok, (pattern, answer.status)
            await page.goto(bot.url + path)
            problems = await page.evaluate(CHECKS)
            assert problems == [], (pattern, problems)
            # Folded parts (the menu, the filters, a failure's reason) must fit once opened.
            await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            problems = await page.evaluate(CHECKS)
            assert problems == [], (pattern, "opened", problems)
            visited.append(pattern)
        assert {"/admin", "/admin/suggestions", "/admin/suggestions/{number}", "/admin/talks",
                "/admin/talks/{talk}", "/admin/groups/{id}", "/admin/lessons/{slug}",
                "/admin/households/{village}", "/admin/reports", "/admin/calendar"
                } <= set(visited), visited

        # The board: each suggestion a card with its whole text, a badge, a big button.
        await page.goto(bot.url + "/admin/suggestions")
        rows = page.get_by_test_id("suggestion-row")
        await expect(rows).to_have_count(10)
        colours: dict[str, set[str]] = {}
        for i in range(10):
            row = rows.nth(i)
            text = row.get_by_test_id("suggestion-text")
            await expect(text).to_contain_text(LONG_TEXT)
            box = await text.bounding_box()
            assert box and box["width"] >= 300, box
            badge = row.get_by_test_id("suggestion-status")
            await expect(badge).to_be_visible()
            looks = await badge.evaluate(BADGE)
            assert looks["contrast"] >= 4.5, looks
            colours.setdefault(await badge.inner_text(), set()).add(looks["background"])
            link = await row.get_by_test_id("suggestion-link").bounding_box()
            assert link and link["height"] >= 44
        assert set(colours) == set(texts.SUGGESTION_STATUS_LABELS.values())
        assert all(len(c) == 1 for c in colours.values())
        assert len(set.union(*colours.values())) == 5  # one colour per status
        # A column's name labels its value on the card.
        author = rows.first.locator("td").nth(1)
        assert (await author.get_attribute("data-label")) == texts.ADMIN_SUG_COL_AUTHOR

        # The filters fold away; opened, each label sits above a full-width field.
        date_from = page.get_by_test_id("filter-from")
        await expect(date_from).to_be_hidden()
        await page.get_by_test_id("fold-summary").tap()
        await expect(date_from).to_be_visible()
        field = await date_from.bounding_box()
        assert field and field["width"] >= 300
        await page.get_by_test_id("filter-status").select_option("done")
        await page.get_by_test_id("filter-button").tap()
        await expect(rows).to_have_count(2)
        await expect(date_from).to_be_hidden()  # folded again, saying a filter is on
        await expect(page.get_by_test_id("fold-summary")).to_have_text(
            texts.ADMIN_FILTERS + texts.ADMIN_FILTERS_ON)

        # The menu: closed, it is one button; opened, a list to tap.
        talks = page.get_by_test_id("nav-talks")
        await expect(talks).to_be_hidden()
        await page.get_by_test_id("nav-menu-button").tap()
        await expect(talks).to_be_visible()
        await talks.tap()
        await expect(page).to_have_url(bot.url + "/admin/talks")
        await expect(page.get_by_test_id("nav-menu-button")).to_contain_text("夜话")
        await expect(page.get_by_test_id("nav-talks")).to_be_hidden()
        assert errors == []
        await page.close()


async def test_on_a_wide_screen_tables_stay_tables_and_nothing_is_folded(
    settings: Settings, chromium: Browser
) -> None:
    async with running(settings, prepare) as bot:
        page = await chromium.new_page(viewport={"width": 1280, "height": 900})
        await sign_in(page, bot.url)
        await page.goto(bot.url + "/admin/suggestions")
        board = page.get_by_test_id("board")
        assert await board.evaluate("t => getComputedStyle(t).display") == "table"
        await expect(board.locator("thead th").first).to_be_visible()
        row = page.get_by_test_id("suggestion-row").first
        assert await row.evaluate("r => getComputedStyle(r).display") == "table-row"
        cells = [await c.bounding_box() for c in await row.locator("td").all()]
        assert all(c is not None for c in cells)
        assert len({round(c["y"]) for c in cells if c}) == 1  # the row's cells side by side
        await expect(page.get_by_test_id("filter-from")).to_be_visible()
        await expect(page.get_by_test_id("fold-summary")).to_be_hidden()
        await expect(page.get_by_test_id("nav-talks")).to_be_visible()
        await expect(page.get_by_test_id("nav-menu-button")).to_be_hidden()
        await page.close()

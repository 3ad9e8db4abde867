"""A village of two groups with its points list and people, and award sheets to upload."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from openpyxl import Workbook
from sqlalchemy.engine import Engine

from bot.core.db import session
from bot.core.models import Group, PointsItem, Role, Village
from tests.support import builders
from tests.support.console import Visitor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# (user id, name, which groups): 张大爷 is in both groups; two different people are 刘芳.
PEOPLE = (("u-zhang", "张大爷", (0, 1)), ("u-li", "李奶奶", (0,)), ("u-wang", "王小明", (1,)),
          ("u-liu1", "刘芳", (0,)), ("u-liu2", "刘芳", (1,)), ("u-zhao", "赵婶", (1,)))
# (name, points, who may give it, daily cap, yearly cap, needs a photo, active)
ITEMS = (("改厕", 10, Role.FACILITATOR, None, None, False, True),
         ("红十条", -10, Role.SECRETARY, None, None, False, True),
         ("返乡报备", 5, Role.FACILITATOR, 1, None, False, True),
         ("注册反诈APP", 20, Role.FACILITATOR, None, 1, False, True),
         ("门前三包", 3, Role.FACILITATOR, None, None, True, True),
         ("旧的卫生评比", 8, Role.FACILITATOR, None, None, False, False))


@dataclass(frozen=True)
class PointsVillage:
    """The village's id and its two groups' ids."""

    id: int
    groups: tuple[int, int]


def seed_village(engine: Engine, *, items: bool = True) -> PointsVillage:
    """Village 枫竹村: groups 枫树屋场群 and 竹林屋场群, six people, and (if `items`) its list."""
    first = builders.add_group(engine, "枫树屋场群", chat_id="fengshu")
    second = builders.add_group(engine, "竹林屋场群", chat_id="zhulin")
    groups = (first.id or 0, second.id or 0)
    for user_id, name, where in PEOPLE:
        for index in where:
            builders.add_member(engine, groups[index], user_id, name)
    with session(engine) as db:
        village = Village(name="枫竹村")
        db.add(village)
        db.flush()
        for group_id in groups:
            group = db.get(Group, group_id)
            assert group is not None
            group.village_id = village.id
            db.add(group)
        for name, points, role, daily, yearly, photo, active in ITEMS if items else ():
            db.add(PointsItem(village_id=village.id or 0, name=name, points=points,
                              award_role=role, daily_cap=daily, yearly_cap=yearly,
                              needs_photo=photo, active=active))
        return PointsVillage(village.id or 0, groups)


def sheet(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """An XLSX file with `headers` on its first row and `rows` after it."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def upload(guest: Visitor, path: str, data: bytes, name: str = "表格.xlsx", *,
                 form_page: str | None = None) -> tuple[int, str]:
    """Send a file to `path` with the upload form of `form_page` (by default `path` itself)."""
    token = await guest.token(form_page or path)
    body = aiohttp.FormData()
    body.add_field("csrf_token", token)
    body.add_field("file", data, filename=name, content_type=XLSX)
    async with guest.http.post(guest.url + path, data=body, allow_redirects=False) as response:
        return response.status, await response.text()

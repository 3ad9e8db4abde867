"""The console's front page: this month's figures and the last twelve months as a chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aiohttp import web
from sqlalchemy import func
from sqlmodel import col, select

from bot import texts
from bot.admin.core import Console, Viewer, console_of, page, render
from bot.core.db import run_db, session
from bot.core.models import Role, Suggestion, SuggestionStatus
from bot.domain.outcomes import Outcomes, days_text, outcomes, overdue_now
from bot.reports import Figures, ReportFilter, figures
from scheduler.models import Delivery, DeliveryStatus

MONTHS = 12
# The drawing, in SVG user units; the browser scales it to the screen.
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 300, 44, 8, 16, 44
SERIES = (("collected", texts.ADMIN_DASH_COLLECTED), ("adopted", texts.ADMIN_DASH_ADOPTED),
          ("done", texts.ADMIN_DASH_DONE))


@dataclass(frozen=True)
class Month:
    """One calendar month and its figures."""

    start: date
    end: date
    figures: Figures

    @property
    def label(self) -> str:
        """1月 … 12月."""
        return texts.ADMIN_MONTH.format(month=self.start.month)


@dataclass(frozen=True)
class Bar:
    """One bar of the trend chart."""

    series: str
    x: float
    y: float
    width: float
    height: float
    value: int
    title: str


@dataclass(frozen=True)
class Chart:
    """The trend chart, laid out on the server (no script needed to draw it)."""

    width: int
    height: int
    left: int
    bars: list[Bar]
    labels: list[tuple[float, str]]
    grid: list[tuple[float, int]]
    baseline: float


def month_span(day: date) -> tuple[date, date]:
    """The first and last day of the month `day` is in."""
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def last_months(today: date, count: int = MONTHS) -> list[tuple[date, date]]:
    """The spans of the `count` months up to and including today's, oldest first."""
    spans = [month_span(today)]
    while len(spans) < count:
        spans.insert(0, month_span(spans[0][0] - timedelta(days=1)))
    return spans


def _nice_top(value: int) -> int:
    """A round number at least `value`, for the top of the axis."""
    top = max(value, 4)
    for step in (4, 10, 20, 40, 100, 200, 400, 1000, 2000, 4000, 10_000):
        if top <= step:
            return step
    return top


def trend_chart(months: list[Month]) -> Chart:
    """Three bars a month (collected, adopted, done) on a shared scale."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_top(max((getattr(m.figures, key) for m in months for key, _ in SERIES),
                        default=0))
    slot = plot_w / max(len(months), 1)
    bar_w = slot * 0.26
    baseline = TOP + plot_h
    bars, labels = [], []
    for index, month in enumerate(months):
        left = LEFT + index * slot + slot * 0.11
        for offset, (key, name) in enumerate(SERIES):
            value = getattr(month.figures, key)
            height = value / top * plot_h
            bars.append(Bar(key, round(left + offset * bar_w, 1), round(baseline - height, 1),
                            round(bar_w, 1), round(height, 1), value,
                            texts.ADMIN_DASH_BAR_TITLE.format(month=month.label, series=name,
                                                              n=value)))
        labels.append((round(LEFT + (index + 0.5) * slot, 1), month.label))
    grid = [(round(baseline - plot_h * share, 1), round(top * share)) for share in (0, 0.5, 1)]
    return Chart(WIDTH, HEIGHT, LEFT, bars, labels, grid, baseline)


@dataclass(frozen=True)
class Overview:
    """Everything the front page shows."""

    months: list[Month]
    waiting: int
    failed: int
    outcomes: Outcomes  # this month's talks, attendance and days to done
    overdue: int  # every suggestion past its deadline now, whenever it was raised


def _overview(console: Console, today: date, now: datetime) -> Overview:
    with session(console.services.engine) as db:
        months = [Month(start, end, figures(db, ReportFilter(start, end)))
                  for start, end in last_months(today)]
        seeds = outcomes(db, ReportFilter(months[-1].start, months[-1].end), now)
        overdue = db.exec(select(func.count(col(Suggestion.id))).where(
            col(Suggestion.merged_into).is_(None), *overdue_now(now))).one()
        waiting = db.exec(select(func.count(col(Suggestion.id))).where(
            col(Suggestion.status) == SuggestionStatus.NEW,
            col(Suggestion.merged_into).is_(None))).one()
        failed = db.exec(select(func.count(col(Delivery.id))).where(
            col(Delivery.status).in_([DeliveryStatus.FAILED, DeliveryStatus.MISSED]))).one()
    return Overview(months, waiting, failed, seeds, overdue)


@page(Role.MEMBER)
async def index(request: web.Request, viewer: Viewer) -> web.StreamResponse:
    """This month's figures and the trend; a member-role account gets a polite note instead."""
    if viewer.role == Role.MEMBER:
        return render(request, viewer, "admin/dashboard.html", member=True)
    console = console_of(request)
    now = console.services.clock()
    today = now.astimezone(console.settings.zone).date()
    overview = await run_db(console.services.engine, _overview, console, today, now)
    current = overview.months[-1]
    return render(request, viewer, "admin/dashboard.html", member=False, month=current,
                  f=current.figures, overview=overview, chart=trend_chart(overview.months),
                  series=SERIES, seeds=overview.outcomes, days=days_text,
                  is_secretary=viewer.role in (Role.SECRETARY, Role.ADMIN))


def routes(router: web.UrlDispatcher) -> None:
    """Register the front page."""
    router.add_get("/admin", index)
    router.add_get("/admin/", index)

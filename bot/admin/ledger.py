"""The public ledger (公开台账) over HTTP: no sign-in, the link's key is the only key."""

from __future__ import annotations

from aiohttp import web
from sqlmodel import Session

from bot import texts
from bot.admin.core import console_of, whole_number
from bot.core.db import in_session
from bot.domain.ledger import LedgerPage, group_for_key, ledger_page

# The key is in the address: no referrer may carry it to another site, no search engine keep it.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _html(request: web.Request, template: str, status: int = 200, **context: object
          ) -> web.Response:
    templates = console_of(request).templates
    html = templates.get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", headers=HEADERS)


async def ledger(request: web.Request) -> web.StreamResponse:
    """One page of a group's suggestions, newest first; an unknown key is a 404."""
    console = console_of(request)
    key = request.match_info["key"]
    page = whole_number(request.query.get("page")) or 1
    now = console.services.clock()

    def read(db: Session) -> LedgerPage | None:
        group = group_for_key(db, key)
        return ledger_page(db, group, page, now=now) if group is not None else None

    found = await in_session(console.services.engine, read)
    if found is None:
        return _html(request, "ledger_missing.html", status=404,
                     message=texts.LEDGER_NOT_FOUND)
    return _html(request, "ledger.html", ledger=found, base=request.path)


def routes(router: web.UrlDispatcher) -> None:
    """Register the ledger's page."""
    router.add_get("/ledger/{key}", ledger)

"""The one way the Telegram adapter talks to the Bot API: a call, an upload, a file download."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp

from bot.adapters.telegram.wire import check_response
from bot.core.adapter import AdapterError

log = logging.getLogger(__name__)

CALL_TIMEOUT = 30.0
UPLOAD_TIMEOUT = 120.0
MAX_DOWNLOAD = 20 * 1024 * 1024  # what the Bot API lets bots download


class TelegramApi:
    """Bot API calls over one aiohttp session, every error mapped by `check_response`."""

    def __init__(self, api_base: str, token: str) -> None:
        self.api_base = api_base.rstrip("/")
        self.token = token
        self.session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        """Create the adapter's one HTTP session (in the app's cleanup context)."""
        self.session = aiohttp.ClientSession(headers={"User-Agent": "yehua"})

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None or self.session.closed:
            raise AdapterError("the Telegram adapter is not running", transient=True)
        return self.session

    async def call(self, method: str, params: dict[str, Any] | None = None, *,
                   within: float = CALL_TIMEOUT) -> Any:
        """POST `params` as JSON to `method`; return its result or raise the mapped error."""
        body = {k: v for k, v in (params or {}).items() if v is not None}
        return await self._post(method, json=body, within=within,
                                chat_id=str(body.get("chat_id", "")))

    async def upload(self, method: str, params: dict[str, Any], field: str, path: Path,
                     content_type: str) -> Any:
        """POST `params` and one file as multipart/form-data (required for uploads)."""
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise AdapterError(f"audio file cannot be read: {path}: {exc}") from exc
        form = aiohttp.FormData()
        for key, value in params.items():
            if value is not None:
                form.add_field(key, value if isinstance(value, str) else json.dumps(value))
        form.add_field(field, data, filename=path.name, content_type=content_type)
        return await self._post(method, data=form, within=UPLOAD_TIMEOUT,
                                chat_id=str(params.get("chat_id", "")))

    async def download(self, file_path: str, limit: int = MAX_DOWNLOAD) -> bytes:
        """A file getFile named: over HTTP, or from disk for a local Bot API server."""
        local = Path(file_path)
        if local.is_absolute():
            # A Bot API server in --local mode answers with a path on its own disk.
            return await asyncio.to_thread(_read_limited, local, limit)
        url = f"{self.api_base}/file/bot{self.token}/{file_path}"
        try:
            async with self._session().get(
                    url, timeout=aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT)) as response:
                if response.status != 200:
                    raise AdapterError(f"file download answered HTTP {response.status}",
                                       transient=response.status >= 500)
                data = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > limit:
                        raise AdapterError(f"file larger than {limit} bytes")
                return bytes(data)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AdapterError(f"file download failed: {exc!r}", transient=True) from exc

    async def _post(self, method: str, *, within: float, chat_id: str, **kwargs: Any) -> Any:
        url = f"{self.api_base}/bot{self.token}/{method}"
        try:
            async with self._session().post(
                    url, timeout=aiohttp.ClientTimeout(total=within), **kwargs) as response:
                status = response.status
                try:
                    body: object = await response.json(content_type=None)
                except ValueError:
                    body = None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AdapterError(f"Telegram {method} failed: {exc!r}", transient=True) from exc
        return check_response(status, body, chat_id=chat_id)


def _read_limited(path: Path, limit: int) -> bytes:
    try:
        if path.stat().st_size > limit:
            raise AdapterError(f"file larger than {limit} bytes: {path}")
        return path.read_bytes()
    except OSError as exc:
        raise AdapterError(f"file cannot be read: {path}: {exc}") from exc

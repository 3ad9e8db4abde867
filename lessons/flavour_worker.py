"""A short-lived child process that flavours sentences: jieba never stays in the bot's memory."""

from __future__ import annotations

import contextlib
import json
import logging
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from lessons.dialect import Flavourer, flavour_sentences

log = logging.getLogger(__name__)

IDLE_SECONDS = 60.0  # a worker unused this long exits and hands jieba's ~130 MB back
CALL_TIMEOUT_S = 120.0  # a worker silent this long is killed (its first call loads jieba: 1–2 s)
COMMAND = (sys.executable, "-m", "lessons.flavour_worker")
_ROOT = Path(__file__).resolve().parent.parent  # where `python -m lessons...` finds the package


class WorkerFailed(Exception):
    """The worker process could not start, died, went silent or answered nonsense."""


class FlavourWorker:
    """Runs a flavourer in one child process, started on demand and ended when idle.

    A child that fails is replaced once; if the replacement fails too, the work moves into this
    process for good (logged once), so flavouring is never lost.
    """

    def __init__(self, local: Flavourer = flavour_sentences, *, idle_seconds: float = IDLE_SECONDS,
                 in_process: bool = False, command: Sequence[str] = COMMAND,
                 timeout: float = CALL_TIMEOUT_S) -> None:
        self.local = local  # the same work, run in this process
        self.idle_seconds = idle_seconds
        self.in_process = in_process
        self.command = tuple(command)
        self.timeout = timeout
        self._lock = threading.Lock()  # one request at a time on the pipe, one child at most
        self._process: subprocess.Popen[bytes] | None = None
        self._timer: threading.Timer | None = None

    @property
    def pid(self) -> int | None:
        """The running child's process id; None while there is none."""
        process = self._process
        return None if process is None else process.pid

    def flavour(self, stem: str, framing: tuple[str, ...]) -> tuple[str | None, ...]:
        """Each sentence flavoured with the region's words, by the child if it can."""
        with self._lock:
            if not self.in_process:
                try:
                    return self._ask_twice(stem, framing)
                except WorkerFailed as exc:
                    log.warning("the flavour worker failed twice (%s): flavouring in the bot's "
                                "own process from now on", exc)
                    self.in_process = True
        return self.local(stem, framing)

    def close(self) -> None:
        """End the child now (it would end by itself once idle)."""
        with self._lock:
            self._stop(kill=False)

    def _ask_twice(self, stem: str, framing: tuple[str, ...]) -> tuple[str | None, ...]:
        try:
            return self._ask(stem, framing)
        except WorkerFailed as exc:
            log.info("flavour worker failed (%s); starting a new one", exc)
            self._stop(kill=True)
        try:
            return self._ask(stem, framing)
        except WorkerFailed:
            self._stop(kill=True)
            raise

    def _ask(self, stem: str, framing: tuple[str, ...]) -> tuple[str | None, ...]:
        if self._process is None:
            self._process = self._start()
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        try:
            return self._exchange(process.stdin, process.stdout, stem, framing)
        finally:
            self._arm_timer()

    def _exchange(self, stdin: IO[bytes], stdout: IO[bytes], stem: str,
                  framing: tuple[str, ...]) -> tuple[str | None, ...]:
        try:
            stdin.write(json.dumps({"stem": stem, "sentences": framing}).encode() + b"\n")
            stdin.flush()
        except OSError as exc:
            raise WorkerFailed(f"cannot write to it: {exc}") from exc
        ready, _, _ = select.select([stdout], [], [], self.timeout)
        if not ready:
            raise WorkerFailed(f"no answer within {self.timeout:g} s")
        line = stdout.readline()
        if not line:
            raise WorkerFailed("it exited")
        try:
            answer = json.loads(line)
        except ValueError as exc:
            raise WorkerFailed(f"unreadable answer {line[:80]!r}") from exc
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            # The work itself failed, as it would have here: the caller sees the error.
            raise RuntimeError(f"flavouring failed in the worker: {answer['error']}")
        flavoured = answer.get("sentences") if isinstance(answer, dict) else None
        if not isinstance(flavoured, list) or len(flavoured) != len(framing) or not all(
            item is None or isinstance(item, str) for item in flavoured
        ):
            raise WorkerFailed(f"unexpected answer {line[:80]!r}")
        return tuple(flavoured)

    def _start(self) -> subprocess.Popen[bytes]:
        try:
            process = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, cwd=_ROOT)
        except OSError as exc:
            raise WorkerFailed(f"cannot start it: {exc}") from exc
        log.info("flavour worker %s started", process.pid)
        return process

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        timer = threading.Timer(self.idle_seconds, lambda: self._on_idle(timer))
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _on_idle(self, timer: threading.Timer) -> None:
        with self._lock:
            if self._timer is timer:  # not re-armed by a later call in the meantime
                self._stop(kill=False)

    def _stop(self, *, kill: bool) -> None:
        """End the child (called with the lock held): end of input, or a kill if it failed."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        process = self._process
        if process is None:
            return
        if kill:
            process.kill()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):  # a dead child's pipe refuses the flush
                    pipe.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._process = None  # only now: `pid` stays set until the child is really gone
        log.info("flavour worker %s ended", process.pid)


def main() -> None:
    """The child: read one JSON request a line, answer one JSON line, until stdin closes."""
    # Ctrl-C in a terminal reaches the whole process group: the bot decides when this ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed by a library must not corrupt the answers
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            flavoured = flavour_sentences(request["stem"], tuple(request["sentences"]))
            answer: dict[str, object] = {"sentences": list(flavoured)}
        except Exception as exc:  # the boundary of one request: report it, keep serving
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer).encode() + b"\n")
        answers.flush()


if __name__ == "__main__":
    main()


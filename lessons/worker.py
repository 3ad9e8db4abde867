"""Short-lived child processes for heavy work, so jieba and FFmpeg never stay in the bot.

A `Worker` runs jobs of `JOBS` in a child process (`python -m lessons.worker`), started on the
first call and ended once idle: what the jobs load (jieba's dictionary, PyAV's codecs) goes with
the child. Requests and answers are one JSON line each over the child's stdin and stdout.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

log = logging.getLogger(__name__)

IDLE_SECONDS = 60.0  # a child unused this long exits and hands its memory back
CALL_TIMEOUT_S = 120.0  # a child silent this long is killed (a first call loads its libraries)
COMMAND = (sys.executable, "-m", "lessons.worker")
_ROOT = Path(__file__).resolve().parent.parent  # where `python -m lessons...` finds the package

# What a child can be asked to run: module and function, imported only by the child. Each takes
# and returns JSON values.
JOBS = {
    "flavour": "lessons.flavour_worker:flavour_job",
    "transcode": "lessons.variants:transcode",
    "voice": "lessons.audio_jobs:hear_voice_job",
    "wav_to_mp3": "lessons.audio_jobs:wav_to_mp3_job",
    "recording": "lessons.audio_jobs:prepare_recording_job",
}

_T = TypeVar("_T")


class WorkerFailed(Exception):
    """The worker process could not start, died, went silent or answered nonsense."""


class Worker:
    """Runs jobs in one child process, started on demand and ended when idle.

    A child that fails is replaced once; if the replacement fails too, the work moves into this
    process for good (logged once), so nothing is lost. A job that raises ValueError in the
    child raises ValueError here too (bad input stays bad input); any other error RuntimeError.
    """

    def __init__(self, *, doing: str, idle_seconds: float = IDLE_SECONDS,
                 in_process: bool = False, command: Sequence[str] = COMMAND,
                 timeout: float = CALL_TIMEOUT_S) -> None:
        self.doing = doing  # what the logs call the work, e.g. "flavouring"
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

    def call(self, job: str, read: Callable[[Any], _T], *args: Any,
             local: Callable[..., Any] | None = None) -> _T:
        """`job`'s result for `args` (JSON values), from the child if it can, through `read`
        (which turns the JSON answer into what the caller gets; ValueError: nonsense).
        `local` runs the job in this process (by default the job's own function)."""
        if job not in JOBS:
            raise ValueError(f"no such job: {job}")
        with self._lock:
            if not self.in_process:
                try:
                    return self._ask_twice(job, read, args)
                except WorkerFailed as exc:
                    log.warning("the worker for %s failed twice (%s): %s in the bot's own "
                                "process from now on", self.doing, exc, self.doing)
                    self.in_process = True
        return read((local or _job(job))(*args))

    def close(self) -> None:
        """End the child now (it would end by itself once idle)."""
        with self._lock:
            self._stop(kill=False)

    def _ask_twice(self, job: str, read: Callable[[Any], _T], args: tuple[Any, ...]) -> _T:
        try:
            return _read(read, self._ask(job, args))
        except WorkerFailed as exc:
            log.info("the worker for %s failed (%s); starting a new one", self.doing, exc)
            self._stop(kill=True)
        try:
            return _read(read, self._ask(job, args))
        except WorkerFailed:
            self._stop(kill=True)
            raise

    def _ask(self, job: str, args: tuple[Any, ...]) -> Any:
        if self._process is None:
            self._process = self._start()
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        try:
            return self._exchange(process.stdin, process.stdout, job, args)
        finally:
            self._arm_timer()

    def _exchange(self, stdin: IO[bytes], stdout: IO[bytes], job: str,
                  args: tuple[Any, ...]) -> Any:
        try:
            stdin.write(json.dumps({"job": job, "args": args}).encode() + b"\n")
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
            if answer.get("type") == "ValueError":
                raise ValueError(answer["error"])
            raise RuntimeError(f"{self.doing} failed in the worker: {answer['error']}")
        if not isinstance(answer, dict) or "result" not in answer:
            raise WorkerFailed(f"unexpected answer {line[:80]!r}")
        return answer["result"]

    def _start(self) -> subprocess.Popen[bytes]:
        try:
            process = subprocess.Popen(self.command, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, cwd=_ROOT)
        except OSError as exc:
            raise WorkerFailed(f"cannot start it: {exc}") from exc
        log.info("worker %s for %s started", process.pid, self.doing)
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
        log.info("worker %s for %s ended", process.pid, self.doing)


def _read(read: Callable[[Any], _T], result: Any) -> _T:
    try:
        return read(result)
    except (ValueError, TypeError) as exc:
        raise WorkerFailed(f"unexpected answer {result!r:.80}") from exc


def _job(name: str) -> Callable[..., Any]:
    module, function = JOBS[name].split(":")
    found: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return found


def main() -> None:
    """The child: read one JSON request a line, answer one JSON line, until stdin closes."""
    # Ctrl-C in a terminal reaches the whole process group: the bot decides when this ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed by a library must not corrupt the answers
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            answer: dict[str, object] = {"result": _job(request["job"])(*request["args"])}
        except Exception as exc:  # the boundary of one request: report it, keep serving
            answer = {"error": str(exc) if isinstance(exc, ValueError)
                      else f"{type(exc).__name__}: {exc}", "type": type(exc).__name__}
        answers.write(json.dumps(answer).encode() + b"\n")
        answers.flush()


# The process's child for PyAV's work on lessons (each platform's files, a speech server's or
# espeak's WAV, a speaker's recording): made on first use, gone when idle.
AUDIO = Worker(doing="audio work")
# Members' voice messages have a child of their own: one works a message at a time, and a
# voice suggestion's receipt must not wait behind a lesson being transcoded or a long recording.
VOICES = Worker(doing="members' voices")


if __name__ == "__main__":
    main()

"""Flavouring in a short-lived child process: jieba (~130 MB) never stays in the bot's memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lessons.dialect import Flavourer, flavour_sentences
from lessons.worker import CALL_TIMEOUT_S, COMMAND, IDLE_SECONDS, Worker

__all__ = ["IDLE_SECONDS", "FlavourWorker", "flavour_job"]


def flavour_job(stem: str, sentences: list[str]) -> list[str | None]:
    """The child's job: the sentences flavoured as `flavour_sentences` does, as JSON values."""
    return list(flavour_sentences(stem, tuple(sentences)))


class FlavourWorker(Worker):
    """Runs a flavourer in one child process, started on demand and ended when idle."""

    def __init__(self, local: Flavourer = flavour_sentences, *, idle_seconds: float = IDLE_SECONDS,
                 in_process: bool = False, command: Sequence[str] = COMMAND,
                 timeout: float = CALL_TIMEOUT_S) -> None:
        super().__init__(doing="flavouring", idle_seconds=idle_seconds, in_process=in_process,
                         command=command, timeout=timeout)
        self.local = local  # the same work, run in this process

    def flavour(self, stem: str, framing: tuple[str, ...]) -> tuple[str | None, ...]:
        """Each sentence flavoured with the region's words, by the child if it can."""
        flavoured = self.call("flavour", _sentences, stem, list(framing),
                              local=lambda stem, sentences: self.local(stem, tuple(sentences)))
        if len(flavoured) != len(framing):
            raise RuntimeError(f"{len(flavoured)} sentences flavoured for {len(framing)}")
        return flavoured


def _sentences(result: Any) -> tuple[str | None, ...]:
    if not isinstance(result, list | tuple) or not all(
            item is None or isinstance(item, str) for item in result):
        raise ValueError(f"not a list of sentences: {result!r:.80}")
    return tuple(result)

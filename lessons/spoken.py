"""The spoken version of a lesson: announced, flavoured for the region, numbers read as words."""

from __future__ import annotations

from lessons.dialect import Flavourer, flavour
from lessons.library import Lesson
from lessons.numbers import spoken_numbers
from lessons.profiles import SpeechProfile

SPOKEN_INTRO = "今天的微党课：{title}。"


def spoken_text(lesson: Lesson, profile: SpeechProfile, *, flavoured: bool = True,
                flavourer: Flavourer | None = None) -> str:
    """What the voice reads. The posted text stays standard; only this is flavoured."""
    body = lesson.plain_text
    if flavoured and profile.flavour:
        body = flavour(body, profile.name, flavourer)
    return spoken_numbers(SPOKEN_INTRO.format(title=lesson.title) + "\n\n" + body)

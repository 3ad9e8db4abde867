"""Counting sends the way a platform's rate limit sees them."""

from __future__ import annotations


def most_in_any_window(times: list[float], window: float) -> int:
    """The most of `times` that fall within any one span of `window` seconds."""
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best

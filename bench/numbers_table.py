"""Reading numbers aloud: the hand-written reader against WeTextProcessing on the number table.

Runs every case of tests/data/numbers.tsv (written → what a local announcer says) through
  hand-written        — lessons.numbers.spoken_numbers, what the voice uses;
  wetext + our rules  — lessons.numbers.read_digit_strings (service numbers, phones, codes,
                        roads and rooms digit by digit with 幺), then wetext's Chinese normaliser;
  wetext alone        — wetext's Chinese normaliser as it ships;
and prints how many cases each reads right, plus wetext's load time and memory. wetext is not
a dependency of the bot (the hand-written reader reads more cases right); install it to compare.

Run: .venv/bin/python -m bench.numbers_table [--misses]
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from pathlib import Path

from lessons.numbers import read_digit_strings, spoken_numbers
from tests.support.number_table import load_number_table


def resident_mb() -> float:
    """This process's resident memory now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_wetext() -> Callable[[str], str] | None:
    """wetext's Chinese text normaliser, timed and weighed as it loads; None if not installed."""
    before, start = resident_mb(), time.perf_counter()
    try:
        from wetext import Normalizer  # the load is what is measured
    except ImportError:
        print("wetext is not installed (the bot does not need it): pip install wetext")
        return None

    normalizer = Normalizer(lang="zh", operator="tn")
    normalizer.normalize("1")  # the FSTs are read on first use
    print(f"wetext: {time.perf_counter() - start:.2f} s to load, "
          f"+{resident_mb() - before:.0f} MB resident")
    return normalizer.normalize


def score(name: str, read: Callable[[str], str], cases: list[tuple[str, str]],
          show_misses: bool) -> int:
    """How many cases `read` gets right; the misses printed if asked."""
    start = time.perf_counter()
    right = 0
    for written, spoken in cases:
        said = read(written)
        right += said == spoken
        if said != spoken and show_misses:
            print(f"  {name} · {written}\n      want {spoken}\n      said {said}")
    per_case_ms = (time.perf_counter() - start) * 1000 / len(cases)
    print(f"{name:<20} {right:>3} / {len(cases)} right  ({per_case_ms:.2f} ms a case)")
    return right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="print every case read wrong")
    args = parser.parse_args()
    cases = load_number_table()
    wetext = load_wetext()
    score("hand-written", spoken_numbers, cases, args.misses)
    if wetext is not None:
        score("wetext + our rules", lambda text: wetext(read_digit_strings(text)), cases,
              args.misses)
        score("wetext alone", wetext, cases, args.misses)


if __name__ == "__main__":
    main()

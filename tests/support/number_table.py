"""The table of written numbers and how a local announcer reads them aloud."""

from __future__ import annotations

from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "data" / "numbers.tsv"


def load_number_table(path: Path = TABLE) -> list[tuple[str, str]]:
    """(written, spoken) pairs; lines starting with # are notes."""
    rows: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            written, spoken = line.split("\t")
            rows.append((written, spoken))
    return rows

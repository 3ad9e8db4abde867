"""The Feishu group and bot the tests use, in the platform's own formats."""

from __future__ import annotations

CHAT = "oc_5ce6d572455d361153b7xx51da133945"
TOKEN = "2f9c1b7e-4d3a-4c8b-9e6f-0a1b2c3d4e5f"
SECRET = "qH7sK2mN9pL4vX1c"
VERIFICATION = "v3rificationT0kenF0rTests"
ENCRYPT_KEY = "kJ8fD3sA6gH1lZ5x"
ZHANG = "ou_84aad35d084aa403a838cf73ee18467a"

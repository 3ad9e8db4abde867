"""The DingTalk group and robot the tests use, in the platform's own formats."""

from __future__ import annotations

CHAT = "cidqO7Ne7jYJ8dqvkfzGD6ZgA=="
TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
SECRET = "SEC5d2c1b0a9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e"
APP_SECRET = "Xq9yZ2cV7bN1mL4kJ8hG3fD6sA0pO5iU-TrEwQyUiOpAsDfGhJkLzXcVbNm"
ZHANG = ("0123456789123456", "张大爷")

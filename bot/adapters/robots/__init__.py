"""DingTalk and Feishu group robots: signed webhooks out, event callbacks in."""

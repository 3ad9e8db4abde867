"""WeCom: group robots to send, an app callback to receive."""

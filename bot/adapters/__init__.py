"""Platform adapters: one package per platform, knowing the wire and never the bot's tables."""

"""Yehua (夜话): the chat-group bot — settings, storage, adapters, outbox, web pages, CLI."""

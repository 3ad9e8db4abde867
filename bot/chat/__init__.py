"""The chat face: the router, batched inbound writes, one module of commands per feature."""

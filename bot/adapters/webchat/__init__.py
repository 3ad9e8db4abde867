"""The built-in web group chat, always on."""

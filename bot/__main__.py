"""`python -m bot` starts the bot, like `yehua`."""

from bot.cli import main

main()

"""`python -m bot` starts the bot, like `yehua`."""

from bot.cli.main import main

main()

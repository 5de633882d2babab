"""Storage: models, engine and sessions, migrations, queries and the 1C/PBX import.

May import ``bot.rules`` (the pure rules) and ``bot.settings``; never aiogram.
"""

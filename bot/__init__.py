"""kpibot: daily KPI feedback in Telegram for the managers of a 1C support partner.

``bot.rules`` is pure and may be imported by anything; the rest wires settings, texts, the CLI and
the Telegram dispatcher together.
"""

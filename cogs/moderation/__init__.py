"""Moderation: automod screening, numbered cases, the escalation ladder and who may act on whom."""

"""Donations: one-off gifts of any amount within the configured limits."""

"""The small offline Chronos-2 that ships with the package (see MODEL_CARD.md)."""

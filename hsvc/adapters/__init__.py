"""Edges that read objects and DNS from the outside world."""

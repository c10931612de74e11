"""Renderers: rich tables and JSON/YAML envelopes."""

"""Linked tables: what a child row takes from its parent row."""

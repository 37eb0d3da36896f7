"""Linked tables: many tables learned and generated with every key valid (``train``,
``generate``), the link math (``links``), and what a child row takes from its parent row."""

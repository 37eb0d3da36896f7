"""What a column's values are: its kind (a number, a category, a date, an id, a name), its
text date or duration format, its decimals. Read by every layer (the engine, keys, adapters,
the report), so it depends on none of them."""

"""The metadata contract: tables, their sources, settings and keys (see schemas/)."""

from syngen.metadata.load import load_metadata, schema_path
from syngen.metadata.model import Key, Metadata, Table

__all__ = ["Key", "Metadata", "Table", "load_metadata", "schema_path"]

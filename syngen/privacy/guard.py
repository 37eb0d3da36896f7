"""The check that a generated value is not a real one, without keeping the real ones.

A model keeps keyed hashes (SipHash-2-4, through pandas' ``hash_array``) of the values it
must never emit: every real value of an identifying column, the rare values of a category.
The 96-bit key is random per model and saved apart from the shareable model folder, so the
folder alone cannot tell whether a given value (an SSN, a phone number) was in the source.
Without the key, generation still works; it only cannot check for the rare chance of a
generated value equal to a real one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from syngen.errors import SyngenError

_EMPTY = np.zeros(0, dtype=np.uint64)


def new_secret() -> str:
    """A random key: 16 characters (96 bits), the length SipHash's key takes in pandas."""
    return secrets.token_urlsafe(12)


def keyed_hashes(values, secret: str) -> np.ndarray:
    """Sorted, distinct keyed hashes of ``values`` (compared as text)."""
    text = pd.Series(values, dtype=object).dropna().astype(str).to_numpy(dtype=object)
    if not len(text):
        return _EMPTY
    return np.unique(pd.util.hash_array(text, hash_key=secret, categorize=True))


def contains(hashes: np.ndarray, values, secret: str | None) -> np.ndarray:
    """Which ``values`` are among the hashed ones (all False without the key)."""
    values = np.asarray(values, dtype=object)
    if secret is None or not len(hashes) or not len(values):
        return np.zeros(len(values), dtype=bool)
    found = np.zeros(len(values), dtype=bool)
    present = pd.notna(values)
    mine = pd.util.hash_array(values[present].astype(str).astype(object), hash_key=secret, categorize=True)
    at = np.minimum(np.searchsorted(hashes, mine), len(hashes) - 1)
    found[present] = hashes[at] == mine
    return found


def stage_secret(path: Path, secret: str) -> Path:
    """The key written, readable by its owner only, beside ``path``; renaming the returned
    file onto ``path`` saves it atomically (once its model is in place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret)
    return staging


def read_secret(path: Path) -> str | None:
    if not path.is_file():
        return None
    secret = path.read_text().strip()
    if len(secret.encode()) != 16:
        raise SyngenError(
            f"the key file '{path}' is damaged (it must hold 16 characters); "
            "train again, or remove it to generate without the real-value check"
        )
    return secret


def remake(
    values: np.ndarray,
    make,
    hashes: np.ndarray,
    secret: str | None,
    unique: bool = False,
    too_long=None,
    rounds: int = 8,
) -> np.ndarray:
    """Remake the values that are real (or repeated, in a ``unique`` column, or longer than
    ``too_long`` allows) with ``make(index)``, checking only what was remade each round.
    Returns the indexes still bad after ``rounds``."""
    bad = contains(hashes, values, secret)
    if too_long is not None:
        bad |= too_long(values)
    if unique:
        bad |= pd.Series(values, dtype=object).duplicated().to_numpy()
    for _ in range(rounds):
        index = np.flatnonzero(bad)
        if not len(index):
            break
        values[index] = make(index)
        bad = np.zeros(len(values), dtype=bool)
        bad[index] = contains(hashes, values[index], secret)
        if too_long is not None:
            bad[index] |= too_long(values[index])
        if unique:
            bad |= pd.Series(values, dtype=object).duplicated().to_numpy()
    return np.flatnonzero(bad)


def stored_strings(folder: Path) -> set[str]:
    """Every string a saved model folder holds (JSON values and text arrays): what an audit
    compares with the real values."""
    import json

    found: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None:
            found.add(str(value))

    walk(json.loads((folder / "model.json").read_text()))
    with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
        for key in arrays.files:
            if arrays[key].dtype.kind in "US":
                found.update(map(str, arrays[key].ravel()))
    return found

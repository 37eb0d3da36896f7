"""Keys of a table as the engine and the writers see them: which columns are generated as
keys (never learned), and each row's key as one comparable value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from syngen.privacy import guard
from syngen.values.kinds import detect_kinds

KEY_KINDS = ("sequence", "uuid", "id")
# kinds a key column keeps: its values are moved by a step where a key would repeat
LEARNED_KEY_KINDS = ("datetime", "date", "time", "float")
# identifying kinds a token column keeps: cards stay Luhn-valid cards, IBANs valid IBANs
TOKEN_KINDS = ("uuid", "email", "phone", "national_id", "card_number", "account_number", "iban")
_SEPARATOR = "\x1f"


def key_tuples(frame: pd.DataFrame, columns) -> pd.Series:
    """Each row's key as one comparable string (composite keys included)."""
    parts = [frame[c].astype(str) for c in columns]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + _SEPARATOR + part
    return joined


def key_kinds(keys, frame: pd.DataFrame, fk_columns, overrides=()) -> dict[str, str]:
    """Generated kinds for PK/UQ/TKN columns that are not FKs, nor given a kind by the user.

    A key column that is a date, a time or a measure (a rental's date beside its inventory
    and customer) keeps its kind and is made unique at generation (``UniqueRows``). In a
    composite key, one generated unique column makes the tuple unique."""
    kinds = {}
    for key in keys:
        if key.type == "FK":
            continue
        own = [c for c in key.columns if c not in fk_columns and c not in overrides]
        detected = {c: detect_kinds(frame[[c]])[c] for c in own}
        if key.type == "TKN":  # never real, never from a real value: no sequence from the real start
            kinds.update({c: d if d in TOKEN_KINDS else "id" for c, d in detected.items()})
            continue
        composite = len(key.columns) > 1
        learned = {
            c for c, d in detected.items() if d in LEARNED_KEY_KINDS or (composite and d not in KEY_KINDS + TOKEN_KINDS)
        }
        identifying = [c for c in own if c not in learned]
        for column in identifying[-1:]:
            if detected[column] == "id" and pd.api.types.is_integer_dtype(frame[column]):
                kinds[column] = "sequence"  # an integer key keeps counting, as databases number rows
            elif detected[column] in KEY_KINDS + TOKEN_KINDS:
                kinds[column] = detected[column]
            else:
                kinds[column] = "sequence" if pd.api.types.is_integer_dtype(frame[column]) else "id"
    return kinds


def continue_keys(model, existing: pd.DataFrame) -> None:
    """Rows appended to a table that already holds ``existing`` rows take keys after them:
    integer sequences go on from the largest, codes avoid the values already there."""
    if model.secret is None:  # the model's key file is not here: a key for this run's checks
        model.secret = guard.new_secret()
    for codec in model.codecs:
        if codec.name not in existing.columns or not existing[codec.name].notna().any():
            continue
        if codec.kind == "sequence":
            last = int(pd.to_numeric(existing[codec.name]).max())
            codec.first = max(codec.first, last + int(np.ceil(codec.step)))
        elif codec.kind in ("id",) + TOKEN_KINDS and hasattr(codec, "avoid"):
            codec.avoid(existing[codec.name].dropna(), model.secret)


def mark_keys(model, keys, fk_columns) -> None:
    """Make the model generate PK/UQ columns unique (PK ones never null)."""
    key_columns = {c: k.type for k in keys if k.type in ("PK", "UQ") for c in k.columns if c not in fk_columns}
    for codec in model.codecs:
        if codec.name in key_columns:
            codec.as_key(nullable=key_columns[codec.name] == "UQ")


class UniqueRows:
    """Keeps PK/UQ keys without a generated column (a rental's date with its inventory and
    customer, an episode number within its series) unique across a run's batches, which
    must come in order.

    A row whose key was made before has its last number or date moved by steps of its
    resolution, later and earlier by turns (+1, -1, +2, ..., then growing steps, within the
    source's range), or, for a category, drawn again from the frequent ones, until the key
    is new; a key with nothing to change, or still repeated after ``ROUNDS``, leaves the row
    out (counted in ``dropped``). Keys with a generated column are unique by construction
    and not tracked; keys made only of FKs are made unique where the links are drawn."""

    ROUNDS = 64

    def __init__(self, model, keys, existing: pd.DataFrame | None = None):
        """``existing``: rows already in the target (appending), whose keys new rows avoid."""
        codecs = {c.name: c for c in model.codecs}
        self._keys = []
        for key in (k for k in keys if k.type in ("PK", "UQ")):
            own = [codecs[c] for c in key.columns if c in codecs]
            if not own or any(c.kind in KEY_KINDS + TOKEN_KINDS for c in own):
                continue
            movable = [c for c in own if hasattr(c, "as_steps")]
            changing = (movable or [c for c in own if getattr(c, "categories", None)] or [None])[-1]
            seen = set()
            if existing is not None and set(key.columns) <= set(existing.columns):
                present = existing[list(key.columns)].dropna().reset_index(drop=True)
                for codec in movable:  # in the form generated values take (a date's text format)
                    present[codec.name] = codec.from_steps(codec.as_steps(present[codec.name]), inside=False)
                seen.update(pd.util.hash_pandas_object(key_tuples(present, key.columns), index=False).tolist())
            self._keys.append((key, changing, seen))
        self.dropped: dict[str, int] = {}

    def __bool__(self) -> bool:
        return bool(self._keys)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        for key, codec, seen in self._keys:
            batch = self._repair(batch, key, codec, seen)
        return batch

    def _repair(self, batch, key, codec, seen: set) -> pd.DataFrame:
        columns = list(key.columns)
        complete = batch[columns].notna().all(axis=1).to_numpy()  # SQL compares no key with a null
        if hasattr(codec, "as_steps") and complete.any():
            batch = _spread(batch, columns, codec, complete)
        original = batch[codec.name].copy() if codec is not None else None
        rng = np.random.default_rng([int(batch.index[0]) if len(batch) else 0, 11])
        for round_ in range(self.ROUNDS + 1):
            hashes = pd.util.hash_pandas_object(key_tuples(batch, columns), index=False).to_numpy()
            repeated = complete & (
                pd.Series(hashes).duplicated().to_numpy()
                | np.fromiter((h in seen for h in hashes.tolist()), bool, len(hashes))
            )
            if not repeated.any() or codec is None or round_ == self.ROUNDS:
                break
            rows = np.flatnonzero(repeated)
            if hasattr(codec, "as_steps"):
                assert original is not None  # kept wherever there is a codec
                # later and earlier by turns, further each time: +1, -1, +2, -2, ... then
                # growing steps, so a crowded stretch (an airport's busy hours) is left
                step = max(round_ // 2 + 1, int(np.ceil(1.2 ** (round_ // 2))))
                changed = codec.from_steps(
                    codec.as_steps(original.iloc[rows]) + (step if round_ % 2 == 0 else -step),
                    inside=round_ < self.ROUNDS // 2,
                )  # then past the source's range
            else:
                changed = codec.other_values(len(rows), rng)
            batch.iloc[rows, batch.columns.get_loc(codec.name)] = changed.to_numpy()
        seen.update(hashes[complete & ~repeated].tolist())
        if repeated.any():
            self.dropped[key.name] = self.dropped.get(key.name, 0) + int(repeated.sum())
            batch = batch[~repeated]
        return batch


def _spread(batch: pd.DataFrame, columns: list[str], codec, complete: np.ndarray) -> pd.DataFrame:
    """Within each group of the key's other columns (one airport's hours), values that
    crowd onto the same steps are pushed apart to the nearest free ones, in order, and
    pulled back below the source's largest value: y_i = i + cummax(x_i - i) over the
    group's sorted values, then the same from the top. Values already apart stay as they
    are; a group with more rows than the source's range has steps goes on past its top
    (seats 20 to 39 of a venue whose source had 20)."""
    rows = np.flatnonzero(complete)
    steps = codec.as_steps(batch[codec.name].iloc[rows])
    others = [c for c in columns if c != codec.name]
    group = key_tuples(batch.iloc[rows], others).to_numpy() if others else np.zeros(len(rows))
    frame = pd.DataFrame({"group": group, "step": steps}).sort_values(["group", "step"], kind="stable")
    grouped = frame.groupby("group", sort=False)
    rank = grouped.cumcount().to_numpy()
    up = (frame["step"] - rank).groupby(frame["group"], sort=False).cummax().to_numpy() + rank
    low, high = codec.step_range()
    after = grouped.cumcount(ascending=False).to_numpy()
    fits = rank + after + 1 <= high - low + 1  # the group's rows fit in the source's range
    ceiling = pd.Series(np.where(fits, np.minimum(up, high), up) + after)[::-1]  # from the top: a suffix minimum
    down = ceiling.groupby(frame["group"].to_numpy()[::-1], sort=False).cummin().to_numpy()[::-1] - after
    spread = np.empty(len(rows))
    spread[frame.index.to_numpy()] = np.maximum(down, low)
    moved = spread != steps
    if moved.any():
        batch = batch.copy()
        batch.iloc[rows[moved], batch.columns.get_loc(codec.name)] = codec.from_steps(
            spread[moved], inside=False
        ).to_numpy()
    return batch

"""Generated codecs: columns made from a learned pattern rather than by the autoencoder.

Identifiers, UUIDs, emails and free text carry little joint signal but a lot of private
detail, so they are regenerated in the source's shape and never copied. Every value is a
pure function of (run seed, global row index): batches can be generated in any order or in
parallel processes and still give the same, unique values.
"""
from __future__ import annotations

import string

import numpy as np
import pandas as pd

from syngen.engine.codec import Codec, register
from syngen.errors import SyngenError

_MAX_TEMPLATES = 20
_CLASS_OF = str.maketrans({**{c: "9" for c in string.digits},
                           **{c: "A" for c in string.ascii_uppercase},
                           **{c: "a" for c in string.ascii_lowercase}})
_ALPHABETS = {"9": string.digits, "A": string.ascii_uppercase, "a": string.ascii_lowercase}
# positions that showed at most this many characters keep exactly those (prefixes, years);
# the others may take any character of their class
_KEEP_OBSERVED = 3
NEARLY_UNIQUE = 0.98
SPACE_FACTOR = 4  # patterns get at least this many times the room their values need
STRATA = 1000  # template shares are kept to 1/STRATA
_RETRIES = 6  # alternative slots tried when a generated identifier equals a real one
_U64 = np.uint64


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64: a fast, well-spread hash of uint64 values."""
    with np.errstate(over="ignore"):
        z = x.astype(_U64) + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
        return z ^ (z >> _U64(31))


def _uniform(slots: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """Deterministic uniform [0, 1) numbers per slot, independent for each salt."""
    with np.errstate(over="ignore"):
        key = _mix(np.asarray([seed * 1_000_003 + salt], dtype=_U64))[0]
        return (_mix(slots.astype(_U64) ^ key) >> _U64(11)).astype(np.float64) / float(1 << 53)


def _hash_values(values: np.ndarray) -> np.ndarray:
    return np.sort(pd.util.hash_array(values.astype(object)))


class _Template:
    """One character pattern, e.g. 'A999999' for 'S124529', with per-position alphabets."""

    def __init__(self, pattern: str, weight: float, alphabets: list[str], freqs: list[list[float]]):
        self.pattern = pattern
        self.weight = weight
        self.alphabets = alphabets
        self.freqs = freqs

    @classmethod
    def learn(cls, pattern: str, weight: float, values: np.ndarray) -> "_Template":
        chars = values.astype(f"U{len(pattern)}").view(np.uint32).reshape(len(values), len(pattern))
        alphabets, freqs = [], []
        for position, symbol in enumerate(pattern):
            seen, counts = np.unique(chars[:, position], return_counts=True)
            if len(seen) <= _KEEP_OBSERVED or symbol not in _ALPHABETS:
                alphabets.append("".join(map(chr, seen)))
                freqs.append((counts / counts.sum()).tolist())
            else:
                alphabets.append(_ALPHABETS[symbol])
                freqs.append([])
        return cls(pattern, weight, alphabets, freqs)

    def roomy(self, values: int) -> "_Template":
        """This pattern, with kept-as-observed positions (rightmost first) opened to their
        whole character class until it has room for ``values`` values."""
        alphabets, freqs = list(self.alphabets), list(self.freqs)
        template = self
        for position in reversed(range(len(self.pattern))):
            if template.capacity >= values:
                break
            symbol = self.pattern[position]
            if symbol in _ALPHABETS and len(alphabets[position]) < len(_ALPHABETS[symbol]):
                alphabets[position], freqs[position] = _ALPHABETS[symbol], []
                template = _Template(self.pattern, self.weight, list(alphabets), list(freqs))
        return template

    @property
    def capacity(self) -> int:
        return int(np.prod([len(a) for a in self.alphabets], dtype=object))

    def render(self, slots: np.ndarray, seed: int, needed: int) -> np.ndarray:
        """Identifier per slot: a permutation of the slot number fills the rightmost varying
        positions (so distinct slots give distinct values); the rest are drawn at random."""
        radices = [len(a) for a in self.alphabets]
        permuted, span = [], 1
        for position in reversed(range(len(radices))):
            if radices[position] > 1 and span < needed * (_RETRIES + 1) and span * radices[position] < 2**32:
                permuted.append(position)
                span *= radices[position]
        multiplier = self._coprime(span, seed)
        with np.errstate(over="ignore"):
            code = (slots.astype(_U64) * _U64(multiplier) + _U64(seed % span)) % _U64(span)
        columns = []
        for position, alphabet in enumerate(self.alphabets):
            letters = np.frombuffer(alphabet.encode("utf-32-le"), dtype=np.uint32)
            if position in permuted:
                index = code % _U64(len(alphabet))
                code //= _U64(len(alphabet))
            elif self.freqs[position]:
                u = _uniform(slots, seed, 101 + position)
                index = np.minimum(np.searchsorted(np.cumsum(self.freqs[position]), u, side="right"),
                                   len(alphabet) - 1)
            else:
                index = (_uniform(slots, seed, 101 + position) * len(alphabet)).astype(np.int64)
            columns.append(letters[index.astype(np.int64)])
        chars = np.stack(columns, axis=1).astype(np.uint32)
        return chars.view(f"U{len(self.alphabets)}").ravel().astype(object)

    @staticmethod
    def _coprime(span: int, seed: int) -> int:
        """A multiplier coprime with span, so slot -> slot * m mod span is a permutation."""
        if span <= 2:
            return 1
        candidate = int(_mix(np.asarray([seed], dtype=_U64))[0] % _U64(span)) | 1
        while np.gcd(candidate, span) != 1:
            candidate = (candidate + 2) % span or 1
        return candidate

    def to_dict(self) -> dict:
        return {"pattern": self.pattern, "weight": self.weight, "alphabets": self.alphabets,
                "freqs": self.freqs}


def _interleaved(counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """For STRATA positions: which template each holds and its index among that template's
    positions, spread so that every window of consecutive positions holds each template in
    proportion to its count (the j-th of c positions sits at (j + 0.5) / c of the cycle)."""
    counts = np.asarray(counts)
    owner = np.repeat(np.arange(len(counts)), counts)
    rank = np.concatenate([np.arange(c) for c in counts])
    order = np.argsort((rank + 0.5) / counts[owner], kind="stable")
    return owner[order], rank[order]


@register("id")
class IdentifierCodec(Codec):
    """Codes such as license numbers: same character patterns, unique where the source is,
    repeated (consecutively, like order ids) at the source's rate where it is not."""

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.templates: list[_Template] = []
        self.unique_share = 1.0
        self.real_hashes = np.zeros(0, dtype=_U64)
        self._strata_for: dict[int, tuple[list[_Template], list[int]]] = {}  # per run size

    def _fit(self, values):
        self._strata_for = {}
        values = values.astype(str)
        self.unique_share = float(values.nunique() / max(len(values), 1))
        patterns = values.str.translate(_CLASS_OF)
        counts = patterns.value_counts().iloc[:_MAX_TEMPLATES]
        self.templates = [
            _Template.learn(p, float(c / counts.sum()), values[patterns == p].to_numpy())
            for p, c in counts.items()]
        self.real_hashes = _hash_values(values.to_numpy())

    def as_key(self, nullable: bool = False) -> None:
        super().as_key(nullable)
        self.unique_share = 1.0

    def generate(self, n: int, rng: np.random.Generator, start: int, total: int, seed: int) -> pd.Series:
        rows = np.arange(start, start + n, dtype=np.int64)
        # a column unique but for a few slips (duplicated exports) is treated as unique
        share = 1.0 if self.unique_share >= NEARLY_UNIQUE else self.unique_share
        needed = max(int(np.ceil(total * share)), 1)
        slots = np.floor(rows * (needed / total)).astype(np.int64) if needed < total else rows
        if needed not in self._strata_for:  # the same for every batch of a run
            self._strata_for[needed] = self._strata(needed)
        usable, counts = self._strata_for[needed]
        # slot -> (template, index within the template), injective and stateless: positions
        # interleave the templates, so any run of consecutive slots, short tables included,
        # gives each template its share (within one value); the seed shifts where runs start
        owner, rank = _interleaved(counts)
        position = (slots + seed) % STRATA
        choice = owner[position]
        local = (slots // STRATA) * np.asarray(counts)[choice] + rank[position]
        values = np.empty(n, dtype=object)
        for index, template in enumerate(usable):
            rows_here = choice == index
            if rows_here.any():
                room = -(-needed // STRATA) * counts[index]
                values[rows_here] = self._render_unseen(template, local[rows_here], seed, room)
        return self.restore_dtype(values, self.null_mask(n, rng))

    def _strata(self, needed: int) -> tuple[list[_Template], list[int]]:
        """Templates with room for their share of ``needed`` values, and how many of every
        STRATA slots each one gets (proportional to its weight in the source)."""
        # room for the real values too, so that new ones can avoid them
        real = len(self.real_hashes)
        usable = [t.roomy(SPACE_FACTOR * (needed + int(t.weight * real))) for t in self.templates]
        while usable:
            weights = np.asarray([t.weight for t in usable])
            counts = np.floor(weights / weights.sum() * STRATA).astype(int)
            counts[np.argsort(-(weights / weights.sum() * STRATA - counts))[:STRATA - counts.sum()]] += 1
            short = [t for t, c in zip(usable, counts) if t.capacity < -(-needed // STRATA) * c]
            if not short:
                keep = counts > 0
                return [t for t, k in zip(usable, keep) if k], [int(c) for c in counts[keep]]
            usable = [t for t in usable if t not in short]
        widest = max(self.templates, key=lambda t: t.capacity)
        raise SyngenError(
            f"column '{self.name}': cannot make {needed} distinct values in the pattern "
            f"'{widest.pattern}' (room for {widest.capacity}); generate fewer rows")

    def _render_unseen(self, template, slots, seed, needed):
        """Render, re-rendering from a spare slot (slot + k * needed) where a value is real."""
        values = template.render(slots, seed, needed)
        for attempt in range(1, _RETRIES + 1):
            copied = self.is_real(values)
            if not copied.any() or (attempt + 1) * needed > template.capacity:
                break
            values[copied] = template.render(slots[copied] + attempt * needed, seed, needed)
        return values

    def is_real(self, values: np.ndarray) -> np.ndarray:
        hashes = pd.util.hash_array(values.astype(object))
        found = np.searchsorted(self.real_hashes, hashes)
        found = np.minimum(found, max(len(self.real_hashes) - 1, 0))
        return self.real_hashes[found] == hashes if len(self.real_hashes) else np.zeros(len(values), bool)

    def _state(self):
        return ({"unique_share": self.unique_share, "templates": [t.to_dict() for t in self.templates]},
                {"real_hashes": self.real_hashes})

    def _load(self, meta, arrays):
        self.unique_share = meta["unique_share"]
        self.templates = [_Template(**t) for t in meta["templates"]]
        self.real_hashes = arrays["real_hashes"]


@register("sequence")
class SequenceCodec(Codec):
    """Integer keys numbered like the source's (start and step), unique by construction."""

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.first, self.step = 1, 1

    def _fit(self, values):
        ordered = np.sort(values.to_numpy(dtype=np.int64))
        self.first = int(ordered[0])
        steps = np.diff(ordered)
        self.step = int(np.median(steps)) if len(steps) else 1
        self.step = max(self.step, 1)

    def generate(self, n, rng, start, total, seed):
        return self.restore_dtype(self.first + self.step * np.arange(start, start + n, dtype=np.int64))

    def _state(self):
        return {"first": self.first, "step": self.step}, {}

    def _load(self, meta, arrays):
        self.first, self.step = meta["first"], meta["step"]


@register("uuid")
class UuidCodec(Codec):
    """Random version-4 UUIDs in the source's letter case."""

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.upper = False

    def _fit(self, values):
        self.upper = bool(values.astype(str).str.contains("[A-F]", regex=True).mean() > 0.5)

    def generate(self, n, rng, start, total, seed):
        raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
        digits = np.frombuffer((string.hexdigits[:16].upper() if self.upper
                                else string.hexdigits[:16]).encode(), dtype=np.uint8)
        nibbles = np.stack([raw >> 4, raw & 0x0F], axis=2).reshape(n, 32)
        chars = digits[nibbles]
        dash = np.full((n, 1), ord("-"), dtype=np.uint8)
        chars = np.hstack([chars[:, :8], dash, chars[:, 8:12], dash, chars[:, 12:16], dash,
                           chars[:, 16:20], dash, chars[:, 20:]])
        text = pd.Series(np.ascontiguousarray(chars).view("S36").ravel()).str.decode("ascii")
        return self.restore_dtype(text.to_numpy(dtype=object), self.null_mask(n, rng))

    def _state(self):
        return {"upper": self.upper}, {}

    def _load(self, meta, arrays):
        self.upper = meta["upper"]


@register("email")
class EmailCodec(Codec):
    """Local parts in the source's patterns (unique where emails are), domains at their
    observed frequencies."""

    _MAX_DOMAINS = 1000

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.local = IdentifierCodec(f"{name} (local part)", "id")
        self.domains: list[str] = []
        self.domain_weights: list[float] = []

    def _fit(self, values):
        parts = values.astype(str).str.rsplit("@", n=1, expand=True)
        self.local._fit(parts[0])
        # uniqueness is a property of whole addresses, not of their local parts
        self.local.unique_share = float(values.nunique() / max(len(values), 1))
        counts = parts[1].str.lower().value_counts().iloc[: self._MAX_DOMAINS]
        self.domains = counts.index.tolist()
        self.domain_weights = (counts / counts.sum()).tolist()

    def generate(self, n, rng, start, total, seed):
        locals_ = self.local.generate(n, rng, start, total, seed).astype(str).to_numpy(dtype=object)
        domains = np.asarray(self.domains, dtype=object)[
            rng.choice(len(self.domains), size=n, p=np.asarray(self.domain_weights))]
        return self.restore_dtype(locals_ + "@" + domains, self.null_mask(n, rng))

    def _state(self):
        meta, arrays = self.local.state()
        return ({"local": meta, "domains": self.domains, "domain_weights": self.domain_weights},
                {f"local.{k}": v for k, v in arrays.items()})

    def _load(self, meta, arrays):
        self.local = Codec.from_state(meta["local"], {k[6:]: v for k, v in arrays.items()
                                                      if k.startswith("local.")})
        self.domains = meta["domains"]
        self.domain_weights = meta["domain_weights"]


@register("text")
class TextCodec(Codec):
    """Free text from a word-level Markov chain: real vocabulary, realistic lengths and word
    order, no sentence copied whole."""

    _VOCABULARY = 5000
    _SUCCESSORS = 30
    _FIT_ROWS = 20000

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.vocabulary: list[str] = []
        self.arrays: dict[str, np.ndarray] = {}

    def _fit(self, values):
        values = values.astype(str)
        if len(values) > self._FIT_ROWS:
            values = values.sample(self._FIT_ROWS, random_state=0)
        tokens = values.str.split()
        lengths = tokens.str.len().clip(1, 200).to_numpy()
        words = tokens.explode().dropna()
        counts = words.value_counts().iloc[: self._VOCABULARY]
        self.vocabulary = counts.index.tolist()
        ids = pd.Series(pd.Index(self.vocabulary).get_indexer(words), index=words.index)
        position = ids.groupby(level=0).cumcount().to_numpy()
        ids_np = ids.to_numpy()
        starts = ids_np[(position == 0) & (ids_np >= 0)]
        pairs = pd.DataFrame({"a": ids_np[:-1], "b": ids_np[1:], "same": (position[1:] > 0)})
        pairs = pairs[pairs.same & (pairs.a >= 0) & (pairs.b >= 0)]
        pair_counts = pairs.groupby(["a", "b"]).size().rename("n").reset_index()
        pair_counts = pair_counts.sort_values(["a", "n"], ascending=[True, False])
        pair_counts = pair_counts[pair_counts.groupby("a").cumcount() < self._SUCCESSORS]
        size = len(self.vocabulary)
        pointer = np.zeros(size + 1, dtype=np.int64)
        np.add.at(pointer, pair_counts.a.to_numpy() + 1, 1)
        within = pair_counts.n / pair_counts.groupby("a").n.transform("sum")
        self.arrays = {
            "lengths": np.bincount(lengths, minlength=2).astype(np.float64),
            "starts": np.bincount(starts, minlength=size).astype(np.float64),
            "unigram": counts.to_numpy(dtype=np.float64),
            "pointer": np.cumsum(pointer),
            "successor": pair_counts.b.to_numpy(dtype=np.int64),
            # cumulative probability within each word's successors, offset by the word's id,
            # so one searchsorted samples the next word for every row at once
            "cumulative": (pair_counts.a + within.groupby(pair_counts.a).cumsum()).to_numpy(),
        }

    def generate(self, n, rng, start, total, seed):
        a = self.arrays
        lengths = rng.choice(len(a["lengths"]), size=n, p=a["lengths"] / a["lengths"].sum())
        lengths = np.maximum(lengths, 1)
        starts = a["starts"] if a["starts"].sum() > 0 else a["unigram"]
        current = rng.choice(len(starts), size=n, p=starts / starts.sum())
        vocabulary = np.asarray(self.vocabulary, dtype=object)
        text = vocabulary[current].copy()
        has_next = np.diff(a["pointer"]) > 0
        for step in range(1, int(lengths.max())):
            going = lengths > step
            if not going.any():
                break
            follow = going & has_next[current]
            drawn = np.searchsorted(a["cumulative"], current[follow] + rng.random(int(follow.sum())))
            current = current.copy()
            current[follow] = a["successor"][np.minimum(drawn, len(a["successor"]) - 1)]
            fresh = going & ~follow
            current[fresh] = rng.choice(len(a["unigram"]), size=int(fresh.sum()),
                                        p=a["unigram"] / a["unigram"].sum())
            text[going] = text[going] + " " + vocabulary[current[going]]
        return self.restore_dtype(text, self.null_mask(n, rng))

    def _state(self):
        return {"vocabulary": self.vocabulary}, dict(self.arrays)

    def _load(self, meta, arrays):
        self.vocabulary = meta["vocabulary"]
        self.arrays = dict(arrays)


@register("constant", "empty")
class ConstantCodec(Codec):
    """One value (or none at all), with the source's share of nulls."""

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.value = None

    def _fit(self, values):
        if len(values):
            first = values.iloc[0]
            first = first.item() if isinstance(first, np.generic) else first
            # JSON keeps str, numbers and booleans; dates and the like travel as their text
            self.value = first if isinstance(first, (str, int, float, bool)) else str(first)

    def generate(self, n, rng, start, total, seed):
        values = np.full(n, self.value, dtype=object)
        nulls = np.ones(n, dtype=bool) if self.kind == "empty" else self.null_mask(n, rng)
        return self.restore_dtype(values, nulls)

    def _state(self):
        return {"value": self.value}, {}

    def _load(self, meta, arrays):
        self.value = meta["value"]

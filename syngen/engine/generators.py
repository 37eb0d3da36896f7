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
from syngen.privacy import fake, guard
from syngen.privacy.persona import Rows
from syngen.values.kinds import numbering

_MAX_TEMPLATES = 20
_CLASS_OF = str.maketrans(
    {
        **{c: "9" for c in string.digits},
        **{c: "A" for c in string.ascii_uppercase},
        **{c: "a" for c in string.ascii_lowercase},
    }
)
_ALPHABETS = {"9": string.digits, "A": string.ascii_uppercase, "a": string.ascii_lowercase}
# positions that showed at most this many characters keep exactly those (prefixes, years);
# the others may take any character of their class
_KEEP_OBSERVED = 3
NEARLY_UNIQUE = 0.98
SPACE_FACTOR = 4  # patterns get at least this many times the room their values need
STRATA = 1000  # template shares are kept to 1/STRATA
_RETRIES = 6  # rounds of remaking a generated email that is real
# an identifier that is real is re-rendered from one of SPARE - 1 spare slots, enough while at
# most 1/SPARE of its pattern is real; patterns denser than that, up to ENUMERATED values, are
# rendered whole once per run and new values take only the slots whose value is not real
SPARE = 16
ENUMERATED = 1 << 24
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


class Template:
    """One character pattern, e.g. 'A999999' for 'S124529', with per-position alphabets."""

    def __init__(self, pattern: str, weight: float, alphabets: list[str], freqs: list[list[float]]):
        self.pattern = pattern
        self.weight = weight
        self.alphabets = alphabets
        self.freqs = freqs

    @classmethod
    def learn(
        cls, pattern: str, weight: float, values: np.ndarray, keep: bool, no_leading_zero: bool = False
    ) -> "Template":
        """``keep``: positions showing few characters keep exactly those (only when the
        pattern has enough values that no one's characters stand out)."""
        chars = values.astype(f"U{len(pattern)}").view(np.uint32).reshape(len(values), len(pattern))
        alphabets: list[str] = []
        freqs: list[list[float]] = []
        for position, symbol in enumerate(pattern):
            seen, counts = np.unique(chars[:, position], return_counts=True)
            if position == 0 and symbol == "9" and no_leading_zero and not (keep and len(seen) <= _KEEP_OBSERVED):
                alphabets.append(string.digits[1:])
                freqs.append([])
            elif (keep and len(seen) <= _KEEP_OBSERVED) or symbol not in _ALPHABETS:
                alphabets.append("".join(map(chr, seen)))
                freqs.append((counts / counts.sum()).tolist())
            else:
                alphabets.append(_ALPHABETS[symbol])
                freqs.append([])
        return cls(pattern, weight, alphabets, freqs)

    def roomy(self, values: int) -> "Template":
        """This pattern, with kept-as-observed positions (rightmost first) opened to their
        whole character class until it has room for ``values`` values. A leading digit the
        source never writes as 0 stays no 0 (it would shorten a number and repeat another)."""
        alphabets, freqs = list(self.alphabets), list(self.freqs)
        template = self
        for position in reversed(range(len(self.pattern))):
            if template.capacity >= values:
                break
            symbol = self.pattern[position]
            whole = _ALPHABETS.get(symbol, "")
            if position == 0 and symbol == "9" and "0" not in alphabets[0]:
                whole = string.digits[1:]
            if len(alphabets[position]) < len(whole):
                alphabets[position], freqs[position] = whole, []
                template = Template(self.pattern, self.weight, list(alphabets), list(freqs))
        return template

    def below(self, limit: str) -> "Template | None":
        """This pattern of digits cut so that every value it renders stays below ``limit``,
        a number as long as the pattern (an integer type's largest): the first position that
        may exceed the limit's digit keeps only smaller digits (or, having none, the limit's
        own, and the next position is cut in turn). None when nothing fits."""
        alphabets, freqs = list(self.alphabets), list(self.freqs)
        for position, bound in enumerate(limit):
            alphabet = alphabets[position]
            smaller = [i for i, c in enumerate(alphabet) if c < bound] or [
                i for i, c in enumerate(alphabet) if c == bound
            ]
            if not smaller:
                return None
            alphabets[position] = "".join(alphabet[i] for i in smaller)
            if freqs[position]:
                kept = np.asarray(freqs[position])[smaller]
                freqs[position] = (kept / kept.sum()).tolist()
            if alphabet[smaller[0]] < bound:
                break
        return Template(self.pattern, self.weight, alphabets, freqs)

    def longer(self) -> "Template":
        """This pattern of digits with one more in front (ten times the room)."""
        return Template(
            "9" + self.pattern,
            self.weight,
            [string.digits[1:], string.digits] + self.alphabets[1:],
            [[], []] + self.freqs[1:],
        )

    @property
    def capacity(self) -> int:
        return int(np.prod([len(a) for a in self.alphabets], dtype=object))

    def span(self, needed: int) -> int:
        """How many slots ``render`` keeps distinct for a run of ``needed``: room for each of
        them and SPARE - 1 alternatives (slot + k * needed), or the whole pattern."""
        return self._permuted(needed)[1]

    def _permuted(self, needed: int) -> tuple[list[int], int]:
        radices = [len(a) for a in self.alphabets]
        permuted, span = [], 1
        for position in reversed(range(len(radices))):
            if radices[position] > 1 and span < needed * SPARE and span * radices[position] < 2**32:
                permuted.append(position)
                span *= radices[position]
        return permuted, span

    def render(self, slots: np.ndarray, seed: int, needed: int) -> np.ndarray:
        """Identifier per slot: a permutation of the slot number fills the rightmost varying
        positions (so distinct slots below ``span(needed)`` give distinct values); the rest
        are drawn at random."""
        permuted, span = self._permuted(needed)
        multiplier = self._coprime(span, seed)
        with np.errstate(over="ignore"):
            code = (slots.astype(_U64) * _U64(multiplier) + _U64(seed % span)) % _U64(span)
        # the code's digits fill the permuted positions right to left, as in a number, so
        # that spare slots (slot + k * needed) change the leading characters, not the last
        digits = {}
        for position in permuted:  # rightmost first
            digits[position] = code % _U64(len(self.alphabets[position]))
            code //= _U64(len(self.alphabets[position]))
        columns = []
        for position, alphabet in enumerate(self.alphabets):
            letters = np.frombuffer(alphabet.encode("utf-32-le"), dtype=np.uint32)
            if position in digits:
                index = digits[position]
            elif self.freqs[position]:
                u = _uniform(slots, seed, 101 + position)
                index = np.minimum(np.searchsorted(np.cumsum(self.freqs[position]), u, side="right"), len(alphabet) - 1)
            else:
                index = (_uniform(slots, seed, 101 + position) * len(alphabet)).astype(np.int64)
            columns.append(letters[index.astype(np.int64)])
        chars = np.stack(columns, axis=1).astype(np.uint32)
        return chars.view(f"U{len(self.alphabets)}").ravel().astype(object)

    @staticmethod
    def _coprime(span: int, seed: int) -> int:
        """A multiplier coprime with span, so slot -> slot * m mod span is a permutation; near
        span / golden ratio (shifted by the seed), so that the spare slots tried for a value
        that is real (slot + k * needed) land far apart rather than next to it again."""
        if span <= 2:
            return 1
        jitter = int(_mix(np.asarray([seed], dtype=_U64))[0] % _U64(max(span // 1000, 1)))
        candidate = (int(span * 0.6180339887498949) + jitter) % span | 1
        while np.gcd(candidate, span) != 1:
            candidate = (candidate + 2) % span or 1
        return candidate

    def to_dict(self) -> dict:
        return {"pattern": self.pattern, "weight": self.weight, "alphabets": self.alphabets, "freqs": self.freqs}


class _Strata:
    """Which template each slot of a run uses, and the slot's index among that template's
    slots: dense (0, 1, 2, ... in slot order), so a template needs room for exactly the rows
    it gets, however short the table (16 two-letter codes need 16 codes, not 1/1000 shares).

    Positions of a cycle of STRATA interleave the templates, so that every window of
    consecutive slots holds each template in proportion to its count (the j-th of c positions
    sits at (j + 0.5) / c of the cycle); the seed shifts where the run starts in the cycle."""

    def __init__(self, counts: list[int] | np.ndarray, seed: int):
        counts = np.asarray(counts, dtype=np.int64)
        owner = np.repeat(np.arange(len(counts)), counts)
        rank = np.concatenate([np.arange(c) for c in counts])
        order = np.argsort((rank + 0.5) / counts[owner], kind="stable")
        self.counts, self.owner, self.rank = counts, owner[order], rank[order]
        # held[t, p]: positions before p that template t holds
        held = np.zeros((len(counts), STRATA + 1), dtype=np.int64)
        held[self.owner, np.arange(1, STRATA + 1)] = 1
        self._held = np.cumsum(held, axis=1)
        self.offset = seed % STRATA

    def _before(self, position: np.ndarray, template: np.ndarray) -> np.ndarray:
        """Slots a template holds among shifted positions [0, position)."""
        return (position // STRATA) * self.counts[template] + self._held[template, position % STRATA]

    def locate(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shifted = slots + self.offset
        template = self.owner[shifted % STRATA]
        local = self._before(shifted, template) - self._before(np.full_like(shifted, self.offset), template)
        return template, local

    def room(self, needed: int) -> np.ndarray:
        """How many of the slots 0 .. needed - 1 each template gets."""
        templates = np.arange(len(self.counts))
        return self._before(np.full(len(templates), self.offset + needed), templates) - self._before(
            np.full(len(templates), self.offset), templates
        )


@register("id")
class IdentifierCodec(Codec):
    """Codes such as license numbers: same character patterns, unique where the source is,
    repeated (consecutively, like order ids) at the source's rate where it is not."""

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.templates: list[Template] = []
        self.unique_share = 1.0
        self.hashes = np.zeros(0, dtype=_U64)  # keyed hashes of the real values (privacy.guard)
        self._plans: dict[tuple, tuple] = {}  # per run size, seed and key: see _plan

    def _fit(self, values):
        self._plans = {}
        values = values.astype(str)
        self.unique_share = float(values.nunique() / max(len(values), 1))
        patterns = values.str.translate(_CLASS_OF)
        counts = patterns.value_counts().iloc[:_MAX_TEMPLATES]
        numeric = self.dtype.lower().startswith(("int", "uint"))
        self.templates = [
            Template.learn(
                p,
                float(c / counts.sum()),
                values[patterns == p].to_numpy(),
                keep=c >= self.protection.rare_threshold,
                no_leading_zero=numeric or not values[patterns == p].str.startswith("0").any(),
            )
            for p, c in counts.items()
        ]
        if numeric:
            self.templates = self._in_range(self.templates) or self.templates
        if self.protection.secret:
            self.hashes = guard.keyed_hashes(values, self.protection.secret)

    def as_key(self, nullable: bool = False) -> None:
        super().as_key(nullable)
        self.unique_share = 1.0

    def generate(self, n: int, rng: np.random.Generator, start: int, total: int, seed: int, rows=None) -> pd.Series:
        secret = rows.secret if rows is not None else None
        rows = np.arange(start, start + n, dtype=np.int64)
        # a column unique but for a few slips (duplicated exports) is treated as unique
        share = 1.0 if self.unique_share >= NEARLY_UNIQUE else self.unique_share
        needed = max(int(np.ceil(total * share)), 1)
        slots = np.floor(rows * (needed / total)).astype(np.int64) if needed < total else rows
        if (needed, seed, secret) not in self._plans:  # the same for every batch of a run
            self._plans[needed, seed, secret] = self._plan(needed, seed, secret)
        usable, strata, free = self._plans[needed, seed, secret]
        # slot -> (template, index within the template): injective and stateless, so batches
        # can be made in any order; any run of consecutive slots gives each template its share
        choice, local = strata.locate(slots)
        room = strata.room(needed)
        values = np.empty(n, dtype=object)
        for index, template in enumerate(usable):
            rows_here = choice == index
            if not rows_here.any():
                continue
            if free[index] is not None:
                values[rows_here] = template.render(free[index][local[rows_here]], seed, template.capacity)
            else:
                values[rows_here] = self._render_unseen(template, local[rows_here], seed, int(room[index]), secret)
        return self.restore_dtype(values, self.null_mask(n, rng))

    def _plan(self, needed: int, seed: int, secret: str | None, templates: list[Template] | None = None):
        """Templates with room for the rows they get of ``needed``, sharing STRATA positions
        in proportion to their weight in the source (a template without room gives its share
        to the others), and for each, the slots free of real values where it must be
        enumerated to avoid them. Numbers grow a digit when their lengths have no room left."""
        templates = templates or self.templates
        real = len(self.hashes) if secret else 0
        # room for the real values too, so that new ones can avoid them
        usable = [t.roomy(SPACE_FACTOR * (needed + int(t.weight * real))) for t in templates]
        free: dict[int, np.ndarray | None] = {}
        while usable:
            weights = np.asarray([t.weight for t in usable])
            counts = np.floor(weights / weights.sum() * STRATA).astype(int)
            counts[np.argsort(-(weights / weights.sum() * STRATA - counts))[: STRATA - counts.sum()]] += 1
            keep = counts > 0
            usable, counts = [t for t, k in zip(usable, keep) if k], [int(c) for c in counts[keep]]
            strata = _Strata(counts, seed)
            short = []
            for template, room in zip(usable, strata.room(needed)):
                dense = real and (
                    template.span(room) < SPARE * room or SPARE * template.weight * real > template.capacity
                )
                if dense and template.capacity <= ENUMERATED and id(template) not in free:
                    assert secret is not None  # real values are counted only with the key
                    free[id(template)] = self._free_slots(template, seed, secret)
                slots = free.get(id(template))
                if (template.capacity if slots is None else len(slots)) < room:
                    short.append(template)
            if not short:
                return usable, strata, [free.get(id(t)) for t in usable]
            usable = [t for t in usable if t not in short]
        grown = self._longer(templates)
        if grown:
            return self._plan(needed, seed, secret, grown)
        widest = max(templates, key=lambda t: t.capacity)
        raise SyngenError(
            f"column '{self.name}': cannot make {needed} distinct values in the pattern "
            f"'{widest.pattern}' (room for {widest.capacity}{', less the real ones' if real else ''}); "
            "generate fewer rows"
        )

    def _longer(self, templates: list[Template]) -> list[Template]:
        """An integer column's digit patterns one digit longer, within its type's range."""
        if not self.dtype.lower().startswith(("int", "uint")):
            return []
        width = len(str(np.iinfo(self.dtype.lower()).max))
        return self._in_range([t.longer() for t in templates if set(t.pattern) == {"9"} and len(t.pattern) < width])

    def _in_range(self, templates: list[Template]) -> list[Template]:
        """Digit patterns as wide as the integer type's largest value cut to stay below it;
        those that cannot are left out."""
        limit = str(np.iinfo(self.dtype.lower()).max)
        cut = [t.below(limit) if t.pattern == "9" * len(limit) else t for t in templates]
        return [t for t in cut if t is not None]

    def _free_slots(self, template: Template, seed: int, secret: str) -> np.ndarray:
        """The slots of the whole pattern (rendered as one permutation) whose value is not real."""
        chunk, kept = 1 << 20, []
        for first in range(0, template.capacity, chunk):
            slots = np.arange(first, min(first + chunk, template.capacity), dtype=np.int64)
            values = template.render(slots, seed, template.capacity)
            kept.append(slots[~guard.contains(self.hashes, values, secret)])
        return np.concatenate(kept)

    def avoid(self, values: pd.Series, secret: str | None) -> None:
        """Never generate these values either (the keys already in a table appended to)."""
        if secret:
            self.hashes = np.union1d(self.hashes, guard.keyed_hashes(values.astype(str), secret))
            self._plans = {}

    def _render_unseen(self, template, slots, seed, needed, secret):
        """Render, re-rendering from a spare slot (slot + k * needed) where a value is real."""
        values = template.render(slots, seed, needed)
        copied = guard.contains(self.hashes, values, secret)
        for spare in range(1, template.span(needed) // needed):
            if not copied.any():
                return values
            values[copied] = template.render(slots[copied] + spare * needed, seed, needed)
            copied[copied] = guard.contains(self.hashes, values[copied], secret)
        if copied.any():
            raise SyngenError(
                f"column '{self.name}': its real values fill the pattern '{template.pattern}' too densely "
                f"to make {needed} new ones; generate fewer rows"
            )
        return values

    def _state(self):
        return (
            {"unique_share": self.unique_share, "templates": [t.to_dict() for t in self.templates]},
            {"hashes": self.hashes},
        )

    def _load(self, meta, arrays):
        self.unique_share = meta["unique_share"]
        self.templates = [Template(**t) for t in meta["templates"]]
        self.hashes = arrays["hashes"]


@register("sequence")
class SequenceCodec(Codec):
    """Integer keys numbered like the source's, unique by construction: from its first value
    by its mean step, gaps spread evenly (a sample of a numbered table, every fifth row
    gone, spans the source's range at the source's size, not four fifths of it). A stray
    number far from the rest (1100 beside 1..533) is no part of the numbering."""

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.first, self.step = 1, 1.0

    def _fit(self, values):
        first, last, count = numbering(values.to_numpy())
        self.first = first
        self.step = max(float(last - first) / (count - 1), 1.0) if count > 1 else 1.0

    def generate(self, n, rng, start, total, seed, rows=None):
        steps = np.floor(np.arange(start, start + n, dtype=np.float64) * self.step + 1e-9).astype(np.int64)
        return self.restore_dtype(self.first + steps)

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

    def generate(self, n, rng, start, total, seed, rows=None):
        raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
        digits = np.frombuffer(
            (string.hexdigits[:16].upper() if self.upper else string.hexdigits[:16]).encode(), dtype=np.uint8
        )
        nibbles = np.stack([raw >> 4, raw & 0x0F], axis=2).reshape(n, 32)
        chars = digits[nibbles]
        dash = np.full((n, 1), ord("-"), dtype=np.uint8)
        chars = np.hstack(
            [chars[:, :8], dash, chars[:, 8:12], dash, chars[:, 12:16], dash, chars[:, 16:20], dash, chars[:, 20:]]
        )
        text = pd.Series(np.ascontiguousarray(chars).view("S36").ravel()).str.decode("ascii")
        return self.restore_dtype(text.to_numpy(dtype=object), self.null_mask(n, rng))

    def _state(self):
        return {"upper": self.upper}, {}

    def _load(self, meta, arrays):
        self.upper = meta["upper"]


@register("email")
class EmailCodec(Codec):
    """Addresses made from the row's person, in the styles the source's local parts show
    (first.last, first_last, flast, ...) and with their share of trailing digits. Domains
    seen at least k times keep their frequencies; the rest become free-mail domains of the
    row's locale. Never a real address (keyed check), distinct where the source's are."""

    _MAX_DOMAINS = 1000
    _STYLES = ("first.last", "first_last", "firstlast", "flast", "first", "firstl")

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.styles = [1.0 / len(self._STYLES)] * len(self._STYLES)
        self.digits = 0.0  # local parts ending in digits
        self.domains: list[str] = []
        self.domain_weights: list[float] = []
        self.other_domains = 1.0  # share of addresses at a rare domain
        self.unique = False
        self.upper = False
        self.capitalized = 0.0  # local parts written 'Mary.Smith'
        self.hashes = np.zeros(0, dtype=_U64)

    def _fit(self, values):
        text = values.astype(str).str.strip()
        parts = text.str.rsplit("@", n=1, expand=True)
        if parts.shape[1] < 2:
            raise SyngenError(f"column '{self.name}': no value holds an '@'; it is no email column")
        self.capitalized = float(parts[0].str.match(r"^[A-Z][a-z]").mean())
        local = parts[0].str.lower()
        core = local.str.replace(r"\d+$", "", regex=True)
        self.digits = float((local != core).mean())
        dotted = core.str.fullmatch(r"[^\W\d_]+\.[^\W\d_]+")
        underscored = core.str.fullmatch(r"[^\W\d_]+_[^\W\d_]+")
        alpha = (~dotted & ~underscored).mean() / 4
        self.styles = [float(dotted.mean()), float(underscored.mean())] + [float(alpha)] * 4
        counts = parts[1].str.lower().value_counts()
        frequent = counts[counts >= self.protection.rare_threshold].iloc[: self._MAX_DOMAINS]
        self.domains = frequent.index.tolist()
        self.domain_weights = (frequent / max(frequent.sum(), 1)).tolist()
        self.other_domains = float(1.0 - frequent.sum() / max(counts.sum(), 1))
        self.unique = bool(len(text) and values.nunique() / len(values) >= NEARLY_UNIQUE)
        self.upper = bool((text == text.str.upper()).mean() >= 0.9)
        if self.protection.secret:  # generated addresses are lower case
            self.hashes = guard.keyed_hashes(text.str.lower(), self.protection.secret)

    def as_key(self, nullable: bool = False) -> None:
        super().as_key(nullable)
        self.unique = True

    def generate(self, n, rng, start, total, seed, rows=None):
        rows = rows if rows is not None else Rows.plain(n, seed, start)
        values = self._make(rows, rng, force_digits=False)
        # a real or repeated address is remade with digits; what still repeats gets the row's position
        left = guard.remake(
            values,
            lambda index: self._make(rows.take(index, rng), rng, force_digits=True),
            self.hashes,
            rows.secret,
            self.unique,
            rounds=_RETRIES,
        )
        if len(left):
            local, _, domain = pd.Series(values[left], dtype=object).str.rpartition("@").T.to_numpy()
            values[left] = local + "." + (left + start).astype(str) + "@" + domain
        if self.upper:
            values = pd.Series(values, dtype=object).str.upper().to_numpy(dtype=object)
        elif self.capitalized:  # 'Mary.Smith12@gmail.com', as the source writes them
            capital = rng.random(n) < self.capitalized
            local, _, domain = pd.Series(values[capital], dtype=object).str.rpartition("@").T.to_numpy()
            values[capital] = pd.Series(local, dtype=object).str.title().to_numpy(dtype=object) + "@" + domain
        return self.restore_dtype(values, self.null_mask(n, rng))

    def _make(self, rows, rng, force_digits: bool) -> np.ndarray:
        n = len(rows)
        first, last = rows.people()
        first, last = _ascii(first), _ascii(last)
        unwritten = (first == "") | (last == "")  # names in other scripts: an address of English names
        if unwritten.any():
            english = np.full(int(unwritten.sum()), "en_US", dtype=object)
            first[unwritten] = _ascii(fake.draw(english, "first", rows.seed, rng))
            last[unwritten] = _ascii(fake.draw(english, "last", rows.seed, rng))
        shares = np.asarray(self.styles, dtype=np.float64)
        style = rng.choice(len(self._STYLES), size=n, p=shares / shares.sum())
        f0 = pd.Series(first, dtype=object).str[:1].to_numpy(dtype=object)
        l0 = pd.Series(last, dtype=object).str[:1].to_numpy(dtype=object)
        local = np.select(
            [style == 0, style == 1, style == 2, style == 3, style == 4],
            [first + "." + last, first + "_" + last, first + last, f0 + last, first],
            first + l0,
        ).astype(object)
        digits = rng.random(n) < (1.0 if force_digits else self.digits)
        numbers = rng.integers(1, 10 ** rng.integers(1, 5, n)).astype(str).astype(object)
        local = np.where(digits, local + numbers, local)
        domain = np.empty(n, dtype=object)
        other = rng.random(n) < self.other_domains if self.domains else np.ones(n, dtype=bool)
        if other.any():
            domain[other] = fake.draw(rows.locales[other], "domain", rows.seed, rng)
        if (~other).any():
            picks = rng.choice(len(self.domains), size=int((~other).sum()), p=np.asarray(self.domain_weights))
            domain[~other] = np.asarray(self.domains, dtype=object)[picks]
        return (local + "@" + domain).astype(object)

    def _state(self):
        return (
            {
                "styles": self.styles,
                "digits": self.digits,
                "domains": self.domains,
                "domain_weights": self.domain_weights,
                "other_domains": self.other_domains,
                "unique": self.unique,
                "upper": self.upper,
                "capitalized": self.capitalized,
            },
            {"hashes": self.hashes},
        )

    def _load(self, meta, arrays):
        for key in ("styles", "digits", "domains", "domain_weights", "other_domains", "unique", "upper", "capitalized"):
            setattr(self, key, meta[key])
        self.hashes = arrays["hashes"]


def _ascii(names: np.ndarray) -> np.ndarray:
    """Names as an address's local part: lower-case ASCII letters only."""
    text = pd.Series(names, dtype=object).astype(str).str.normalize("NFKD")
    text = text.str.encode("ascii", "ignore").str.decode("ascii").str.lower()
    return text.str.replace(r"[^a-z]", "", regex=True).to_numpy(dtype=object)


@register("text")
class TextCodec(Codec):
    """Free text from a word-level Markov chain: real vocabulary, realistic lengths and word
    order, no sentence copied whole. Where the source never writes a value that is only a
    number, none is made: a number drawn as a one-word value ('4' of '4 piece Nuggets') gets
    the word after it. Common words can still chain into a whole real value ('University of
    Kentucky'): one that fewer than the rare threshold of people hold is remade (the model
    keeps only keyed hashes of those, as identifying codecs do)."""

    _VOCABULARY = 5000
    _SUCCESSORS = 30
    _FIT_ROWS = 20000
    _NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.vocabulary: list[str] = []
        self.arrays: dict[str, np.ndarray] = {}
        self.bare_numbers = True  # the source has values that are only a number
        self.hashes = np.zeros(0, dtype=np.uint64)  # of the real values few people hold

    def _fit(self, values):
        values = values.astype(str)
        if self.protection.secret:  # as generated: words joined by single spaces
            held = self.protection.holders(values.str.split().str.join(" "))
            self.hashes = guard.keyed_hashes(held.index[held < self.protection.rare_threshold], self.protection.secret)
        self.bare_numbers = bool(values.str.strip().str.fullmatch(self._NUMBER).any())
        if len(values) > self._FIT_ROWS:
            values = values.sample(self._FIT_ROWS, random_state=0)
        tokens = values.str.split()
        lengths = tokens.str.len().clip(1, 200).to_numpy()
        words = tokens.explode().dropna()
        counts = words.value_counts()
        # a word seen fewer than k times (a name, a number inside the text) is never kept
        counts = counts[counts >= self.protection.rare_threshold].iloc[: self._VOCABULARY]
        if counts.empty:  # nothing common enough: words of a neutral vocabulary
            common = pd.Series(fake.pool("la", "word", 0, 500)).value_counts()
            words = pd.Series(common.index[np.arange(len(words)) % len(common)], index=words.index)
            counts = words.value_counts()
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

    def generate(self, n, rng, start, total, seed, rows=None):
        text = self._chain(n, rng)
        left = guard.remake(
            text, lambda index: self._chain(len(index), rng), self.hashes, rows.secret if rows is not None else None
        )
        if len(left):  # still real after every round: another row's new text
            fresh = np.setdiff1d(np.arange(n), left)
            text[left] = text[fresh[np.arange(len(left)) % len(fresh)]] if len(fresh) else None
        return self.restore_dtype(text, self.null_mask(n, rng))

    def _chain(self, n: int, rng) -> np.ndarray:
        """``n`` texts walked along the chain."""
        a = self.arrays
        lengths = rng.choice(len(a["lengths"]), size=n, p=a["lengths"] / a["lengths"].sum())
        lengths = np.maximum(lengths, 1)
        starts = a["starts"] if a["starts"].sum() > 0 else a["unigram"]
        current = rng.choice(len(starts), size=n, p=starts / starts.sum())
        vocabulary = np.asarray(self.vocabulary, dtype=object)
        if not self.bare_numbers:
            number = pd.Series(vocabulary, dtype=object).str.fullmatch(self._NUMBER).to_numpy(dtype=bool)
            lengths = np.where((lengths == 1) & number[current], 2, lengths)
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
            current[fresh] = rng.choice(len(a["unigram"]), size=int(fresh.sum()), p=a["unigram"] / a["unigram"].sum())
            text[going] = text[going] + " " + vocabulary[current[going]]
        return text

    def _state(self):
        return {"vocabulary": self.vocabulary, "bare_numbers": self.bare_numbers}, {
            **self.arrays,
            "hashes": self.hashes,
        }

    def _load(self, meta, arrays):
        self.vocabulary, self.bare_numbers = meta["vocabulary"], meta["bare_numbers"]
        self.arrays = dict(arrays)
        self.hashes = self.arrays.pop("hashes", np.zeros(0, dtype=np.uint64))


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

    def generate(self, n, rng, start, total, seed, rows=None):
        values = np.full(n, self.value, dtype=object)
        nulls = np.ones(n, dtype=bool) if self.kind == "empty" else self.null_mask(n, rng)
        return self.restore_dtype(values, nulls)

    def _state(self):
        return {"value": self.value}, {}

    def _load(self, meta, arrays):
        self.value = meta["value"]


@register("verbatim")
class VerbatimCodec(Codec):
    """A column of a reference table kept as it is (``train_settings.copy``): row i of any
    run is row i of the source. Only for tables that hold no personal data (categories,
    nations, airlines), whose labels are the point; ``Synthesizer(verbatim=True)`` refuses
    tables with identifying columns."""

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.values = np.zeros(0)
        self.nulls = np.zeros(0, dtype=bool)

    def fit(self, column, text_format=None, protection=None):
        super().fit(column, text_format, protection)
        self.nulls = column.isna().to_numpy()
        if pd.api.types.is_bool_dtype(column) or (
            pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_datetime64_any_dtype(column)
        ):
            self.values = column.to_numpy(dtype=np.float64, na_value=np.nan) if self.nulls.any() else column.to_numpy()
        else:  # text and dates as text: plain unicode arrays, restored to the column's dtype
            self.values = column.astype(str).where(~self.nulls, "").to_numpy(dtype=str)
        return self

    def generate(self, n, rng, start, total, seed, rows=None):
        index = np.arange(start, start + n) % max(len(self.values), 1)
        return self.restore_dtype(self.values[index].astype(object), self.nulls[index])

    def _state(self):
        return {}, {"values": self.values, "nulls": self.nulls}

    def _load(self, meta, arrays):
        self.values, self.nulls = arrays["values"], arrays["nulls"]


_LENGTH_QUANTILES = 101
_BINARY_CHUNK_BYTES = 1 << 26  # bound on the byte matrix made at once


@register("binary")
class BinaryCodec(Codec):
    """Binary values (BLOB, bytea, VARBINARY): random bytes with the source's distribution of
    lengths (its quantiles, the only thing kept) and share of nulls; never a real byte."""

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.lengths: list[float] = [0.0]

    def _fit(self, values):
        lengths = values.map(len).to_numpy(dtype=np.float64) if len(values) else np.zeros(1)
        self.lengths = np.quantile(lengths, np.linspace(0, 1, _LENGTH_QUANTILES)).tolist()

    def generate(self, n, rng, start, total, seed, rows=None):
        quantiles = np.asarray(self.lengths)
        lengths = np.rint(np.interp(rng.random(n), np.linspace(0, 1, len(quantiles)), quantiles)).astype(np.int64)
        values = np.empty(n, dtype=object)
        longest = max(int(lengths.max()) if n else 0, 1)
        step = max(1, _BINARY_CHUNK_BYTES // longest)
        for first in range(0, n, step):  # chunks of rows, each one byte matrix
            size = lengths[first : first + step]
            matrix = rng.integers(0, 256, (len(size), longest), dtype=np.uint8)
            # the last byte of each value is never zero: NumPy's fixed-width bytes drop trailing zeros
            last = np.clip(size - 1, 0, None)
            matrix[np.arange(len(size)), last] = rng.integers(1, 256, len(size), dtype=np.uint8)
            matrix[np.arange(longest) >= size[:, None]] = 0
            values[first : first + step] = matrix.view(f"S{longest}").ravel().astype(object)
        return self.restore_dtype(values, self.null_mask(n, rng))

    def _state(self):
        return {"lengths": self.lengths}, {}

    def _load(self, meta, arrays):
        self.lengths = meta["lengths"]

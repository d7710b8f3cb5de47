"""Random streams by purpose, with common random numbers.

Every draw of a replication comes from one :class:`numpy.random.SeedSequence`. A draw is
addressed by *purpose* (``"purchase"``, ``"dropout"``, ...), *week* and *customer row*,
never by the order in which the engine happens to ask for it. So a customer's luck in
week ``t`` is the same whatever policies run and whatever other customers do: two arms
of one replication see the same customers and the same luck (common random numbers),
and the differences between arms are caused by the policies alone.

Two kinds of draw serve the two access patterns of the weekly pipeline:

- dense draws (one value for every customer, e.g. the weekly purchase decision). Most
  customers are settled by the leading byte of their uniform alone (a customer who buys
  with probability 0.07 does not buy whenever the byte is below 237), so the dense part
  is one byte per customer from a :class:`numpy.random.Generator` (PCG64) seeded by the
  SeedSequence spawned for ``(purpose, week)``, eight customers per 64-bit output.
  Customer ``i`` takes byte ``i``, so a population that grows (customers appended by
  referral) does not change the draws of the customers already there. The remaining
  bits of the few undecided customers' uniforms come from the counter-based generator
  below: customer ``i``'s dense uniform is ``(byte_i + fine_i) / 256``.
- sparse draws (a value for each of the few customers who buy this week: basket,
  dropout, redemption) use a counter-based generator: the SplitMix64 finaliser applied to
  ``key + counter * golden`` where the 64-bit ``key`` comes from the SeedSequence spawned
  for ``(purpose, week)`` and the counter is ``row * 256 + draw``. It costs a few integer
  operations per buyer, needs no state, and gives each (customer, week, purpose, draw) its
  own value (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"; Steele,
  Lea & Flood 2014, "Fast splittable pseudorandom number generators").
"""

from __future__ import annotations

import zlib
from types import ModuleType
from typing import Any

import numpy as np

#: Draws per customer, week and purpose available to the counter-based generator.
DRAWS_PER_ROW = 256

_MOD = 2**64
_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_DENSE, _COUNTER, _FINE = 0, 1, 2


def purpose_id(purpose: str) -> int:
    """Stable integer id of a purpose name (CRC-32), so any name can be a stream."""
    if not purpose:
        raise ValueError("purpose: must be a non-empty string")
    return zlib.crc32(purpose.encode("utf-8"))


class Streams:
    """The random streams of one replication.

    Parameters
    ----------
    seed : int, SeedSequence or None
        Root of every draw. ``None`` takes fresh entropy from the operating system; the
        entropy actually used is kept in :attr:`entropy` so the run can be repeated.
    xp : module
        Array namespace of the engine (numpy, or cupy for the GPU backend).

    Examples
    --------
    >>> s = Streams(7)
    >>> u = s.dense_uniform("purchase", week=3, n=5)
    >>> bool((s.dense_uniform("purchase", week=3, n=8)[:5] == u).all())
    True
    >>> lead = s.dense_bytes("purchase", week=3, n=5)
    >>> bool((lead == (u * 256).astype("uint8")).all())
    True
    """

    def __init__(self, seed: int | np.random.SeedSequence | None, xp: ModuleType = np) -> None:
        if isinstance(seed, np.random.SeedSequence):
            self.seed_sequence = seed
        else:
            if seed is not None and (not isinstance(seed, int | np.integer) or seed < 0):
                raise ValueError(f"seed: must be a non-negative integer or None, got {seed!r}")
            self.seed_sequence = np.random.SeedSequence(seed)
        self.xp = xp
        self._keys: dict[tuple[int, ...], int] = {}
        self._dense: dict[tuple[str, int], Any] = {}

    @property
    def entropy(self) -> int:
        """The root entropy of the seed sequence (give it back as ``seed`` to repeat a run)."""
        return int(self.seed_sequence.entropy)  # type: ignore[arg-type]

    def _child(self, purpose: str, keys: tuple[int, ...]) -> np.random.SeedSequence:
        return np.random.SeedSequence(
            self.seed_sequence.entropy,
            spawn_key=(*self.seed_sequence.spawn_key, purpose_id(purpose), *keys),
        )

    def generator(self, purpose: str, *keys: int) -> np.random.Generator:
        """A numpy Generator for ``purpose`` and any integer ``keys`` (host memory).

        Used for draws made once, not per week: the customers of a population, the
        random assignment of a field trial.
        """
        return np.random.Generator(np.random.PCG64(self._child(purpose, keys)))

    def dense_bytes(self, purpose: str, week: int, n: int, start: int = 0) -> Any:
        """Leading byte (uint8) of the dense uniform of each customer row ``start .. n - 1``.

        Row ``i`` gets the same byte for any ``n > i`` and ``start <= i``. The week's
        arrays of all rows (``start = 0``) are cached (read-only), so several behaviours
        asking for the same draws share one array. :meth:`dense_values` completes the
        uniforms of the rows a byte leaves undecided.
        """
        cached = self._dense.get((purpose, week))
        if cached is not None and cached.shape[0] == n:
            return cached[start:]
        child = self._child(purpose, (week, _DENSE))
        if self.xp is np:
            # Eight bytes per 64-bit PCG64 output (little-endian on every platform), so
            # the generator skips the rows before ``start`` eight at a time.
            bits = np.random.PCG64(child)
            bits.advance(start // 8)
            skip = start % 8
            raw = bits.random_raw(-(-(n - start + skip) // 8)).astype("<u8", copy=False)
            values = raw.view(np.uint8)[skip : skip + n - start]
            values.flags.writeable = False
        else:
            seed = int(child.generate_state(1, np.uint64)[0])
            uniforms = self.xp.random.default_rng(seed).random(n, dtype=self.xp.float32)
            values = (uniforms[start:] * 256).astype(self.xp.uint8)
        if start == 0:
            if any(w != week for _, w in self._dense):
                self._dense.clear()
            self._dense[(purpose, week)] = values
        return values

    def dense_values(self, purpose: str, week: int, rows: Any, leading: Any) -> Any:
        """Float64 dense uniforms of customer ``rows`` whose leading bytes are ``leading``.

        Parameters
        ----------
        rows : array of int
            Customer rows.
        leading : array of uint8
            Their bytes from :meth:`dense_bytes` (same purpose and week).

        Returns
        -------
        array of float64
            ``(leading + fine) / 256``, with ``fine`` a counter-based uniform of the row
            with 45 bits: 53 random bits in all, exactly a float64 on [0, 1).
        """
        fine = self._hash_uniforms(self._key(purpose, week, _FINE), rows, 0, 1, bits=45)[0]
        fine += leading
        fine *= 1.0 / 256.0
        return fine

    def dense_uniform(self, purpose: str, week: int, n: int, start: int = 0) -> Any:
        """Float64 dense uniform of every customer row ``start .. n - 1``.

        The same values as :meth:`dense_values` gives row by row; it costs a counter
        draw per row, so the engine decides on :meth:`dense_bytes` first and asks only
        for the rows the byte leaves undecided.
        """
        leading = self.dense_bytes(purpose, week, n, start)
        rows = self.xp.arange(start, n, dtype=self.xp.int64)
        return self.dense_values(purpose, week, rows, leading)

    def _key(self, purpose: str, week: int, kind: int = _COUNTER) -> int:
        k = (purpose_id(purpose), week, kind)
        key = self._keys.get(k)
        if key is None:
            if len(self._keys) > 4096:
                self._keys.clear()
            key = int(self._child(purpose, (week, kind)).generate_state(1, np.uint64)[0])
            self._keys[k] = key
        return key

    def uniform(self, purpose: str, week: int, rows: Any, draw: int = 0) -> Any:
        """Counter-based float64 uniforms on [0, 1), one per customer row in ``rows``.

        Parameters
        ----------
        purpose : str
            What the draw decides; each purpose is an independent stream.
        week : int
            Simulation week.
        rows : array of int
            Customer rows (any order, repeats allowed).
        draw : int
            Index of the draw for the same row, week and purpose, ``0 <= draw < 256``.
        """
        return self.uniforms(purpose, week, rows, draw, 1)[0]

    def uniforms(self, purpose: str, week: int, rows: Any, first_draw: int, k: int) -> list[Any]:
        """Draws ``first_draw .. first_draw + k - 1`` of :meth:`uniform`, sharing the work
        on ``rows`` (the values are the same as ``k`` separate calls)."""
        if not (first_draw >= 0 and first_draw + k <= DRAWS_PER_ROW and k >= 1):
            raise ValueError(f"draw: draws must be in [0, {DRAWS_PER_ROW}), got "
                             f"{first_draw}..{first_draw + k - 1}")
        return self._hash_uniforms(self._key(purpose, week), rows, first_draw, k)

    def _hash_uniforms(
        self, key: int, rows: Any, first_draw: int, k: int, bits: int = 53
    ) -> list[Any]:
        """The SplitMix64 uniforms of ``rows`` for draws ``first_draw .. + k - 1``: the
        leading ``bits`` of each hash over ``2**bits``."""
        xp = self.xp
        # (row * 256 + draw) * golden + key, modulo 2^64, with the constants folded
        base = xp.asarray(rows).astype(xp.uint64) * xp.uint64(DRAWS_PER_ROW * _GOLDEN % _MOD)
        offset = (first_draw * _GOLDEN + key) % _MOD
        out = []
        for j in range(k):
            z = base + xp.uint64((offset + j * _GOLDEN) % _MOD)
            z ^= z >> xp.uint64(30)
            z *= xp.uint64(_MIX1)
            z ^= z >> xp.uint64(27)
            z *= xp.uint64(_MIX2)
            z ^= z >> xp.uint64(31)
            z >>= xp.uint64(64 - bits)
            u = z.astype(xp.float64)
            u *= 2.0**-bits
            out.append(u)
        return out

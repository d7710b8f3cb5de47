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
  dropout, redemption) come from a counter-based generator, Philox4x32-10 (Salmon,
  Moraes, Dror & Shaw 2011, "Parallel random numbers: as easy as 1, 2, 3", SC '11; the
  generator of Random123 and cuRAND). It needs no state: a draw is a function of its
  address, computed for the asked rows alone with a few dozen array operations.

Philox4x32-10 is a keyed bijection of a 128-bit counter: ten rounds of two 32 x 32-bit
multiplications (whose high and low halves are mixed into the other words) with a
64-bit key that changes every round. Each stream has its own key, the 64 bits the
SeedSequence spawned for ``(purpose, week, kind)`` gives (low word first), and within a
stream the counter is the address of the draw, as four 32-bit words::

    (row mod 2**32, row // 2**32, draw // 2, kind)

with ``kind`` 1 for :meth:`Streams.uniform` and 2 for the fine bits of dense draws. One
block (four output words) gives two 53-bit uniforms, draws ``2 j`` (words 0 and 1) and
``2 j + 1`` (words 2 and 3), so asking for ``k`` draws of a row costs about ``k / 2``
blocks; a dense draw's fine part is the leading 45 bits of words 0 and 1 of its block.

Why a keyed generator: a hash of ``key + counter * golden`` (SplitMix64, used before)
makes the streams of two keys shifted copies of one sequence: stream ``k1`` at counter
``c`` is stream ``k2`` at ``c + (k1 - k2) / golden (mod 2**64)``. ``S`` streams of ``R``
rows (256 draws each) then overlap with probability about ``S**2 * 256 R / 2**64``:
0.14 for 10^4 streams of 10^8 rows. With Philox a key is a different permutation of the
counters, not an offset into a shared sequence; for one key, distinct counters give
distinct blocks (a bijection); and the generator passes TestU01's BigCrush (Salmon et
al. 2011).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np

#: Draws per customer, week and purpose available to the counter-based generator.
DRAWS_PER_ROW = 256

_DENSE, _COUNTER, _FINE = 0, 1, 2
_MASK32 = 0xFFFFFFFF
#: Philox4x32 constants (Salmon et al. 2011; Random123's ``philox.h``): the multipliers of
#: the two products of a round and the Weyl increments of the key schedule.
_PHILOX_M0, _PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
_PHILOX_W0, _PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
_PHILOX_ROUNDS = 10
#: Rows per chunk of the CPU path: its work arrays (768 KiB) stay in the core's L2 cache.
_CHUNK = 2**14


def purpose_id(purpose: str) -> int:
    """Stable integer id of a purpose name (CRC-32), so any name can be a stream."""
    if not purpose:
        raise ValueError("purpose: must be a non-empty string")
    return zlib.crc32(purpose.encode("utf-8"))


def _key_schedule(key: Sequence[int], xp: ModuleType) -> Any:
    """The key words of the ten rounds, shape (10, 2, 1): the key plus ``r`` times the
    Weyl constants, modulo ``2**32``."""
    k0, k1 = key
    return xp.asarray(
        [[[(k0 + r * _PHILOX_W0) & _MASK32], [(k1 + r * _PHILOX_W1) & _MASK32]]
         for r in range(_PHILOX_ROUNDS)],
        dtype=xp.uint64,
    )


def _philox_rounds(
    work: Any, keys: Any, halves: tuple[bool, bool], xp: ModuleType, first: int = 0
) -> None:
    """Philox4x32-10 in place on ``work`` (uint64, shape (3, 2, n)): ``work[0]`` holds
    counter words 0 and 2 (the multiplied ones), ``work[1]`` words 1 and 3, ``work[2]`` is
    scratch. Afterwards output words ``2 h`` and ``2 h + 1`` are ``work[0, h]`` and
    ``work[1, h]`` for each half ``h`` asked for.

    A round maps ``(c0, c1, c2, c3)`` to ``(hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3
    ^ k1, lo(M0 c0))``: with the words paired this way, a round is five array operations
    on both pairs at once (the products' rows are swapped by writing through a reversed
    view), whatever the number of lanes. ``first`` rounds are already done.
    """
    x, y, p = work[0], work[1], work[2]
    mult = xp.asarray([[_PHILOX_M0], [_PHILOX_M1]], dtype=xp.uint64)
    shift, mask = xp.uint64(32), xp.uint64(_MASK32)
    for r in range(first, _PHILOX_ROUNDS - 1):
        xp.multiply(x, mult, out=p)  # exact: both factors are below 2**32
        xp.right_shift(p, shift, out=x[::-1])  # (hi1, hi0)
        x ^= y
        x ^= keys[r]
        xp.bitwise_and(p, mask, out=y[::-1])  # (lo1, lo0)
    last = _PHILOX_ROUNDS - 1
    if halves[0] and halves[1]:
        xp.multiply(x, mult, out=p)
        xp.right_shift(p, shift, out=x[::-1])
        x ^= y
        x ^= keys[last]
        xp.bitwise_and(p, mask, out=y[::-1])
        return
    for h in (0, 1):  # one half: words 2 h and 2 h + 1 come from the product of word 2 - 2 h
        if halves[h]:
            j = 1 - h
            xp.multiply(x[j], mult[j], out=p[j])
            xp.right_shift(p[j], shift, out=x[h])
            x[h] ^= y[h]
            x[h] ^= keys[last, h]
            xp.bitwise_and(p[j], mask, out=y[h])


def _first_two_rounds(
    work: Any, row: Any, block: int, kind: int, key: tuple[int, int], xp: ModuleType
) -> None:
    """Rounds 1 and 2 of counters ``(row, 0, block, kind)`` (rows below ``2**32``) into
    ``work`` as :func:`_philox_rounds` lays it out. Three of the four words are the same
    for every lane, so the products of constants are Python ints and these two rounds
    cost ten operations on one word each, instead of ten on pairs of words and four to
    set the counter."""
    x, y, p = work[0], work[1], work[2]
    mask = xp.uint64(_MASK32)
    k0, k1 = key
    k0b, k1b = (k0 + _PHILOX_W0) & _MASK32, (k1 + _PHILOX_W1) & _MASK32
    # round 1: (c0, c1, c2, c3) = (row, 0, block, kind)
    high1, low1 = divmod(_PHILOX_M1 * block, 2**32)
    word0 = high1 ^ k0  # the same for every lane
    xp.multiply(row, xp.uint64(_PHILOX_M0), out=p[0])
    xp.right_shift(p[0], xp.uint64(32), out=x[1])
    x[1] ^= xp.uint64(kind ^ k1)
    p[0] &= mask  # word 3
    # round 2: word 0 and word 1 are constants
    high0, low0 = divmod(_PHILOX_M0 * word0, 2**32)
    xp.multiply(x[1], xp.uint64(_PHILOX_M1), out=p[1])
    xp.right_shift(p[1], xp.uint64(32), out=x[0])
    x[0] ^= xp.uint64(low1 ^ k0b)
    xp.bitwise_xor(p[0], xp.uint64(high0 ^ k1b), out=x[1])
    xp.bitwise_and(p[1], mask, out=y[0])
    y[1] = low0


def philox4x32_10(
    counter: Sequence[Any], key: Sequence[int], xp: ModuleType = np,
    halves: tuple[bool, bool] = (True, True),
) -> list[Any]:
    """The Philox4x32-10 block of ``counter`` under ``key``: four 32-bit words.

    Parameters
    ----------
    counter : four words
        Each a Python int below ``2**32`` (the same for every lane) or a 1-d integer array
        of values below ``2**32``; the arrays have one length.
    key : two ints
        The key words, below ``2**32``.
    xp : module
        Array namespace (numpy or cupy).
    halves : (bool, bool)
        Which output pairs to compute, words 0-1 and words 2-3 (the last round makes each
        pair from one product, so a pair not asked for is not computed; it is None).

    Returns
    -------
    list of four words
        Python ints when every counter word is an int, else uint64 arrays.

    References
    ----------
    Salmon, J. K., Moraes, M. A., Dror, R. O. & Shaw, D. E. (2011). Parallel random
    numbers: as easy as 1, 2, 3. SC '11. The constants and the key schedule are those of
    Random123's ``philox.h``.
    """
    lanes = [word.shape[0] for word in counter if not isinstance(word, int)]
    work = xp.empty((3, 2, lanes[0] if lanes else 1), dtype=xp.uint64)
    work[0, 0], work[1, 0], work[0, 1], work[1, 1] = counter
    _philox_rounds(work, _key_schedule(key, xp), halves, xp)
    words: list[Any] = [None] * 4
    for h in (0, 1):
        if halves[h]:
            words[2 * h], words[2 * h + 1] = work[0, h], work[1, h]
    if not lanes:
        return [None if w is None else int(w[0]) for w in words]
    return words


def counter_uniforms(
    key: int, kind: int, rows: Any, first_draw: int, k: int, xp: ModuleType = np,
    bits: int = 53,
) -> list[Any]:
    """Philox uniforms of ``rows`` for draws ``first_draw .. first_draw + k - 1`` of the
    stream with 64-bit ``key``: the leading ``bits`` (33 to 53) of each draw's two words
    over ``2**bits``, float64 arrays of the shape of ``rows``.

    Draw ``d`` of row ``i`` is half ``d % 2`` (words ``2 (d % 2)`` and ``2 (d % 2) + 1``)
    of the block of counter ``(i mod 2**32, i // 2**32, d // 2, kind)``, whatever else
    is asked in the same call. On the CPU the rows go through in chunks of ``_CHUNK``,
    so that the work arrays of a chunk stay in the core's cache.
    """
    rows = xp.asarray(rows)
    shape = rows.shape
    flat = rows.reshape(-1)
    n = flat.shape[0]
    out = [xp.empty(n, dtype=xp.float64) for _ in range(k)]
    chunk = _CHUNK if xp is np else max(n, 1)
    buffer = xp.empty((3, 2, min(chunk, n)), dtype=xp.uint64)
    key_words = (key & _MASK32, key >> 32)
    keys = _key_schedule(key_words, xp)
    lead, tail = xp.uint64(bits - 32), xp.uint64(64 - bits)
    blocks = range(first_draw // 2, (first_draw + k - 1) // 2 + 1)
    # rows below 2**32 (every population in practice) have a constant high word
    high = n > 0 and int(flat.max()) > _MASK32
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        work = buffer[:, :, : stop - start]
        row = flat[start:stop].astype(xp.uint64)
        if high:
            row_high = row >> xp.uint64(32)
            row &= xp.uint64(_MASK32)
        for block in blocks:
            halves = (first_draw <= 2 * block < first_draw + k,
                      first_draw <= 2 * block + 1 < first_draw + k)
            if high:
                work[0, 0], work[1, 0], work[0, 1], work[1, 1] = row, row_high, block, kind
                _philox_rounds(work, keys, halves, xp)
            else:
                _first_two_rounds(work, row, block, kind, key_words, xp)
                _philox_rounds(work, keys, halves, xp, first=2)
            for h in (0, 1):
                if halves[h]:
                    a, b = work[0, h], work[1, h]
                    a <<= lead
                    b >>= tail
                    a |= b
                    # below 2**53, so int64 converts exactly (and faster than uint64)
                    xp.multiply(a.view(xp.int64), 2.0**-bits,
                                out=out[2 * block + h - first_draw][start:stop])
    return [u.reshape(shape) for u in out]


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
            integral = isinstance(seed, int | np.integer) and not isinstance(seed, bool)
            if seed is not None and (not integral or seed < 0):
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
        key = self._key(purpose, week, _FINE)
        fine = counter_uniforms(key, _FINE, rows, 0, 1, self.xp, bits=45)[0]
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
        on ``rows`` (the values are the same as ``k`` separate calls): one Philox block
        gives draws ``2 j`` and ``2 j + 1``, so ``k`` draws cost about ``k / 2`` blocks."""
        if not (first_draw >= 0 and first_draw + k <= DRAWS_PER_ROW and k >= 1):
            raise ValueError(f"draw: draws must be in [0, {DRAWS_PER_ROW}), got "
                             f"{first_draw}..{first_draw + k - 1}")
        return counter_uniforms(self._key(purpose, week), _COUNTER, rows, first_draw, k,
                                self.xp)

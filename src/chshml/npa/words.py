"""NPA word engine for the CHSH scenario: operator words, levels and the moment-matrix map.

Letters are the four ±1 observables A0, A1 (Alice) and B0, B1 (Bob). Alice's letters
commute with Bob's and every letter squares to the identity, so a word reduces to a pair
(Alice's alternating string, Bob's alternating string). The moment matrix is taken real
and symmetric: a word and its reversal share one moment (their moments are complex
conjugates, and a real solution exists whenever a complex one does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

from chshml.geometry import FULL_DIM

#: A reduced word: (Alice's letters, Bob's letters), each a tuple of inputs 0/1 in which no
#: letter repeats next to itself.
Word = tuple[tuple[int, ...], tuple[int, ...]]

_LEVEL_RE = re.compile(r"^\s*(\d+)\s*((?:\+\s*[ABab]+\s*)*)$")


def reduce_letters(letters: tuple[int, ...]) -> tuple[int, ...]:
    """Cancel adjacent equal letters (``X^2 = 1``) until none are left.

    Parameters
    ----------
    letters : tuple of int
        One party's inputs (0/1), left to right.

    Returns
    -------
    tuple of int
        The reduced string: no letter repeats next to itself.
    """
    stack: list[int] = []
    for letter in letters:
        if stack and stack[-1] == letter:
            stack.pop()
        else:
            stack.append(letter)
    return tuple(stack)


def alternating_strings(length: int) -> list[tuple[int, ...]]:
    """All reduced one-party strings of ``length`` letters (two of them for length >= 1).

    Parameters
    ----------
    length : int
        Number of letters, >= 0.

    Returns
    -------
    list of tuple of int
        ``[()]`` for length 0; else the two alternating strings, starting with 0 and with 1.
    """
    if length == 0:
        return [()]
    return [tuple((start + i) % 2 for i in range(length)) for start in (0, 1)]


def product(u: Word, v: Word) -> Word:
    """The reduced word of ``u^dagger v`` (letters are Hermitian, so ``u^dagger`` = reversal).

    Parameters
    ----------
    u, v : Word
        Reduced words ``(Alice's letters, Bob's letters)``.

    Returns
    -------
    Word
        The reduced product; Alice's and Bob's letters commute, so each party reduces alone.
    """
    return (reduce_letters(u[0][::-1] + v[0]), reduce_letters(u[1][::-1] + v[1]))


def moment_key(word: Word) -> Word:
    """Canonical representative of a moment: a word and its reversal share one real moment.

    Parameters
    ----------
    word : Word
        A reduced word.

    Returns
    -------
    Word
        The smaller (in tuple order) of ``word`` and its reversal.
    """
    reversed_word = (word[0][::-1], word[1][::-1])
    return min(word, reversed_word)


#: Highest base level accepted: the word engine and the SDPs grow quickly beyond it
#: (level 8: a 145 x 145 moment matrix; level 25 would need ~41 GiB).
MAX_LEVEL = 8


def parse_level(level: str | int) -> tuple[int, tuple[tuple[int, int], ...]]:
    """Parse ``"k"`` or ``"k+AB+AAB..."`` into (k, extra (n_Alice, n_Bob) letter counts).

    Parameters
    ----------
    level : str or int
        An NPA level: base level ``k`` (1 to ``MAX_LEVEL``) plus optional extra words, each
        named by its letters, e.g. ``"1+AB"`` or ``"2+AAB"`` (case-insensitive).

    Returns
    -------
    k : int
        The base level: all words of length <= ``k``.
    extras : tuple of (int, int)
        For each extra word, its number of Alice letters and of Bob letters.

    Raises
    ------
    ValueError
        If the text is not a level, or the level is above ``MAX_LEVEL``.
    """
    text = str(level)
    match = _LEVEL_RE.match(text)
    if not match:
        raise ValueError(f"unknown NPA level {text!r}: use 'k' or 'k+AB+AAB...', e.g. '1+AB'")
    k = int(match.group(1))
    if k < 1:
        raise ValueError(f"unknown NPA level {text!r}: the base level must be >= 1")
    if k > MAX_LEVEL:
        raise ValueError(f"NPA level {text!r} is too high: at most level {MAX_LEVEL} "
                         f"(moment matrix 145 x 145; level 4 is 41 x 41)")
    extras = []
    for token in filter(None, (t.strip().upper() for t in match.group(2).split("+"))):
        if len(token) > MAX_LEVEL:
            raise ValueError(f"NPA level {text!r}: extra word {token} is longer than "
                             f"{MAX_LEVEL} letters")
        extras.append((token.count("A"), token.count("B")))
    if len(extras) > 4 * MAX_LEVEL:
        raise ValueError(f"NPA level {text!r}: more than {4 * MAX_LEVEL} extra words")
    return k, tuple(extras)


def normalise_level(level: str | int) -> str:
    """Canonical spelling of a level, e.g. ``'1+ab'`` -> ``'1+AB'``.

    Parameters
    ----------
    level : str or int
        An NPA level as accepted by :func:`parse_level`.

    Returns
    -------
    str
        ``"k"`` followed by ``"+A..AB..B"`` for each extra word, Alice's letters first.
    """
    k, extras = parse_level(level)
    return "+".join([str(k)] + ["A" * a + "B" * b for a, b in extras])


@cache
def operator_words(level: str) -> tuple[Word, ...]:
    """The operator words indexing the moment matrix of an NPA level, identity first.

    Parameters
    ----------
    level : str
        An NPA level as accepted by :func:`parse_level`.

    Returns
    -------
    tuple of Word
        The ``m`` distinct reduced words: by total length up to ``k``, then the extra words
        not already present.
    """
    k, extras = parse_level(level)
    words: list[Word] = []
    seen: set[Word] = set()

    def add(alice_len: int, bob_len: int) -> None:
        for alice in alternating_strings(alice_len):
            for bob in alternating_strings(bob_len):
                if (alice, bob) not in seen:
                    seen.add((alice, bob))
                    words.append((alice, bob))

    for total in range(k + 1):
        for alice_len in range(total + 1):
            add(alice_len, total - alice_len)
    for alice_len, bob_len in extras:
        add(alice_len, bob_len)
    return tuple(words)


def _behaviour_keys() -> dict[Word, int]:
    """Moments that are coordinates of the behaviour, mapped to their 8-D index."""
    keys: dict[Word, int] = {}
    for x in (0, 1):
        keys[((x,), ())] = x
        keys[((), (x,))] = 2 + x
        for y in (0, 1):
            keys[((x,), (y,))] = 4 + 2 * x + y
    return keys


@dataclass(frozen=True)
class MomentMap:
    """Affine map ``Gamma(p, y) = I + sum_i p_i F[i] + sum_k y_k G[k]`` of an NPA level.

    ``p`` are the 8 behaviour coordinates, ``y`` the free moments (``free_words[k]``).
    Every diagonal entry of ``Gamma`` is 1, so ``|y_k| <= 1`` whenever ``Gamma`` is PSD.
    """

    level: str
    words: tuple[Word, ...]
    F: np.ndarray  # (8, m, m)
    G: np.ndarray  # (K, m, m)
    free_words: tuple[Word, ...]

    @property
    def size(self) -> int:
        """Side length ``m`` of the moment matrix."""
        return len(self.words)

    @property
    def n_free(self) -> int:
        """Number ``K`` of free moments (moments that are not behaviour coordinates)."""
        return len(self.free_words)

    def matrix(self, p: np.ndarray, y: np.ndarray) -> np.ndarray:
        """``Gamma(p, y)`` for one behaviour and its free moments.

        Parameters
        ----------
        p : ndarray, shape (8,)
            The 8-D behaviour.
        y : ndarray, shape (K,)
            The free moments.

        Returns
        -------
        ndarray, shape (m, m)
            The moment matrix (symmetric, unit diagonal).
        """
        return (np.eye(self.size) + np.tensordot(p, self.F, axes=1)
                + np.tensordot(y, self.G, axes=1))


@cache
def moment_map(level: str | int) -> MomentMap:
    """Build the moment-matrix map of an NPA level from the generic word engine.

    Parameters
    ----------
    level : str or int
        An NPA level as accepted by :func:`parse_level`.

    Returns
    -------
    MomentMap
        ``F`` of shape (8, m, m) and ``G`` of shape (K, m, m), 0/1 symmetric matrices with
        disjoint supports and zero diagonals. Cached per level; callers must not modify it.
    """
    level = normalise_level(level)
    words = operator_words(level)
    m = len(words)
    coordinate_of = _behaviour_keys()
    F = np.zeros((FULL_DIM, m, m))
    free_index: dict[Word, int] = {}
    entries: list[tuple[int, int, int]] = []
    for i, u in enumerate(words):
        for j in range(i, m):
            key = moment_key(product(u, words[j]))
            if key == ((), ()):
                if i != j:
                    raise AssertionError(f"distinct words {u} and {words[j]} multiply to 1")
                continue
            if key in coordinate_of:
                F[coordinate_of[key], i, j] = F[coordinate_of[key], j, i] = 1.0
            else:
                k = free_index.setdefault(key, len(free_index))
                entries.append((k, i, j))
    G = np.zeros((len(free_index), m, m))
    for k, i, j in entries:
        G[k, i, j] = G[k, j, i] = 1.0
    free_words = tuple(sorted(free_index, key=free_index.__getitem__))
    return MomentMap(level, words, F, G, free_words)

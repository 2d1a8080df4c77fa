"""chshml.npa.words: moment-matrix sizes, level names and the moment map's structure."""

import numpy as np
import pytest

from chshml.npa import moment_map
from chshml.npa.words import normalise_level, operator_words, parse_level


@pytest.mark.parametrize(("level", "size"), [("1", 5), ("1+AB", 9), ("2", 13), ("3", 25),
                                             ("4", 41)])
def test_moment_matrix_sizes(level, size):
    assert moment_map(level).size == size


def test_level_parsing():
    assert normalise_level("1+ab") == "1+AB"
    assert parse_level("2+AAB+ABB") == (2, ((2, 1), (1, 2)))
    for bad in ("", "0", "x", "1+AC", "-1"):
        with pytest.raises(ValueError):
            parse_level(bad)
    # 1+AB adds exactly the four products AxBy to level 1
    extra = set(operator_words("1+AB")) - set(operator_words("1"))
    assert extra == {((x,), (y,)) for x in (0, 1) for y in (0, 1)}


def test_moment_map_structure():
    mm = moment_map("2")
    i = {w: k for k, w in enumerate(mm.words)}
    # <A0 A1> sits at (A0, A1); the word and its reversal share one free moment
    a0, a1 = ((0,), ()), ((1,), ())
    a0a1, a1a0 = ((0, 1), ()), ((1, 0), ())
    k = [n for n, w in enumerate(mm.free_words) if w == a0a1][0]
    assert mm.G[k, i[a0], i[a1]] == 1.0 and mm.G[k, i[a1], i[a0]] == 1.0
    # <A0 * A0A1> = <A1>: coordinate 1 appears at (A0, A0A1)
    assert mm.F[1, i[a0], i[a0a1]] == 1.0
    # <A1A0 * A0A1> = <A1 A1> = 1 would be the diagonal; off-diagonal (A0A1, A1A0) = <A1A0A0A1>?
    # (A0A1)^dagger (A1A0) = A1A0A1A0: a free moment, not the identity
    assert np.all(np.diagonal(mm.F, axis1=1, axis2=2) == 0)
    assert np.all(np.diagonal(mm.G, axis1=1, axis2=2) == 0)
    assert mm.matrix(np.zeros(8), np.zeros(mm.n_free)).trace() == mm.size
    del a1a0

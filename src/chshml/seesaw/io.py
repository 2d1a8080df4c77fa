"""The output layout of ``chshml seesaw`` (one row per input point; realisations as real
symmetric matrices); its input is read by :func:`chshml.store.load_seesaw_input`.

Output datasets: ``points``, ``distance``, ``certified`` (now or before), ``seed`` (smallest
certifying restart seed), ``seeds_tried`` (restarts run), ``iterations``, ``processed``,
``previously_certified``, ``state`` (``d^2 x d^2``, index ``i*d + j``), ``A``, ``B``
(``2 x d x d``). Attributes: ``dim`` (local dimension), ``n_seeds`` (restarts), the options and
counts. All HDF5 access goes through :mod:`chshml.store`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from chshml import __version__
from chshml.seesaw.records import SeesawConfig, SeesawResult
from chshml.store import SeesawFile


def output_datasets(points: np.ndarray, prior: np.ndarray, res: SeesawResult
                    ) -> dict[str, np.ndarray]:
    """The datasets of a see-saw output file."""
    certified = res.certified | prior
    return {
        SeesawFile.POINTS: points, SeesawFile.DISTANCE: res.distance,
        SeesawFile.CERTIFIED: certified.astype(np.int8),
        "seed": res.seed, "seeds_tried": res.restarts_tried, "iterations": res.iterations,
        "processed": res.processed.astype(np.int8),
        SeesawFile.PREVIOUSLY_CERTIFIED: prior.astype(np.int8),
        "state": res.state, "A": res.a, "B": res.b,
    }


def output_attrs(config: SeesawConfig, points: np.ndarray, prior: np.ndarray,
                 res: SeesawResult) -> dict[str, object]:
    """The file attributes of a see-saw output file (options, counts, CPU time)."""
    certified = res.certified | prior
    return {"dim": config.local_dim, "n_seeds": config.restarts, "first_seed": config.first_seed,
            "base_seed": config.base_seed, "engine": config.engine,
            "threshold": config.threshold, "chshml_version": __version__,
            "cpu_seconds": res.cpu_seconds, "n_points": len(points),
            "n_processed": int(res.processed.sum()), "n_certified": int(certified.sum()),
            "n_certified_now": int(res.certified.sum()),
            "matrices": "real symmetric; state index i*d + j (Alice i, Bob j)"}


def write_output(path: str | os.PathLike, config: SeesawConfig, points: np.ndarray,
                 prior: np.ndarray, res: SeesawResult,
                 inputs: Iterable[str | os.PathLike] = ()) -> None:
    """Write a see-saw output file atomically (:func:`chshml.store.write_h5`)."""
    from chshml.store import write_h5

    write_h5(path, output_datasets(points, prior, res), output_attrs(config, points, prior, res),
             inputs=tuple(inputs))

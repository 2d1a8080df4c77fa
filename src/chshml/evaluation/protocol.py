"""The evaluation protocol of ``chshml evaluate``: the paper's accuracy measures of one model.

Test / train / validation accuracy on the model's own dataset; unbalanced accuracy on a
uniform sample (8-D: the canonical simplex, plus the NS-wide "global accuracy"); spread
accuracy at sigma = 1e-2, 1e-3 and a curve over [1e-4, 1e-1]; slice accuracy against true
labels. Every test set is a labelled file of the data stage (:class:`TestSets`); a set not
given is reported as not measured in ``notes``, never generated here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from chshml.evaluation.slices import SliceResult, evaluate_slice
from chshml.evaluation.spread import SPREAD_SIGMAS, curve_sigmas, spread_curve
from chshml.geometry import CORR_DIM, SLICES, VOLUME_L8_EXACT
from chshml.metrics import binomial_se, scores

#: Metadata keys of the model copied into the result.
MODEL_META_KEYS = ("chosen", "config", "timings", "n_train_used", "fold_symmetry", "recipe",
                   "split_group")


@dataclass
class LabelledSet:
    """A labelled test set read from a file: points, labels (1/0/-1), gauges if stored."""

    points: np.ndarray
    label: np.ndarray
    lam: np.ndarray | None
    source: str


@dataclass
class TestSets:
    """The test files of one evaluation: uniform sample, spread sets by sigma, slices by name.

    The spread curve shifts the boundary points stored in the spread files (their
    ``boundary`` dataset, :func:`spread_boundary`): the spread sets' own measure.
    """

    uniform: LabelledSet | None = None
    spread: dict[float, LabelledSet] = field(default_factory=dict)
    slices: dict[str, LabelledSet] = field(default_factory=dict)


def load_labelled(path: str) -> LabelledSet:
    """Points, labels and (if stored) gauges of a labelled file."""
    from chshml.store import load_dataset

    ds = load_dataset(path, need_split=False)
    return LabelledSet(ds.points, ds.label, ds.lam, str(path))


def load_test_sets(uniform: str | None = None, spread: dict[float, str] | None = None,
                   slices: dict[str, str] | None = None) -> TestSets:
    """Read the labelled test files named on the command line."""
    return TestSets(uniform=load_labelled(uniform) if uniform else None,
                    spread={s: load_labelled(p) for s, p in (spread or {}).items()},
                    slices={n: load_labelled(p) for n, p in (slices or {}).items()})


def ns_wide_accuracy(acc_simplex: float, n: int) -> dict[str, Any]:
    """NS-wide accuracy of an 8-D model from its accuracy in the canonical nonlocal simplex.

    Local points (16/17 of NS) are predicted quantum, which is right; the 8 nonlocal
    simplices are images of the canonical one, so ``acc = 16/17 + acc_simplex / 17``
    (the paper's "global accuracy"). The standard error scales by 1/17.
    """
    acc = VOLUME_L8_EXACT + (1 - VOLUME_L8_EXACT) * acc_simplex
    return {"acc": float(acc), "se": (1 - VOLUME_L8_EXACT) * binomial_se(acc_simplex, n),
            "n": int(n), "source": "16/17 + acc(canonical simplex)/17"}


def spread_boundary(files: list[str], dim: int) -> tuple[np.ndarray | None, str, str]:
    """``(boundary, source, recipe)`` from the first spread file whose ``boundary`` dataset
    has ``dim`` columns; the recipe is the last one read (default ``paper``).
    """
    from chshml.store import read_h5

    recipe = "paper"
    for path in files:
        data, attrs = read_h5(path)
        recipe = str(attrs.get("recipe", recipe))
        if "boundary" in data and len(data["boundary"]):
            boundary = np.asarray(data["boundary"], dtype=float)
            if boundary.shape[1] != dim:
                continue
            return boundary, f"boundary points of {path} (the spread sets' measure)", recipe
    return None, "", recipe


@dataclass
class EvaluationResult:
    """Accuracies of one model (the JSON of ``chshml evaluate``, in its key order).

    ``unbalanced`` is None when no uniform test set was given; ``unbalanced_ns_wide`` (8-D
    only) and ``spread_curve`` are left out of the JSON when not measured. ``slice_results``
    hold the per-point slice predictions (written by ``--slices-out``, not to the JSON).
    """

    model: str
    model_file: str
    kind: str | None
    dataset: str
    space: str
    seed: int
    model_meta: dict[str, Any]
    recipe: str
    level: str
    train: dict[str, Any]
    val: dict[str, Any]
    test: dict[str, Any]
    unbalanced: dict[str, Any] | None
    unbalanced_ns_wide: dict[str, Any] | None
    spread: dict[str, dict[str, Any]]
    spread_curve: dict[str, Any] | None
    slices: dict[str, dict[str, Any]]
    notes: list[str]
    package_versions: dict[str, str]
    timings: dict[str, float]
    slice_results: list[SliceResult] = field(default_factory=list, repr=False)

    _OPTIONAL = ("unbalanced_ns_wide", "spread_curve")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (optional entries that were not measured left out)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "slice_results" or (f.name in self._OPTIONAL and value is None):
                continue
            out[f.name] = value
        return out

    def to_json(self) -> str:
        """Indented JSON text with NaN written as null."""
        from chshml.store import json_text

        return json_text(self.to_dict())


def evaluate_model(classifier: Any, dataset: Any, test_sets: TestSets,
                   rng: np.random.Generator, *, name: str, model_file: str = "",
                   seed: int = 0, curve_points: int = 13,
                   started: float | None = None) -> EvaluationResult:
    """Evaluate ``classifier`` (:class:`chshml.models.Classifier`) trained on ``dataset``
    (:class:`chshml.models.training.Dataset`) on ``test_sets``; ``rng`` draws the shifts of
    the spread curve (``curve_points`` sigmas), the only random step. ``timings`` count from
    ``started`` (a :func:`time.perf_counter` value; default: now), so a caller can include
    the loading of the model and the sets.
    """
    from chshml.store import MODEL_PACKAGES, package_versions

    t0 = time.perf_counter() if started is None else started
    clf, ds, dim = classifier, dataset, classifier.dim
    notes: list[str] = []
    parts = {}
    for part in ("train", "val", "test"):
        x, y = ds.part(part)
        parts[part] = scores(y, clf.predict(x))

    # unbalanced accuracy: a uniform NS sample (8-D: the canonical simplex)
    unbalanced: dict[str, Any] | None = None
    ns_wide: dict[str, Any] | None = None
    if test_sets.uniform is not None:
        u = test_sets.uniform
        unbalanced = {**scores(u.label, clf.predict(u.points)), "source": u.source}
        if dim != CORR_DIM:
            # the paper's 8-D "global accuracy": NS-wide, local points (16/17 of NS) counted
            # as correct, each of the 8 nonlocal simplices like the canonical one (symmetry)
            ns_wide = ns_wide_accuracy(unbalanced["acc"], unbalanced["n"])
    else:
        notes.append("no uniform test set given: unbalanced accuracy not measured")

    spread = {}
    for sigma in SPREAD_SIGMAS:
        if sigma in test_sets.spread:
            s = test_sets.spread[sigma]
            spread[f"{sigma:g}"] = {**scores(s.label, clf.predict(s.points)), "source": s.source}
        else:
            notes.append(f"no spread set for sigma {sigma:g} given: spread accuracy not "
                         "measured")
    # the curve shifts the boundary points of the spread sets themselves (their measure)
    boundary, source, recipe = spread_boundary([s.source for s in test_sets.spread.values()], dim)
    curve = None
    if boundary is not None:
        sigmas = curve_sigmas(curve_points)
        curve = {"sigma": list(sigmas), "n": int(len(boundary)),
                 "acc": spread_curve(clf.predict, boundary, sigmas, rng),
                 "source": source, "recipe": recipe}
    else:
        notes.append("no spread file with boundary points of this space given: spread curve "
                     "not measured")

    slice_results = []
    for sname in ["slice1", "slice2"] + ([] if dim == CORR_DIM else ["slice8"]):
        if sname not in test_sets.slices:
            notes.append(f"{sname}: no labelled slice file given: slice accuracy not measured")
            continue
        s = test_sets.slices[sname]
        slice_results.append(evaluate_slice(clf.predict, SLICES[sname], dim, s.points, s.label))
    return EvaluationResult(
        model=name, model_file=model_file, kind=clf.meta.get("kind"), dataset=ds.name,
        space=clf.space, seed=seed,
        model_meta={k: clf.meta.get(k) for k in MODEL_META_KEYS},
        recipe=str(ds.attrs.get("recipe", "")), level=str(ds.attrs.get("level", "")),
        **parts, unbalanced=unbalanced, unbalanced_ns_wide=ns_wide, spread=spread,
        spread_curve=curve,
        slices={r.name: {"acc": r.acc, "n": int(np.sum(r.truth >= 0))} for r in slice_results},
        notes=notes, package_versions=package_versions(MODEL_PACKAGES),
        timings={"evaluate_seconds": time.perf_counter() - t0}, slice_results=slice_results)

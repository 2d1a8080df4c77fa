"""Certified prediction: a gauge model where it is sure, the certified labeller where not.

Physics: a gauge model predicts ``lam(p)``; its label (``lam >= 1``) can only be wrong when
the true gauge lies on the other side of 1, i.e. (up to the calibrated relative error band)
when ``|lam_pred - 1|`` is small. Those points, and only on rays whose gauge is not exact
(rays leaving L through a CHSH facet), go to the certified labeller: exact TLM in 4-D, the
batched NPA solver at the model's reference level in 8-D (labels 1 / 0 / -1 as
``chshml label``). The rest keep the model's label.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass
class CertifiedPrediction:
    """Labels, predicted gauges, which points were routed, and their certified gauges."""

    label: np.ndarray
    label_model: np.ndarray
    lam_pred: np.ndarray
    routed: np.ndarray
    lam_certified: np.ndarray
    reference: str
    certify: bool
    band: float
    cpu_model: float
    cpu_certified: float

    def columns(self) -> dict[str, np.ndarray]:
        """Datasets written by ``chshml predict``."""
        out = {"lam_pred": self.lam_pred}
        if self.certify:
            out.update({"label_model": self.label_model, "routed": self.routed,
                        "lam_certified": self.lam_certified})
        return out

    def attrs(self) -> dict:
        """File attributes: the routing rule, share routed and throughput."""
        n = len(self.label)
        total = self.cpu_model + self.cpu_certified
        out = {"gauge_reference": self.reference, "gauge_band": self.band,
               "certify": self.certify, "cpu_seconds_model": self.cpu_model}
        if self.certify:
            out.update({"routed": int(self.routed.sum()),
                        "routed_share": float(self.routed.mean()) if n else 0.0,
                        "cpu_seconds_certified": self.cpu_certified,
                        "points_per_cpu_second": n / total if total > 0 else float("inf")})
        return out


def certified_labels(points: np.ndarray, reference: str) -> tuple[np.ndarray, np.ndarray]:
    """Certified ``(label, lam)``: exact TLM (``reference="tlm"``, zero marginals) or the
    NPA labeller (:func:`chshml.npa.label_points`) at level ``reference``.
    """
    from chshml.geometry import correlators, tlm_gauge, tlm_margin

    if len(points) == 0:
        return np.zeros(0, np.int8), np.zeros(0)
    if reference == "tlm":
        e = correlators(points)
        return (tlm_margin(e) >= 0).astype(np.int8), tlm_gauge(e)
    from chshml.npa import label_points

    res = label_points(points, reference)
    return np.asarray(res.label, np.int8), np.asarray(res.lam, float)


def certified_predict(clf, points: np.ndarray, certify: bool = False,
                      band_factor: float = 2.0) -> CertifiedPrediction:
    """Predict with a :class:`chshml.models.gauge.GaugeClassifier`; with ``certify`` route
    curved-ray points with ``|lam_pred - 1| <= band_factor * band * lam_pred`` to
    :func:`certified_labels`.
    """
    from chshml.models.gauge_features import ray_chart

    t = time.process_time()
    lam_pred = clf.predict_gauge(points)
    label_model = (lam_pred >= 1.0).astype(np.int8)
    cpu_model = time.process_time() - t
    band = float(clf.gauge_model.band)
    reference = str(clf.meta.get("reference", "tlm" if clf.dim == 4 else "1+AB"))
    label = label_model.copy()
    routed = np.zeros(len(label), bool)
    lam_cert = np.full(len(label), np.nan)
    cpu_cert = 0.0
    if certify and len(points):
        t = time.process_time()
        curved = ray_chart(points, clf.dim).curved
        with np.errstate(invalid="ignore"):
            routed = curved & (np.abs(lam_pred - 1.0) <= band_factor * band * lam_pred)
        if routed.any():
            lab, lam = certified_labels(np.asarray(points, float)[routed], reference)
            label[routed] = lab
            lam_cert[routed] = lam
        cpu_cert = time.process_time() - t
    return CertifiedPrediction(label, label_model, lam_pred, routed, lam_cert, reference,
                               certify, band, cpu_model, cpu_cert)

"""NPA hierarchy for the CHSH scenario: word engine, gauge SDPs, certificates and labels."""

from chshml.npa.labelling import LabelResult, label_points
from chshml.npa.words import moment_map, normalise_level

__all__ = ["LabelResult", "label_points", "moment_map", "normalise_level"]

"""Steered see-saw (paper Sec. III C, Eq. 8): distance of a behaviour to Q_{d x d} and the
realisation (state, A0, A1, B0, B1) that attains it. Light to import: cvxpy and mpi4py are
imported only by the SDP engine and by a job under MPI.
"""

from chshml.appendix_a import distance_counts, distance_histogram
from chshml.seesaw.job import run_points
from chshml.seesaw.realisation import behaviour, check_realisation, random_observables
from chshml.seesaw.records import SeesawConfig, SeesawResult
from chshml.seesaw.summary import appendix_a_distances

__all__ = ["SeesawConfig", "SeesawResult", "appendix_a_distances", "behaviour",
           "check_realisation", "distance_counts", "distance_histogram", "random_observables",
           "run_points"]

"""chshml: map the set of quantum correlations in the CHSH scenario.

Importing the package is cheap: heavy dependencies (cvxpy, TensorFlow, MOSEK) are
imported by the modules that use them.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chshml")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

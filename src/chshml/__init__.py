"""chshml: map the set of quantum correlations in the CHSH scenario.

Importing the package is cheap: heavy dependencies (cvxpy, TensorFlow, MOSEK) are
imported by the modules that use them.

``__version__`` (stamped as ``chshml_version`` into every result file) is the installed
distribution's version, derived from the git tag at install time (setuptools-scm).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("chshml")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

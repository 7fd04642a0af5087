"""Credence: Bayesian belief-network inference.

``credence`` is one package in two portions, either of which may come first on ``sys.path``:
the wheel built from ``python/`` (the engine in process: ``credence.Network``) and the gRPC
stubs of ``clients/python`` (``credence.v1``). Each portion's ``__init__`` extends the package
path to the other and imports the in-process API when the wheel is installed.
"""

__path__ = __import__("pkgutil").extend_path(__path__, __name__)

try:
    from ._inprocess import *  # noqa: F401,F403
except ModuleNotFoundError as error:  # only the gRPC stubs are installed
    if error.name != __name__ + "._inprocess":
        raise

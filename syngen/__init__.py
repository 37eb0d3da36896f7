"""syngen: learn real tables, generate realistic synthetic ones.

The public Python API::

    from syngen import Synthesizer
    model = Synthesizer(random_seed=1).fit(df)
    synthetic = model.sample(1000, random_seed=7)
    model.save("model_dir"); Synthesizer.load("model_dir")

TensorFlow is imported only when a model is trained, so importing syngen (and running
``--help``) stays fast.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("syngen")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

from syngen.errors import SyngenError

__all__ = ["Synthesizer", "SyngenError", "__version__"]


def __getattr__(name):
    # loaded on first use, so the command line's --help does not pay for pandas and NumPy
    if name == "Synthesizer":
        from syngen.engine.synthesizer import Synthesizer

        return Synthesizer
    raise AttributeError(f"module 'syngen' has no attribute {name!r}")

"""Credence in process: the inference engine inside this Python process, no server needed.

The names and dict shapes follow the gRPC client (``credence_client``), so code moves between
the two by changing how the network is reached::

    import credence
    net = credence.Network.read("networks/asia.bif")
    net.query(evidence={"smoke": "yes"}, targets=["lung"])["posteriors"]["lung"]["yes"]  # 0.1
    net.update(frame)      # a DataFrame of cases in, a DataFrame of posteriors out

A network pickles as its BIF text, and is parsed and compiled once per process however often
it arrives, so it can be shipped to Dask or Spark workers as it is (see ``credence.dask``).
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Mapping, Sequence

from . import _credence
from ._credence import CredenceError

__all__ = ["Network", "CredenceError"]

# Columns of a frame that name the case instead of observing a variable, in order of preference.
ID_COLUMNS = ("id", "case")


def _from_bif(text: str) -> "Network":
    """What unpickling calls: a text this process has seen before is not parsed again."""
    return Network(_credence.from_bif(text))


def _list(names: Iterable[str] | str | None) -> list[str] | None:
    if names is None:
        return None
    if isinstance(names, str):
        return [names]
    return list(names)


class Network:
    """A Bayesian network and its compiled engines. Immutable; safe to share between threads."""

    __slots__ = ("_native",)

    def __init__(self, native: "_credence.CompiledNetwork"):
        self._native = native

    @classmethod
    def read(cls, path) -> "Network":
        """Reads a network file in any format the CLI reads (BIF, XMLBIF, Hugin NET, GeNIe XDSL,
        UAI), chosen by the extension, else by the content."""
        return cls(_credence.CompiledNetwork.read(str(path)))

    @classmethod
    def parse(cls, text: str, format: str | None = None, source: str = "<text>") -> "Network":
        """Parses a network from text; ``format`` is "bif", "xmlbif", "net", "xdsl" or "uai"
        (None: by content).
        ``source`` names the text in errors, and names a network that the text leaves unnamed
        (``network unknown``) by its stem, as a file name would."""
        return cls(_credence.CompiledNetwork.parse(text, format, source))

    def __reduce__(self):
        return (_from_bif, (self._native.bif(),))

    def __dask_tokenize__(self):
        # The same network gives the same Dask task keys, without pickling it to find out.
        return ("credence.Network", hashlib.sha256(self._native.bif().encode()).hexdigest())

    def __eq__(self, other) -> bool:
        return isinstance(other, Network) and self._native.bif() == other._native.bif()

    def __hash__(self) -> int:
        return hash(self._native.bif())

    def __repr__(self) -> str:
        return f"<credence.Network {self.name!r}: {len(self.variables)} variables>"

    def to_bif(self) -> str:
        """The network as BIF text (what a pickle of it holds)."""
        return self._native.bif()

    @property
    def name(self) -> str:
        return self._native.name

    @property
    def variables(self) -> list[str]:
        """Variable names in declaration order."""
        return self._native.variables

    def states(self, variable: str) -> list[str]:
        return self._native.states(variable)

    def parents(self, variable: str) -> list[str]:
        return self._native.parents(variable)

    def query(
        self,
        evidence: Mapping[str, str] | None = None,
        soft: Mapping[str, Sequence[float]] | None = None,
        targets: Iterable[str] | None = None,
        engine: str = "auto",
        seed: int | None = None,
        samples: int | None = None,
    ) -> dict:
        """Posteriors given evidence: {"posteriors": {VAR: {STATE: P}}, "log_p_evidence": F,
        "engine": "ENGINE_JUNCTION_TREE", ...}; samplers add "stderr", "intervals" and
        "sampling". ``engine`` takes the command line's names (auto, jt, ve, enum, lw, gibbs,
        rejection, epis) or the gRPC client's (ENGINE_JUNCTION_TREE, ...)."""
        return self._native.query(
            dict(evidence) if evidence else None,
            {k: list(v) for k, v in soft.items()} if soft else None,
            _list(targets),
            engine,
            seed,
            samples,
        )

    def mpe(
        self,
        evidence: Mapping[str, str] | None = None,
        soft: Mapping[str, Sequence[float]] | None = None,
        variables: Iterable[str] | None = None,
    ) -> dict:
        """The most probable explanation (or MAP over ``variables``):
        {"assignment": {VAR: STATE}, "log_probability": F, "log_p_evidence": F}."""
        return self._native.mpe(
            dict(evidence) if evidence else None,
            {k: list(v) for k, v in soft.items()} if soft else None,
            _list(variables),
        )

    def value_of_information(
        self,
        target: str,
        evidence: Mapping[str, str] | None = None,
        soft: Mapping[str, Sequence[float]] | None = None,
        candidates: Iterable[str] | None = None,
        engine: str = "auto",
    ) -> list[dict]:
        """What to watch next: [{"variable", "mutual_information"}], most informative first."""
        return self._native.value_of_information(
            target,
            dict(evidence) if evidence else None,
            {k: list(v) for k, v in soft.items()} if soft else None,
            _list(candidates),
            engine,
        )

    voi = value_of_information

    def explain(
        self,
        target: str,
        evidence: Mapping[str, str] | None = None,
        soft: Mapping[str, Sequence[float]] | None = None,
        engine: str = "auto",
    ) -> dict:
        """Each evidence item's impact on the target, and the evidence conflict:
        {"states", "prior", "posterior", "conflict", "conflicting", "items": [...]}."""
        return self._native.explain(
            target,
            dict(evidence) if evidence else None,
            {k: list(v) for k, v in soft.items()} if soft else None,
            engine,
        )

    def intervene(
        self,
        interventions: Mapping[str, str],
        evidence: Mapping[str, str] | None = None,
        soft: Mapping[str, Sequence[float]] | None = None,
        targets: Iterable[str] | None = None,
        engine: str = "auto",
    ) -> dict:
        """P(targets | do(interventions), evidence) beside P(targets | interventions observed,
        evidence): {"interventional": {VAR: {STATE: P}}, "observational": {...} (empty when
        observing them is impossible), "log_p_evidence": F}."""
        return self._native.intervene(
            dict(interventions),
            dict(evidence) if evidence else None,
            {k: list(v) for k, v in soft.items()} if soft else None,
            _list(targets),
            engine,
        )

    def update(
        self,
        frame,
        targets: Iterable[str] | None = None,
        shape: str = "wide",
        engine: str = "auto",
        threads: int | None = None,
        seed: int | None = None,
        samples: int | None = None,
    ):
        """Posteriors for many cases, on all cores (or ``threads``) with the GIL released.

        ``frame``: a pandas DataFrame or pyarrow Table, one row per case and one column per
        observed variable; a cell is read as ``credence update`` reads a CSV cell (missing or
        empty: unobserved; a state name: hard evidence; numbers separated by ';': a likelihood).
        An ``id`` (or ``case``) column is carried through.

        Returns a DataFrame with the frame's index. ``shape="wide"``: one row per case, columns
        [id], log_p_evidence, VAR=STATE..., error. ``shape="long"``: one row per case and target
        state, columns [id], variable, state, probability, log_p_evidence, error (a failed case
        is one row with its error). A case that cannot be answered has its one-sentence reason
        in ``error``; the others are unaffected.
        """
        import numpy as np
        import pandas as pd

        if shape not in ("wide", "long"):
            raise CredenceError(f"unknown shape '{shape}' (valid: wide, long)")
        if not isinstance(frame, pd.DataFrame):
            if hasattr(frame, "to_pandas"):  # a pyarrow Table or RecordBatch
                frame = frame.to_pandas()
            else:
                raise CredenceError(
                    f"expected a pandas DataFrame or a pyarrow Table of cases, got {type(frame).__name__}"
                )
        id_column = next((c for c in ID_COLUMNS if c in frame.columns), None)
        names, codes, categories = [], [], []
        for name in frame.columns:
            if name == id_column:
                continue
            if not isinstance(name, str):
                raise CredenceError(f"column names must be variable names, found {name!r}")
            code, uniques = pd.factorize(frame[name], use_na_sentinel=True)
            names.append(name)
            codes.append(np.ascontiguousarray(code, dtype=np.int32))
            categories.append([_cell(value) for value in uniques])
        columns, posteriors, log_p, errors = self._native.update_columns(
            len(frame), names, codes, categories, _list(targets), engine, seed, samples, threads
        )
        posteriors = posteriors.reshape(len(frame), len(columns))
        errors = np.array(errors, dtype=object)
        if shape == "wide":
            out = pd.DataFrame(posteriors, columns=columns, index=frame.index)
            out.insert(0, "log_p_evidence", log_p)
            out["error"] = pd.Series(errors, index=out.index, dtype=object)
            if id_column is not None:
                out.insert(0, id_column, frame[id_column].to_numpy())
            return out
        return _long(frame, id_column, columns, posteriors, log_p, errors)


def _cell(value) -> str | None:
    """A distinct cell as text; the missing-value markers pandas factorizes away never reach here."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _long(frame, id_column, columns, posteriors, log_p, errors):
    """One row per answered case and target state, and one per failed case, in case order."""
    import numpy as np
    import pandas as pd

    n_cases, width = posteriors.shape
    split = [c.split("=", 1) for c in columns]
    variables = np.array([v for v, _ in split], dtype=object)
    states = np.array([s for _, s in split], dtype=object)
    failed = np.array([e is not None for e in errors], dtype=bool)
    # Each answered case contributes `width` rows, each failed case one.
    per_case = np.where(failed, 1, width)
    case = np.repeat(np.arange(n_cases), per_case)
    first = np.repeat(np.cumsum(per_case) - per_case, per_case)
    column = np.arange(len(case)) - first
    case_failed = failed[case]
    out = pd.DataFrame(
        {
            "variable": np.where(case_failed, None, variables[column % max(width, 1)] if width else None),
            "state": np.where(case_failed, None, states[column % max(width, 1)] if width else None),
            "probability": np.where(
                case_failed, np.nan, posteriors[case, np.minimum(column, max(width - 1, 0))] if width else np.nan
            ),
            "log_p_evidence": log_p[case],
        },
        index=frame.index[case],
    )
    out["error"] = pd.Series(errors[case], index=out.index, dtype=object)
    if id_column is not None:
        out.insert(0, id_column, frame[id_column].to_numpy()[case])
    return out

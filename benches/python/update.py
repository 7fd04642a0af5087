"""`network.update` in process against `credence update` on the same alarm cases, with pyAgrum's
Python loop and pgmpy's `predict_probability` on a smaller frame when they are installed.

    python benches/python/update.py [--cases-per-core N] [--peer-cases M] [--bin target/release/credence]

Cases: a pool of 2,000 possible evidence sets is drawn by sampling 3 to 6 variables one after
another from their posteriors (so every case is possible); each case is a random subset of one
of them (each finding kept with probability 0.7) plus a likelihood with random weights on one
more variable, so nearly every case is distinct and no cache helps. Both sides answer all 37 marginals with the junction tree on every
core: the command line reads the CSV and writes CSV, `network.update` takes the DataFrame and
returns one (its time is shown with and without reading and writing the same CSV files).
Prints a table of wall times and cases per second.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

import credence

ROOT = pathlib.Path(__file__).resolve().parents[2]
ALARM = ROOT / "networks" / "alarm.bif"


def evidence_pool(net: credence.Network, size: int, rng: np.random.Generator) -> list[dict]:
    pool = []
    for _ in range(size):
        evidence: dict[str, str] = {}
        for variable in rng.choice(net.variables, size=rng.integers(3, 7), replace=False):
            marginal = net.query(evidence=evidence, targets=[variable])["posteriors"][variable]
            states, p = list(marginal), np.array(list(marginal.values()))
            evidence[variable] = states[rng.choice(len(states), p=p / p.sum())]
        pool.append(evidence)
    return pool


def cases(net: credence.Network, n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    variables = net.variables
    pool = evidence_pool(net, 2000, rng)
    # pool[i, v]: the state of variable v in evidence set i, or None.
    table = np.array([[e.get(v) for v in variables] for e in pool], dtype=object)
    hard = table[rng.integers(0, len(pool), size=n)]
    hard[rng.random(hard.shape) >= 0.7] = None
    # A likelihood with random weights on one more variable (unless that one is observed).
    soft_var = rng.integers(0, len(variables), size=n)
    for j, v in enumerate(variables):
        rows = np.flatnonzero((soft_var == j) & np.equal(hard[:, j], None))
        weights = np.round(rng.uniform(0.1, 1.0, size=(len(rows), len(net.states(v)))), 3)
        hard[rows, j] = [";".join(map(str, w)) for w in weights.tolist()]
    return pd.DataFrame({"id": np.arange(n).astype(str), **{v: hard[:, j] for j, v in enumerate(variables)}})


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def peers(frame: pd.DataFrame, net: credence.Network) -> list[tuple[str, int, float]]:
    """pyAgrum's LazyPropagation in a Python loop over the rows, and pgmpy's
    predict_probability, on hard evidence only (neither takes a likelihood per row)."""
    hard = frame.drop(columns=["id"]).map(lambda c: c if isinstance(c, str) and ";" not in c else None)
    rows = []
    try:
        import pyagrum as gum  # noqa: F401
    except ImportError:
        try:
            import pyAgrum as gum  # noqa: F401
        except ImportError:
            gum = None
    if gum is not None:
        bn = gum.loadBN(str(ALARM))
        engine = gum.LazyPropagation(bn)

        def loop():
            for record in hard.to_dict("records"):
                engine.setEvidence({k: v for k, v in record.items() if isinstance(v, str)})
                engine.makeInference()
                for v in net.variables:
                    engine.posterior(v)

        seconds, _ = timed(loop)
        rows.append(("pyAgrum LazyPropagation, Python loop", len(frame), seconds))
    else:
        print("pyAgrum not installed: skipped", file=sys.stderr)
    try:
        from pgmpy.readwrite import BIFReader
    except ImportError:
        print("pgmpy not installed: skipped", file=sys.stderr)
    else:
        model = BIFReader(str(ALARM)).get_model()
        # predict_probability returns the joint distribution of every unobserved column, which
        # on alarm fits in memory only with nearly every variable observed: all but three
        # targets, every row filling its missing cells with the column's most common state.
        targets = ["HYPOVOLEMIA", "LVFAILURE", "ERRLOWOUTPUT"]
        observed = hard.drop(columns=targets)
        observed = observed.apply(lambda c: c.fillna(c.mode().iloc[0]) if c.notna().any() else c.fillna(net.states(c.name)[0]))
        seconds, _ = timed(lambda: model.predict_probability(observed))
        rows.append(("pgmpy predict_probability (34 of 37 variables observed)", len(frame), seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases-per-core", type=int, default=1_000_000)
    parser.add_argument("--peer-cases", type=int, default=2_000)
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "credence"))
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    n = args.cases_per_core * cores
    net = credence.Network.read(ALARM)
    seconds, frame = timed(lambda: cases(net, n))
    print(f"{n} alarm cases ({args.cases_per_core} per core, {cores} cores) made in {seconds:.1f} s", file=sys.stderr)
    rows = []
    net.update(frame.head(10), engine="jt")  # compile outside the timing, as the CLI's startup is inside it
    seconds, in_process = timed(lambda: net.update(frame, engine="jt"))
    rows.append(("network.update (DataFrame in, DataFrame out)", n, seconds))
    if not pathlib.Path(args.bin).is_file():
        print(f"{args.bin} does not exist: credence update skipped (cargo build --release)", file=sys.stderr)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            cases_csv, out_csv = pathlib.Path(tmp) / "cases.csv", pathlib.Path(tmp) / "out.csv"
            frame.to_csv(cases_csv, index=False)
            command = [args.bin, "update", str(ALARM), "--cases", str(cases_csv), "--out", str(out_csv)]
            seconds, _ = timed(lambda: subprocess.run([*command, "--engine", "jt", "--quiet"], check=True))
            rows.append(("credence update (CSV in, CSV out)", n, seconds))
            cli = pd.read_csv(out_csv, dtype={"id": str})
            assert list(cli["id"]) == list(in_process["id"]), "the two runs disagree on the order"

            def with_files():
                read = pd.read_csv(cases_csv, dtype=str)
                net.update(read, engine="jt").to_csv(out_csv, index=False)

            seconds, _ = timed(with_files)
            rows.append(("network.update with pandas read_csv/to_csv", n, seconds))
    small = frame.head(args.peer_cases)
    seconds, _ = timed(lambda: net.update(small, engine="jt"))
    rows.append(("network.update, the peers' frame", len(small), seconds))
    rows.extend(peers(small, net))
    print(f"| run | cases | wall time (s) | cases/s |\n|---|---|---|---|")
    for name, count, seconds in rows:
        print(f"| {name} | {count:,} | {seconds:.2f} | {count / seconds:,.0f} |")


if __name__ == "__main__":
    main()

"""The in-process package against the `credence` command line on the bundled networks.

Needs the wheel installed (pip install ./python) and the `credence` binary: CREDENCE_BIN, or
target/release/credence or target/debug/credence in the checkout. Tests that compare with the
binary say SKIPPED without it. The Dask test runs a LocalCluster of worker processes.
"""

from __future__ import annotations

import json
import os
import pathlib
import pickle
import subprocess
import tempfile
import unittest

import numpy as np
import pandas as pd

import credence

ROOT = pathlib.Path(__file__).resolve().parents[2]
NETWORKS = ROOT / "networks"
ASIA = NETWORKS / "asia.bif"
ALARM = NETWORKS / "alarm.bif"


def _binary() -> str | None:
    for candidate in (
        os.environ.get("CREDENCE_BIN"),
        ROOT / "target" / "release" / "credence",
        ROOT / "target" / "debug" / "credence",
    ):
        if candidate and pathlib.Path(candidate).is_file():
            return str(candidate)
    return None


BIN = _binary()
needs_cli = unittest.skipIf(BIN is None, "SKIPPED: no credence binary (set CREDENCE_BIN)")


def cli(*args: str, ok_codes=(0,)) -> subprocess.CompletedProcess:
    done = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if done.returncode not in ok_codes:
        raise AssertionError(f"credence {' '.join(map(str, args))} exited {done.returncode}: {done.stderr}")
    return done


def cli_json(*args: str) -> dict:
    return json.loads(cli(*args, "--json").stdout)


def random_cases(network: credence.Network, n: int, seed: int, observed: float = 0.3) -> pd.DataFrame:
    """Cases with each variable observed with probability `observed`, in a random state."""
    rng = np.random.default_rng(seed)
    columns = {"id": [f"case-{i}" for i in range(n)]}
    for variable in network.variables:
        states = network.states(variable)
        picks = rng.integers(0, len(states), size=n)
        seen = rng.random(n) < observed
        columns[variable] = [states[p] if s else None for p, s in zip(picks, seen)]
    return pd.DataFrame(columns)


def cli_update(network_path, frame: pd.DataFrame, *extra: str) -> pd.DataFrame:
    """`credence update` on the frame written as CSV, its CSV output read back."""
    with tempfile.TemporaryDirectory() as tmp:
        cases = pathlib.Path(tmp) / "cases.csv"
        out = pathlib.Path(tmp) / "out.csv"
        frame.to_csv(cases, index=False)
        cli("update", network_path, "--cases", cases, "--out", out, "--quiet", *extra, ok_codes=(0, 1))
        result = pd.read_csv(out, dtype={"id": str, "error": object}, keep_default_na=False, na_values={})
    for column in result.columns:
        if column not in ("id", "error"):
            result[column] = pd.to_numeric(result[column].replace("", np.nan))
    return result


def errors(column) -> list:
    """An error column as a list: the sentence, or None for an answered case."""
    return [e if isinstance(e, str) and e else None for e in column]


class Reading(unittest.TestCase):
    def test_read_describes_the_network(self):
        net = credence.Network.read(ASIA)
        self.assertIsInstance(net.name, str)
        self.assertEqual(len(net.variables), 8)
        self.assertEqual(net.states("smoke"), ["yes", "no"])
        self.assertEqual(sorted(net.parents("either")), ["lung", "tub"])

    def test_parse_bif_and_xmlbif_give_the_same_network(self):
        bif = ASIA.read_text()
        self.assertEqual(credence.Network.parse(bif, source="asia.bif"), credence.Network.read(ASIA))
        self.assertEqual(credence.Network.parse(bif).name, "<text>")
        xml = """<?xml version="1.0"?>
<BIF VERSION="0.3"><NETWORK><NAME>garden</NAME>
<VARIABLE TYPE="nature"><NAME>rain</NAME><OUTCOME>yes</OUTCOME><OUTCOME>no</OUTCOME></VARIABLE>
<VARIABLE TYPE="nature"><NAME>wet</NAME><OUTCOME>yes</OUTCOME><OUTCOME>no</OUTCOME></VARIABLE>
<DEFINITION><FOR>rain</FOR><TABLE>0.2 0.8</TABLE></DEFINITION>
<DEFINITION><FOR>wet</FOR><GIVEN>rain</GIVEN><TABLE>0.9 0.1 0.1 0.9</TABLE></DEFINITION>
</NETWORK></BIF>"""
        garden = credence.Network.parse(xml, format="xmlbif")
        self.assertEqual(garden.variables, ["rain", "wet"])
        self.assertEqual(credence.Network.parse(xml), garden)
        p = garden.query(evidence={"wet": "yes"})["posteriors"]["rain"]["yes"]
        self.assertAlmostEqual(p, 0.18 / 0.26, delta=1e-12)

    def test_bad_input_raises_one_sentence(self):
        with self.assertRaises(credence.CredenceError) as caught:
            credence.Network.read(NETWORKS / "missing.bif")
        self.assertIn("missing.bif", str(caught.exception))
        with self.assertRaises(credence.CredenceError) as caught:
            credence.Network.parse("variable x { type discrete [ 2 ] { a, b }; }\nprobability ( x ) { table 0.5; }", format="bif")
        message = str(caught.exception)
        self.assertRegex(message, r"<text>:\d+:\d+")
        self.assertNotIn("\n", message)
        self.assertTrue(issubclass(credence.CredenceError, ValueError))
        with self.assertRaises(credence.CredenceError):
            credence.Network.parse("<BIF>", format="json")


class Queries(unittest.TestCase):
    net = credence.Network.read(ALARM)

    @needs_cli
    def test_query_equals_the_command_line(self):
        questions = [
            ({}, {}),
            ({"HRBP": "HIGH", "CO": "LOW"}, {}),
            ({"HRBP": "HIGH"}, {"BP": [0.9, 0.2, 0.1]}),
        ]
        for hard, soft in questions:
            args = [f"-e{v}={s}" for v, s in hard.items()]
            args += [f"--soft={v}={','.join(map(str, l))}" for v, l in soft.items()]
            expected = cli_json("query", ALARM, *args)
            got = self.net.query(evidence=hard, soft=soft)
            self.assertEqual(got["engine"], "ENGINE_JUNCTION_TREE")
            self.assertAlmostEqual(got["log_p_evidence"], expected["log_p_evidence"], delta=1e-12)
            self.assertEqual(list(got["posteriors"]), list(expected["posteriors"]))
            for variable, states in expected["posteriors"].items():
                for state, p in states.items():
                    self.assertAlmostEqual(got["posteriors"][variable][state], p, delta=1e-12)

    @needs_cli
    def test_a_seeded_sampler_equals_the_command_line_with_error_bars(self):
        expected = cli_json("query", ASIA, "-esmoke=yes", "--engine", "lw", "--seed", "7", "--samples", "20000", "-t", "lung")
        got = credence.Network.read(ASIA).query(
            evidence={"smoke": "yes"}, targets=["lung"], engine="lw", seed=7, samples=20000
        )
        self.assertEqual(got["engine"], "ENGINE_LIKELIHOOD_WEIGHTING")
        for state, p in expected["posteriors"]["lung"].items():
            self.assertAlmostEqual(got["posteriors"]["lung"][state], p, delta=1e-12)
        for se, state in zip(got["stderr"]["lung"], ["yes", "no"]):
            self.assertAlmostEqual(se, expected["stderr"]["lung"][state], delta=1e-12)
        for (lo, hi), state in zip(got["intervals"]["lung"], ["yes", "no"]):
            self.assertAlmostEqual(lo, expected["intervals"]["lung"][state][0], delta=1e-12)
            self.assertAlmostEqual(hi, expected["intervals"]["lung"][state][1], delta=1e-12)

    @needs_cli
    def test_errors_carry_the_command_lines_sentence(self):
        for evidence in ({"HRBP": "VERY_HIGH"}, {"HRPB": "HIGH"}):
            (variable, state), = evidence.items()
            stderr = cli("query", ALARM, f"-e{variable}={state}", ok_codes=(1, 2)).stderr
            with self.assertRaises(credence.CredenceError) as caught:
                self.net.query(evidence=evidence)
            self.assertIn(str(caught.exception), stderr)
        with self.assertRaises(credence.CredenceError):
            self.net.query(engine="fastest")

    @needs_cli
    def test_analyses_equal_the_command_line(self):
        asia = credence.Network.read(ASIA)
        evidence = {"dysp": "yes", "smoke": "yes"}
        args = ["-edysp=yes", "-esmoke=yes"]
        mpe = cli_json("mpe", ASIA, *args)
        got = asia.mpe(evidence=evidence)
        self.assertEqual(got["assignment"], mpe["assignment"])
        self.assertAlmostEqual(got["log_probability"], mpe["log_probability"], delta=1e-12)
        voi = cli_json("voi", ASIA, "-t", "lung", *args)
        got = asia.voi("lung", evidence=evidence)
        self.assertEqual([r["variable"] for r in got], [r["variable"] for r in voi["ranking"]])
        for a, b in zip(got, voi["ranking"]):
            self.assertAlmostEqual(a["mutual_information"], b["mutual_information"], delta=1e-12)
        explained = cli_json("explain", ASIA, "-t", "lung", *args)
        got = asia.explain("lung", evidence=evidence)
        self.assertEqual(got["posterior"], list(explained["posterior"].values()))
        self.assertAlmostEqual(got["conflict"], explained["conflict"]["value"], delta=1e-12)
        self.assertEqual([i["variable"] for i in got["items"]], [i["variable"] for i in explained["items"]])
        done = cli_json("query", ASIA, "--do", "smoke=yes", "-edysp=yes", "-t", "lung")
        got = asia.intervene({"smoke": "yes"}, evidence={"dysp": "yes"}, targets=["lung"])
        for state, p in done["posteriors"]["lung"].items():
            self.assertAlmostEqual(got["interventional"]["lung"][state], p, delta=1e-12)
        seen = asia.query(evidence={"dysp": "yes", "smoke": "yes"}, targets=["lung"])
        self.assertEqual(got["observational"], seen["posteriors"])


class Pickling(unittest.TestCase):
    def test_a_network_pickles_as_its_text_and_is_not_parsed_again(self):
        net = credence.Network.read(ALARM)
        before = credence._credence.cache_info()["networks"]
        data = pickle.dumps(net)
        self.assertIn(b"HYPOVOLEMIA", data)
        copy = pickle.loads(data)
        self.assertEqual(copy, net)
        self.assertEqual(credence._credence.cache_info()["networks"], before)
        q = {"evidence": {"HRBP": "HIGH"}}
        self.assertEqual(copy.query(**q), net.query(**q))


class Updates(unittest.TestCase):
    @needs_cli
    def test_update_equals_credence_update_row_by_row(self):
        net = credence.Network.read(ALARM)
        frame = random_cases(net, 400, seed=1)
        expected = cli_update(ALARM, frame)
        got = net.update(frame)
        self.assertEqual(list(got.columns), list(expected.columns))
        self.assertEqual(list(got["id"]), list(expected["id"]))
        numbers = [c for c in got.columns if c not in ("id", "error")]
        np.testing.assert_array_equal(got[numbers].to_numpy(), expected[numbers].to_numpy())
        self.assertEqual(errors(got["error"]), errors(expected["error"]))
        # Random alarm evidence is sometimes impossible: those rows carry the reason.
        self.assertTrue(any(e is not None for e in got["error"]))

    @needs_cli
    def test_bad_cells_fail_their_row_only_with_the_command_lines_sentence(self):
        asia = credence.Network.read(ASIA)
        frame = pd.DataFrame(
            {
                "id": ["ok", "state", "soft", "impossible", "likelihood", "malformed", "empty"],
                "smoke": ["yes", "maybe", None, None, None, None, ""],
                "tub": [None, None, None, "yes", None, None, None],
                "either": [None, None, None, "no", None, None, None],
                "xray": [None, None, "0.9;0.2", None, "0.5;0.5;0.5", "high;low", "  "],
            }
        )
        expected = cli_update(ASIA, frame, "-t", "lung", "-t", "bronc")
        got = asia.update(frame, targets=["lung", "bronc"])
        self.assertEqual(errors(got["error"]), errors(expected["error"]))
        np.testing.assert_array_equal(
            got.drop(columns=["id", "error"]).to_numpy(), expected.drop(columns=["id", "error"]).to_numpy()
        )
        self.assertIsNone(got["error"][0])
        self.assertIn("maybe", got["error"][1])
        self.assertIsNone(got["error"][2])
        self.assertTrue(all(e for e in got["error"][3:6]))
        self.assertIsNone(got["error"][6])

    def test_long_shape_and_arrow_input_hold_the_same_numbers(self):
        import pyarrow as pa

        asia = credence.Network.read(ASIA)
        frame = random_cases(asia, 50, seed=2, observed=0.4)
        wide = asia.update(frame, targets=["lung", "tub"])
        long = asia.update(frame, targets=["lung", "tub"], shape="long")
        answered = wide[wide["error"].isna()]
        self.assertEqual(len(long), 4 * len(answered) + (len(wide) - len(answered)))
        for _, row in long[long["error"].isna()].iterrows():
            source = wide[wide["id"] == row["id"]].iloc[0]
            self.assertEqual(row["probability"], source[f"{row['variable']}={row['state']}"])
        arrow = asia.update(pa.Table.from_pandas(frame), targets=["lung", "tub"])
        pd.testing.assert_frame_equal(arrow, wide)
        one_thread = asia.update(frame, targets=["lung", "tub"], threads=1)
        pd.testing.assert_frame_equal(one_thread, wide)

    def test_a_frame_that_names_no_variable_fails_whole(self):
        asia = credence.Network.read(ASIA)
        with self.assertRaises(credence.CredenceError) as caught:
            asia.update(pd.DataFrame({"smok": ["yes"]}))
        self.assertIn("smok", str(caught.exception))
        with self.assertRaises(credence.CredenceError):
            asia.update(pd.DataFrame({"smoke": ["yes"]}), shape="tall")


class Dask(unittest.TestCase):
    @needs_cli
    def test_a_local_cluster_answers_as_credence_update_in_order_compiling_once_per_worker(self):
        import dask.dataframe as dd
        from distributed import Client, LocalCluster

        import credence.dask

        net = credence.Network.read(ALARM)
        frame = random_cases(net, 600, seed=3)
        expected = cli_update(ALARM, frame, "-t", "HYPOVOLEMIA", "-t", "LVFAILURE")
        with LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                cases = dd.from_pandas(frame, npartitions=12)
                result = credence.dask.update(cases, net, targets=["HYPOVOLEMIA", "LVFAILURE"]).compute()
                compiled = client.run(lambda: __import__("credence")._credence.cache_info()["compilations"])
        self.assertEqual(len(compiled), 3)
        # Every worker that answered a partition compiled the network's engine exactly once.
        self.assertTrue(all(n <= 1 for n in compiled.values()), compiled)
        self.assertGreaterEqual(sum(compiled.values()), 2, compiled)
        self.assertEqual(list(result["id"]), list(expected["id"]))
        numbers = [c for c in expected.columns if c not in ("id", "error")]
        self.assertEqual(list(result.columns), list(expected.columns))
        np.testing.assert_array_equal(result[numbers].to_numpy(), expected[numbers].to_numpy())
        self.assertEqual(errors(result["error"]), errors(expected["error"]))


if __name__ == "__main__":
    unittest.main()

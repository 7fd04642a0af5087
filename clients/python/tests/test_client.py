"""The Python client against a running server (CREDENCE_ADDRESS, default 127.0.0.1:50051)
serving the bundled networks/. Run: python -m unittest discover -s clients/python/tests"""

import math
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import grpc  # noqa: E402

from credence_client import Client, pb, records  # noqa: E402


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = Client(os.environ.get("CREDENCE_ADDRESS", "127.0.0.1:50051"))

    def test_networks_are_listed(self):
        names = [n["name"] for n in self.client.networks()]
        self.assertIn("asia", names)
        self.assertIn("sino_russian_partnership", names)

    def test_query_matches_the_exact_value(self):
        answer = self.client.query("asia", evidence={"smoke": "yes"}, targets=["lung"])
        self.assertAlmostEqual(answer["posteriors"]["lung"]["yes"], 0.1, places=12)
        self.assertAlmostEqual(answer["log_p_evidence"], math.log(0.5), places=12)
        rows = records(answer, case="smoker")
        self.assertEqual(rows[0]["case"], "smoker")
        self.assertEqual({r["state"] for r in rows}, {"yes", "no"})

    def test_errors_carry_code_and_message(self):
        with self.assertRaises(grpc.RpcError) as caught:
            self.client.query("asia", evidence={"smok": "yes"})
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("did you mean 'smoke'", caught.exception.details())
        with self.assertRaises(grpc.RpcError) as caught:
            self.client.query("asia", evidence={"tub": "yes", "either": "no"})
        self.assertEqual(caught.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)

    def test_sampling_reports_error_bars(self):
        answer = self.client.query(
            "asia", evidence={"smoke": "yes"}, targets=["lung"],
            engine="ENGINE_LIKELIHOOD_WEIGHTING", samples=20000, seed=3,
        )
        stderr = answer["stderr"]["lung"][0]
        self.assertGreater(stderr, 0)
        self.assertLess(abs(answer["posteriors"]["lung"]["yes"] - 0.1), 5 * stderr)

    def test_session_revisions_and_watch(self):
        session = self.client.session("asia", "unit test")
        try:
            updates = session.watch(targets=["lung"], timeout=30)
            self.assertEqual(next(updates)["revision"], 0)
            self.assertEqual(session.observe("smoke", "yes", source="test"), 1)
            self.assertEqual(next(updates)["revision"], 1)
            self.assertAlmostEqual(session.posteriors(["lung"])["posteriors"]["lung"]["yes"], 0.1, places=12)
            self.assertAlmostEqual(session.posteriors(["lung"], revision=0)["posteriors"]["lung"]["yes"], 0.055, places=12)
            self.assertEqual([h["revision"] for h in session.history()], [1])
            ranking = session.value_of_information("lung")
            self.assertTrue(all(a["mutual_information"] >= b["mutual_information"] for a, b in zip(ranking, ranking[1:])))
        finally:
            session.delete()

    def test_history_and_sessions_follow_the_pages(self):
        session = self.client.session("asia", "pages")
        try:
            # More revisions than one page holds (500 at most).
            for i in range(520):
                session.observe("smoke", "yes" if i % 2 == 0 else "no")
            self.assertEqual([h["revision"] for h in session.history()], list(range(1, 521)))
            self.assertIn(session.id, [s.id for s in self.client.sessions()])
            self.assertEqual(len(session.network_hash), 64)
        finally:
            session.delete()

    def test_a_batch_of_100000_small_cases_runs_to_the_end(self):
        """The stock client streams small cases faster than they are answered; the server must
        neither cut the stream (GOAWAY ENHANCE_YOUR_CALM) nor lose or reorder a case."""
        n = 100_000
        states = ("yes", "no")

        def cases():
            for i in range(n):
                yield pb.QueryRequest(
                    network="asia",
                    evidence=pb.Evidence(hard={"smoke": states[i % 2]}),
                    targets=["lung"],
                    case_id=str(i),
                )

        expected = {"yes": 0.1, "no": 0.01}
        count = 0
        for answer in self.client._inference.BatchQuery(cases(), timeout=600):
            self.assertEqual(answer.index, count)
            self.assertEqual(answer.case_id, str(count))
            self.assertEqual(answer.WhichOneof("outcome"), "result", answer.error.message)
            lung = answer.result.posteriors[0]
            self.assertAlmostEqual(lung.probabilities[list(lung.states).index("yes")], expected[states[count % 2]], places=12)
            count += 1
        self.assertEqual(count, n)


if __name__ == "__main__":
    unittest.main()

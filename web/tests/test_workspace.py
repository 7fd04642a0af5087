"""The browser workspace in a real browser: Debian's Chromium driven by Playwright, against real
`credence serve` processes started here on ephemeral ports.

Run (as .ci/run does):
    CREDENCE_BIN=target/release/credence python -m unittest discover -s web/tests -v
Needs `pip install -r web/tests/requirements.txt` and a Chromium at CREDENCE_CHROMIUM
(default /usr/bin/chromium). Screenshots go to web/test-results/.
"""

import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from playwright.sync_api import sync_playwright, expect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python"))

from credence_client import Client  # noqa: E402

BIN = Path(os.environ.get("CREDENCE_BIN", ROOT / "target" / "release" / "credence"))
CHROMIUM = os.environ.get("CREDENCE_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "web" / "test-results"
TOKEN = "workspace-test-token-0123456789"
# The flags this machine needs: as root Chromium wants --no-sandbox, and with no outside
# network its background services only produce refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def thousand_node_network(path: Path, n_nodes: int = 1000, seed: int = 7) -> None:
    """A random BIF network: each node has up to two earlier parents and two or three states."""
    rng = random.Random(seed)
    lines = ["network big {}"]
    cards = [rng.choice([2, 3]) for _ in range(n_nodes)]
    for i, k in enumerate(cards):
        states = ", ".join(f"s{j}" for j in range(k))
        lines.append(f"variable v{i} {{ type discrete [ {k} ] {{ {states} }}; }}")
    for i, k in enumerate(cards):
        parents = sorted(rng.sample(range(max(0, i - 30), i), min(i, rng.choice([0, 1, 2]))))
        def column():
            weights = [rng.random() + 0.05 for _ in range(k)]
            total = sum(weights)
            return ", ".join(repr(w / total) for w in weights)
        if not parents:
            lines.append(f"probability ( v{i} ) {{ table {column()}; }}")
            continue
        rows = [[]]
        for p in parents:
            rows = [r + [f"s{j}"] for r in rows for j in range(cards[p])]
        body = " ".join(f"({', '.join(r)}) {column()};" for r in rows)
        names = ", ".join(f"v{p}" for p in parents)
        lines.append(f"probability ( v{i} | {names} ) {{ {body} }}")
    path.write_text("\n".join(lines) + "\n")


# A Hugin NET file whose positions put the child above and left of its parent, the opposite of
# what a layered layout would do, so the picture shows whose positions it used.
DRAWN_NET = """net { node_size = (80 40); }
node cause { states = ("no" "yes"); position = (400 300); label = "Cause"; }
node effect { states = ("no" "yes"); position = (100 50); }
potential (cause) { data = (0.7 0.3); }
potential (effect | cause) { data = ((0.9 0.1) (0.2 0.8)); }
"""


class Server:
    """`credence serve` on an ephemeral port, stopped with SIGTERM."""

    def __init__(self, networks: Path, extra: list[str] = ()):
        self.data = tempfile.mkdtemp(prefix="credence-web-data-")
        self.out = tempfile.NamedTemporaryFile(prefix="credence-web-", suffix=".out", delete=False)
        self.process = subprocess.Popen(
            [str(BIN), "serve", "--networks", str(networks), "--data-dir", self.data,
             "--addr", "127.0.0.1:0", *extra],
            stdout=self.out, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            text = Path(self.out.name).read_text()
            if "listening on " in text:
                self.address = text.split("listening on ", 1)[1].split()[0]
                self.url = f"http://{self.address}"
                return
            if self.process.poll() is not None:
                raise RuntimeError("the server exited at start")
            time.sleep(0.05)
        raise RuntimeError("the server did not start within 60 s")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.out.close()
        os.unlink(self.out.name)
        shutil.rmtree(self.data, ignore_errors=True)


def cli_query(network: Path, evidence: dict[str, str], soft: dict[str, list[float]] = None) -> dict:
    args = [str(BIN), "query", str(network), "--json"]
    for variable, state in evidence.items():
        args += ["-e", f"{variable}={state}"]
    for variable, values in (soft or {}).items():
        args += ["--soft", f"{variable}={','.join(map(repr, values))}"]
    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


class WorkspaceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        SHOTS.mkdir(parents=True, exist_ok=True)
        cls.networks = Path(tempfile.mkdtemp(prefix="credence-web-networks-"))
        for bif in (ROOT / "networks").glob("*.bif"):
            shutil.copy(bif, cls.networks)
        thousand_node_network(cls.networks / "big1000.bif")
        (cls.networks / "drawn.net").write_text(DRAWN_NET)
        cls.server = Server(cls.networks)
        cls.playwright = sync_playwright().start()
        cls.browser = cls.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.playwright.stop()
        cls.server.stop()
        shutil.rmtree(cls.networks, ignore_errors=True)

    def setUp(self):
        self.context = self.browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.errors = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def tearDown(self):
        self.context.close()
        self.assertEqual(self.errors, [], "the page threw")

    # -----------------------------------------------------------------------------------------

    def open(self, query: str):
        self.page.goto(f"{self.server.url}/?{query}")
        self.page.wait_for_selector(".state[data-probability]")

    def bar(self, variable: str, state: str):
        return self.page.locator(f'.state[data-variable="{variable}"][data-state="{state}"]')

    def bars(self) -> dict[tuple[str, str], float]:
        values = self.page.eval_on_selector_all(
            ".state[data-probability]",
            "els => els.map(e => [e.dataset.variable, e.dataset.state, e.dataset.probability])",
        )
        return {(v, s): float(p) for v, s, p in values}

    def assert_matches_cli(self, network: str, evidence: dict[str, str], soft=None):
        expected = cli_query(ROOT / "networks" / f"{network}.bif", evidence, soft)
        shown = self.bars()
        n_states = sum(len(states) for states in expected["posteriors"].values())
        self.assertEqual(len(shown), n_states, "every state of every variable has a bar")
        for variable, states in expected["posteriors"].items():
            for state, p in states.items():
                self.assertAlmostEqual(shown[(variable, state)], p, delta=1e-9, msg=f"{variable}={state}")
        log_p = float(self.page.locator("#log-p-evidence").get_attribute("data-log-p-evidence"))
        self.assertAlmostEqual(log_p, expected["log_p_evidence"], delta=1e-9)

    def wait_for_probability(self, variable: str, state: str, value: float):
        self.page.wait_for_function(
            """([v, s, p]) => {
                const e = document.querySelector(`.state[data-variable="${v}"][data-state="${s}"]`);
                return e && Math.abs(Number(e.dataset.probability) - p) < 1e-12;
            }""",
            arg=[variable, state, value],
        )

    # -----------------------------------------------------------------------------------------

    def test_clicks_set_and_clear_evidence_and_every_bar_matches_the_cli(self):
        self.open("network=alarm")
        self.assert_matches_cli("alarm", {})
        self.bar("HRBP", "HIGH").click()
        expect(self.bar("HRBP", "HIGH")).to_have_attribute("aria-pressed", "true")
        self.wait_for_probability("HRBP", "HIGH", 1.0)
        self.bar("CO", "LOW").click()
        expect(self.bar("CO", "LOW")).to_have_attribute("aria-pressed", "true")
        self.wait_for_probability("CO", "LOW", 1.0)
        self.assert_matches_cli("alarm", {"HRBP": "HIGH", "CO": "LOW"})
        self.assertIn("HRBP=HIGH", self.page.url.replace("%3D", "="))
        self.page.screenshot(path=str(SHOTS / "alarm-evidence.png"))
        self.bar("HRBP", "HIGH").click()  # a second click clears it
        expect(self.bar("HRBP", "HIGH")).to_have_attribute("aria-pressed", "false")
        self.page.wait_for_function("() => !location.search.includes('HRBP')")
        self.assert_matches_cli("alarm", {"CO": "LOW"})

    def test_a_deep_link_opens_exactly_that_view(self):
        self.open("network=asia&evidence=smoke=yes,xray=yes")
        self.wait_for_probability("xray", "yes", 1.0)
        self.assert_matches_cli("asia", {"smoke": "yes", "xray": "yes"})
        expect(self.page.locator('.node[data-node="smoke"]')).to_have_class(re.compile(r"\bobserved\b"))

    def test_impossible_evidence_keeps_the_previous_view_and_says_why(self):
        self.open("network=asia&evidence=tub=yes")
        self.wait_for_probability("tub", "yes", 1.0)
        before = self.bars()
        self.bar("either", "no").click()
        expect(self.page.locator("#message")).to_contain_text("impossible")
        self.assertEqual(self.bars(), before)
        self.assertEqual(self.bar("either", "no").get_attribute("aria-pressed"), "false")

    def test_a_likelihood_finding_from_the_panel(self):
        self.open("network=asia")
        self.page.locator('.node[data-node="xray"] .title').click()
        inputs = self.page.locator("#soft-inputs input")
        inputs.nth(0).fill("0.8")
        inputs.nth(1).fill("0.2")
        self.page.locator("#soft-apply").click()
        expect(self.page.locator('.node[data-node="xray"]')).to_have_class(re.compile(r"\bsoft\b"))
        self.page.wait_for_function("() => location.search.includes('soft=')")
        self.assert_matches_cli("asia", {}, soft={"xray": [0.8, 0.2]})

    def test_the_questions_answer_as_the_cli_does(self):
        self.open("network=asia&evidence=dysp=yes")
        self.page.locator('.node[data-node="lung"] .title').click()
        self.page.locator("#ask-voi").click()
        expect(self.page.locator("#answers h3")).to_contain_text("What to watch next for lung")
        voi = json.loads(subprocess.run(
            [str(BIN), "voi", str(ROOT / "networks" / "asia.bif"), "--target", "lung", "-e", "dysp=yes", "--json"],
            check=True, capture_output=True, text=True).stdout)
        shown = self.page.eval_on_selector_all("#answers tbody tr td:first-child", "els => els.map(e => e.textContent)")
        self.assertEqual(shown[:3], [r["variable"] for r in voi["ranking"][:3]])
        self.page.locator("#ask-explain").click()
        expect(self.page.locator("#answers h3")).to_contain_text("Why lung moved")
        expect(self.page.locator("#answers tbody tr")).to_have_count(1)
        self.page.locator("#do-assignment").fill("smoke=yes")
        self.page.locator("#ask-do").click()
        expect(self.page.locator("#answers th").nth(1)).to_contain_text("do(smoke=yes)")
        self.page.locator("#ask-mpe").click()
        expect(self.page.locator("#answers h3")).to_contain_text("Most probable explanation")
        mpe = json.loads(subprocess.run(
            [str(BIN), "mpe", str(ROOT / "networks" / "asia.bif"), "-e", "dysp=yes", "--json"],
            check=True, capture_output=True, text=True).stdout)
        rows = self.page.eval_on_selector_all(
            "#answers tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
        self.assertEqual(dict(rows), mpe["assignment"])

    def test_a_sampler_shows_its_intervals(self):
        self.open("network=asia&engine=lw")
        expect(self.page.locator("#engine-note")).to_contain_text("engine: lw")
        visible = self.page.eval_on_selector_all(
            ".interval", "els => els.filter(e => e.style.display === 'block').length"
        )
        self.assertGreater(visible, 0)
        self.assertIn("95% interval", self.bar("lung", "yes").get_attribute("title"))

    def test_a_session_timeline_moves_when_another_client_changes_it(self):
        client = Client(self.server.address)
        session = client.session("asia", "browser test")
        try:
            self.open(f"network=asia&session={session.id}")
            revisions = self.page.locator("#timeline rect.revision")
            expect(revisions).to_have_count(1)
            session.observe("smoke", "yes", source="Python client", note="a smoker")
            expect(revisions).to_have_count(2)
            self.wait_for_probability("smoke", "yes", 1.0)
            self.assert_matches_cli("asia", {"smoke": "yes"})
            # A change made here asks for a source and a note, and becomes a revision.
            self.bar("xray", "yes").click()
            self.page.locator("#change-source").fill("radiology report")
            self.page.locator("#change-note").fill("shadow on the film")
            self.page.locator("#change-dialog button[value=ok]").click()
            expect(revisions).to_have_count(3)
            self.wait_for_probability("xray", "yes", 1.0)
            history = session.history()
            self.assertEqual(history[-1]["source"], "radiology report")
            self.assertEqual(history[-1]["note"], "shadow on the film")
            self.page.screenshot(path=str(SHOTS / "session-timeline.png"))
            # Clicking a revision shows the network as it was then.
            self.page.locator('#timeline rect.revision[data-revision="0"]').click()
            self.wait_for_probability("smoke", "yes", 0.5)
            self.assertIn("revision=0", self.page.url)
            self.assert_matches_cli("asia", {})
        finally:
            session.delete()

    def test_a_deep_link_to_a_session_revision(self):
        client = Client(self.server.address)
        session = client.session("asia", "link test")
        try:
            session.observe("smoke", "yes", source="a")
            session.observe("dysp", "yes", source="b")
            self.open(f"network=asia&session={session.id}&revision=1")
            self.wait_for_probability("smoke", "yes", 1.0)
            self.assert_matches_cli("asia", {"smoke": "yes"})
            expect(self.page.locator("#session-info")).to_contain_text("revision 1 of 2")
        finally:
            session.delete()

    def test_the_token_prompt_when_the_server_requires_one(self):
        tokens = Path(tempfile.mkdtemp()) / "tokens"
        tokens.write_text(TOKEN + "\n")
        guarded = Server(self.networks, ["--tokens-file", str(tokens)])
        try:
            self.page.goto(f"{guarded.url}/?network=asia")
            dialog = self.page.locator("#token-dialog")
            expect(dialog).to_be_visible()
            self.page.locator("#token-input").fill(TOKEN)
            self.page.locator("#token-dialog button[value=ok]").click()
            self.page.wait_for_selector(".state[data-probability]")
            self.assert_matches_cli("asia", {})
        finally:
            guarded.stop()

    def test_positions_from_the_file_draw_the_picture(self):
        self.open("network=drawn")
        box = lambda name: self.page.locator(f'.node[data-node="{name}"]').bounding_box()
        cause, effect = box("cause"), box("effect")
        self.assertLess(effect["y"], cause["y"], "the file puts effect above cause")
        self.assertLess(effect["x"], cause["x"], "and to its left")

    def test_a_thousand_node_network_renders(self):
        started = time.time()
        self.open("network=big1000")
        expect(self.page.locator(".node")).to_have_count(1000)
        self.assertEqual(self.page.locator(".state:not([data-probability])").count(), 0)
        print(f"\n  1,000 nodes: first render in {time.time() - started:.1f} s", file=sys.stderr)
        self.page.locator("#find-input").fill("v999")
        self.page.locator("#find-input").press("Enter")
        expect(self.page.locator('.node[data-node="v999"]')).to_have_class(re.compile(r"\bselected\b"))
        self.page.screenshot(path=str(SHOTS / "thousand-nodes.png"))


if __name__ == "__main__":
    unittest.main()

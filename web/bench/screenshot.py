"""The README's picture of the workspace: the Sino-Russian network in a session that replays
the bundled (hypothetical) timeline, with the scenario's posteriors over its revisions.

    cargo build --release --bin credence
    python web/bench/screenshot.py docs/workspace.png
"""

import json
import sys
import tempfile
import shutil
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402

from test_workspace import CHROMIUM, CHROMIUM_ARGS, ROOT, Client, Server  # noqa: E402

NETWORK = "sino_russian_partnership"


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/workspace.png")
    folder = Path(tempfile.mkdtemp(prefix="credence-shot-"))
    shutil.copy(ROOT / "networks" / f"{NETWORK}.bif", folder)
    server = Server(folder)
    try:
        client = Client(server.address)
        session = client.session(NETWORK, "Hypothetical timeline (networks/*.timeline.jsonl)")
        timeline = ROOT / "networks" / f"{NETWORK}.timeline.jsonl"
        for line in timeline.read_text().splitlines():
            if not line.strip():
                continue
            step = json.loads(line)
            session.observe(step["variable"], step["state"], source=step.get("source", ""),
                            note=f"{step.get('date', '')} (hypothetical)")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(f"{server.url}/?network={NETWORK}&session={session.id}&timeline=scenario")
            page.wait_for_selector("#timeline rect.revision")
            page.wait_for_selector(".state[data-probability]")
            page.locator('.node[data-node="scenario"] .title').click()
            # The story is the point of this picture: fold the findings list away.
            page.locator("aside details").first.evaluate("d => d.open = false")
            page.wait_for_timeout(500)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
        print(f"wrote {out}")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""How fast the workspace draws, in headless Chromium against a release `credence serve`:
time to the first full render per network (page load, network description, layout, first
query, bars painted) and time from an evidence click to repainted bars.

    cargo build --release --bin credence
    python web/bench/render.py [--networks alarm,pigs,link,big1000] [--clicks 20]

Networks come from networks/ and ../shared/networks; big1000 is the tests' random 1,000-node
network. Layouts are cached in the browser by content hash, so each render here starts from a
fresh browser profile (what a first visit costs).
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402

from test_workspace import CHROMIUM, CHROMIUM_ARGS, ROOT, Server, thousand_node_network  # noqa: E402

CLICK = """async ([variable, state]) => {
    const bar = document.querySelector(`.state[data-variable="${variable}"][data-state="${state}"]`);
    const before = performance.getEntriesByName("credence:painted").length;
    const start = performance.now();
    bar.click();
    while (performance.getEntriesByName("credence:painted").length === before) {
        await new Promise((r) => setTimeout(r, 0));
    }
    await new Promise((r) => requestAnimationFrame(() => r()));
    return performance.now() - start;
}"""


def first_render(browser, url: str) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(".state[data-probability]")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r()))")
    elapsed = time.perf_counter() - started
    context.close()
    return elapsed


def clicks(browser, url: str, n_clicks: int) -> list[float]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(".state[data-probability]")
    # Alternate setting and clearing evidence on the first state of successive variables.
    targets = page.eval_on_selector_all(
        ".node", "nodes => nodes.slice(0, 10).map(n => [n.dataset.node, n.querySelector('.state').dataset.state])"
    )
    times = []
    for i in range(n_clicks):
        variable, state = targets[(i // 2) % len(targets)]
        times.append(page.evaluate(CLICK, [variable, state]))
    context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", default="alarm,pigs,link,big1000")
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--renders", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="credence-bench-"))
    names = args.networks.split(",")
    for name in names:
        if name == "big1000":
            thousand_node_network(folder / "big1000.bif")
            continue
        for place in (ROOT / "networks", ROOT.parent / "shared" / "networks"):
            if (place / f"{name}.bif").exists():
                shutil.copy(place / f"{name}.bif", folder)
                break
        else:
            print(f"SKIPPED {name}: not in networks/ nor ../shared/networks", file=sys.stderr)
    server = Server(folder)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            print("| network | nodes | first render, median of {} (s) | click to repaint, median / p90 (ms) |".format(args.renders))
            print("|---|---:|---:|---:|")
            for name in names:
                if not (folder / f"{name}.bif").exists():
                    continue
                url = f"{server.url}/?network={name}"
                # The first render ever also compiles the junction tree on the server.
                first_render(browser, url)
                renders = [first_render(browser, url) for _ in range(args.renders)]
                times = sorted(clicks(browser, url, args.clicks))
                n_nodes = (folder / f"{name}.bif").read_text().count("variable ")
                p90 = times[int(0.9 * (len(times) - 1))]
                print(f"| {name} | {n_nodes} | {statistics.median(renders):.2f} | "
                      f"{statistics.median(times):.1f} / {p90:.1f} |", flush=True)
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Before/after for a junction-tree change: two builds of the credence_cases bench binary,
run interleaved (A, B, A, B, ...) on the same networks and reference cases; prints the median
over cases of the per-case median over rounds, per network.

    python3 benches/peers/before_after.py BEFORE_BIN AFTER_BIN [--rounds 3]

Build each binary with `cargo bench --bench credence_cases --no-run` at the commit wanted and
copy it aside (the path is printed as "Executable").
"""
import json
import os
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(REPO, "..", "shared")


def main():
    before, after = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    print("| network | cases | before | after | before / after |")
    print("|---|---|---|---|---|")
    for name in ["alarm", "hepar2", "pigs", "barley", "link"]:
        cases = "0,3,4,22,24" if name == "link" else ",".join(map(str, range(25)))
        reps = "3" if name in ("barley", "link") else "10"
        runs = {before: [], after: []}
        for _ in range(rounds):
            for binary in (before, after):
                out = subprocess.run(
                    [binary, os.path.join(SHARED, "networks", name + ".bif"), os.path.join(SHARED, "refs", name + ".json"),
                     "--cases", cases, "--reps", reps],
                    check=True, capture_output=True, text=True).stdout
                runs[binary].append(json.loads(out)["jt_ms"])
        med = {b: statistics.median(statistics.median(r[c] for r in runs[b]) for c in runs[b][0]) for b in runs}
        print("| %s | %d | %.4g ms | %.4g ms | %.2f× |" % (name, len(runs[before][0]), med[before], med[after], med[before] / med[after]))


if __name__ == "__main__":
    main()

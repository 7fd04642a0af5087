"""Before/after for a junction-tree change: two builds of the credence_cases bench binary,
run interleaved (A, B, A, B, ...) on the same networks and reference cases; prints the median
over cases of the per-case median over rounds, per network, and the mean over cases (what a
bulk run of all the cases costs per case).

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
    print("| network | cases | median before | median after | before / after | mean before | mean after | before / after | cases faster by 2× or more |")
    print("|---|---|---|---|---|---|---|---|---|")
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
        per_case = {b: {c: statistics.median(r[c] for r in runs[b]) for c in runs[b][0]} for b in runs}
        med = {b: statistics.median(per_case[b].values()) for b in runs}
        mean = {b: statistics.mean(per_case[b].values()) for b in runs}
        faster = sum(per_case[before][c] >= 2 * per_case[after][c] for c in per_case[before])
        print("| %s | %d | %.4g ms | %.4g ms | %.2f× | %.4g ms | %.4g ms | %.2f× | %d |" % (
            name, len(per_case[before]), med[before], med[after], med[before] / med[after],
            mean[before], mean[after], mean[before] / mean[after], faster), flush=True)


if __name__ == "__main__":
    main()

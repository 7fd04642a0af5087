"""Credence against pyAgrum and pgmpy, side by side in one run (driven by run.sh).

On the same networks and the same reference cases (../shared/refs/NAME.json), interleaved in
rounds so that drift in the machine's load hits every engine alike, it times:

- pyAgrum 3.3.1 LazyPropagation and ShaferShenoyInference: all posteriors and P(e) per case;
- pgmpy 1.1.2 VariableElimination: all posteriors of the unobserved variables (one query per
  variable), on three cases only and under a time cap (it is slow), beside Credence's VE and JT on the same ones;
- Credence's junction tree in process (the credence_cases bench binary: compile once, then
  each case) and through the CLI's bulk mode (`credence update --engine jt`, end to end:
  process start, parse, compile, JSON in and out, divided by the number of cases);
- likelihood weighting, one thread, samples/second: Credence vs pyAgrum WeightedSampling;
- for item 5, the junction tree's memory traffic per query against a streaming copy.

Each peer runs in its own worker process (one per network and library), so that a peer that
runs out of memory or time loses its column, not the run. The result is a Markdown table of
medians and speed ratios (Credence speed / peer speed: > 1 means Credence is faster), written
to benches/peers/out/results.md, with the raw numbers in results.json.
"""

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# (name, bif, refs). The bundled asia has its own refs; the rest come from ../shared.
def networks(shared):
    found = [("asia", os.path.join(REPO, "networks/asia.bif"), os.path.join(REPO, "tests/data/refs/asia.json"))]
    for name in ["alarm", "hepar2", "pigs", "barley", "link"]:
        found.append((name, os.path.join(shared, "networks", name + ".bif"), os.path.join(shared, "refs", name + ".json")))
    return [n for n in found if os.path.exists(n[1]) and os.path.exists(n[2])]


# Cases per network: all 25 where a pass is cheap; on link (seconds per case for the peers) a
# spread of five: no evidence, 8 hard, 145 hard, soft only, 8 hard + 3 soft.
LINK_CASES = [0, 3, 4, 22, 24]
# pgmpy's three: 8 hard; the "many hard" case; 8 hard + 3 soft.
PGMPY_CASES = [3, 4, 24]
# Seconds per network for pgmpy's cases (after loading), and the same for Credence's VE.
PGMPY_CAP_S = 60
# Evidence for the samplers (reference case 3: eight hard observations), as in benches/sampling.rs.
LW_CASE = 3


def case_evidence(case):
    ev = dict(case["evidence"])
    ev.update(case["soft_evidence"])
    return ev


# ---------------------------------------------------------------------------------------------
# Workers: run in a child process, load one network once, answer commands on stdin with JSON.

def pyagrum_load(bif, renumber_above):
    """Loads with pyAgrum. Where pyAgrum's own triangulation of the file's node order makes a
    junction tree over `renumber_above` entries (link: 1.3e9 entries, out of memory), the nodes
    are renumbered: the BN is rebuilt with its nodes added in each of eight seeded random orders
    (numpy default_rng(seed).permutation, seeds 0-7) and the order with the smallest junction
    tree by pyAgrum's own count is kept. pyAgrum's triangulation depends on node numbering
    (ties); Credence's does not need this. The choice is reported."""
    import numpy as np
    import pyagrum as gum

    bn = gum.loadBN(bif)

    def jt_entries(b):
        jt = gum.LazyPropagation(b).junctionTree()
        total = 0
        for c in jt.nodes():
            size = 1
            for v in jt.clique(c):
                size *= b.variable(v).domainSize()
            total += size
        return total

    def renumbered(order):
        out = gum.BayesNet(bn.property("name") if False else "renumbered")
        for n in order:
            out.add(bn.variable(n))
        for n in order:
            for p in bn.parents(n):
                out.addArc(bn.variable(p).name(), bn.variable(n).name())
        for n in order:
            name = bn.variable(n).name()
            out.cpt(name).fillWith(bn.cpt(name))
        return out

    entries = jt_entries(bn)
    note = "file order, junction tree %.2g entries" % entries
    if entries > renumber_above:
        best = None
        for seed in range(8):
            order = [int(x) for x in np.random.default_rng(seed).permutation(sorted(bn.nodes()))]
            candidate = renumbered(order)
            e = jt_entries(candidate)
            if best is None or e < best[0]:
                best = (e, seed, candidate)
        note = "renumbered: file order gives %.2g junction-tree entries; default_rng(%d) order gives %.2g (best of seeds 0-7)" % (entries, best[1], best[0])
        bn = best[2]
    return bn, note


def worker_pyagrum(bif, refs_path, cases):
    import pyagrum as gum

    gum.setNumberOfThreads(1)
    refs = json.load(open(refs_path))
    bn, note = pyagrum_load(bif, 5e8)
    names = list(bn.names())
    print(json.dumps({"ready": True, "note": note}), flush=True)
    engines = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] in ("lp", "ss"):
            if cmd["op"] not in engines:
                # Built once and kept across rounds, as Credence's compiled tree is; the first
                # case is answered once untimed so that building is not charged to it.
                ie = gum.LazyPropagation(bn) if cmd["op"] == "lp" else gum.ShaferShenoyInference(bn)
                ie.setNumberOfThreads(1)
                ie.setEvidence(case_evidence(refs["cases"][cases[0]]))
                ie.makeInference()
                engines[cmd["op"]] = ie
            ie = engines[cmd["op"]]
            times, errors = {}, []
            deadline = time.perf_counter() + cmd["cap_s"]
            for c in cases:
                case = refs["cases"][c]
                start = time.perf_counter()
                ie.eraseAllEvidence()
                ie.setEvidence(case_evidence(case))
                ie.makeInference()
                p_e = ie.evidenceProbability()
                for n in names:
                    ie.posterior(n)
                times[c] = (time.perf_counter() - start) * 1e3
                errors.append(abs(math.log(p_e) - case["log_p_evidence"]))
                if time.perf_counter() > deadline:
                    break
            print(json.dumps({"ms": times, "max_ln_pe_error": max(errors)}), flush=True)
        elif cmd["op"] == "lw":
            ws = gum.WeightedSampling(bn)
            ws.setVerbosity(False)
            ws.setEvidence(refs["cases"][LW_CASE]["evidence"])
            # A fixed sample count: epsilon tiny so that convergence never stops it first, a
            # large period so that the convergence check costs little, and a time cap.
            ws.setEpsilon(1e-300)
            ws.setMinEpsilonRate(1e-300)
            ws.setPeriodSize(1000)
            ws.setMaxIter(cmd["samples"])
            ws.setMaxTime(cmd["cap_s"])
            start = time.perf_counter()
            ws.makeInference()
            elapsed = time.perf_counter() - start
            print(json.dumps({"samples_per_s": ws.nbrIterations() / elapsed, "samples": ws.nbrIterations()}), flush=True)


def worker_pgmpy(bif, refs_path, cases, cap_s):
    """One pass over `cases`, printing each case's time as it completes (the parent kills the
    process at its time cap and keeps what was printed)."""
    import logging

    logging.disable(logging.WARNING)
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.readwrite import BIFReader

    refs = json.load(open(refs_path))
    model = BIFReader(bif).get_model()
    ve = VariableElimination(model)
    print(json.dumps({"ready": True}), flush=True)
    for c in cases:
        case = refs["cases"][c]
        hard = case["evidence"]
        virtual = [
            TabularCPD(v, len(lik), [[x] for x in lik], state_names={v: model.get_cpds(v).state_names[v]})
            for v, lik in case["soft_evidence"].items()
        ]
        targets = [v for v in model.nodes() if v not in hard]
        start = time.perf_counter()
        # One query per variable: with several variables, pgmpy 1.1.2 contracts their joint
        # (joint=False only marginalises it afterwards), which on alarm asks for 115 GiB.
        for v in targets:
            ve.query([v], evidence=hard, virtual_evidence=virtual or None, show_progress=False)
        print(json.dumps({"case": c, "ms": (time.perf_counter() - start) * 1e3}), flush=True)


# ---------------------------------------------------------------------------------------------
# The parent: spawns workers, interleaves rounds, writes the table.

def limit_memory():
    # Three quarters of physical memory: a peer that needs more fails alone instead of taking
    # the machine (and the other processes on it) down.
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    resource.setrlimit(resource.RLIMIT_AS, (int(total * 0.75), int(total * 0.75)))


class Worker:
    def __init__(self, args):
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker"] + args,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, preexec_fn=limit_memory,
        )
        self.hello = self.read()

    def read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("worker died (exit %s)" % self.proc.wait())
        return json.loads(line)

    def ask(self, cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()


def run_pgmpy(bif, refs, cases, cap_s):
    proc = subprocess.Popen(
        [sys.executable, __file__, "--worker", "pgmpy", bif, refs, ",".join(map(str, cases)), str(cap_s)],
        stdout=subprocess.PIPE, text=True, preexec_fn=limit_memory,
    )
    times, started = {}, None
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.time() + cap_s + 120  # loading the BIF with pgmpy takes up to a minute
    while time.time() < deadline:
        if not sel.select(timeout=max(0.0, deadline - time.time())):
            break
        line = proc.stdout.readline()
        if not line:
            break
        msg = json.loads(line)
        if msg.get("ready"):
            started = time.time()
            deadline = min(deadline, started + cap_s)
        else:
            times[msg["case"]] = msg["ms"]
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    return times


def run_credence_cases(binary, bif, refs, cases, reps, ve_cases=None, lw_samples=None):
    cmd = [binary, bif, refs, "--cases", ",".join(map(str, cases)), "--reps", str(reps)]
    if ve_cases:
        cmd += ["--ve-cases", ",".join(map(str, ve_cases)), "--ve-cap-s", str(PGMPY_CAP_S)]
    if lw_samples:
        cmd += ["--lw-samples", str(lw_samples), "--lw-case", str(LW_CASE)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def run_cli_bulk(credence, bif, refs_path, cases, workdir, name):
    refs = json.load(open(refs_path))
    cases_file = os.path.join(workdir, name + ".cases.jsonl")
    with open(cases_file, "w") as f:
        for c in cases:
            case = refs["cases"][c]
            f.write(json.dumps({"id": c, "evidence": case["evidence"], "soft_evidence": case["soft_evidence"]}) + "\n")
    out_file = os.path.join(workdir, name + ".out.jsonl")
    start = time.perf_counter()
    subprocess.run([credence, "update", bif, "--cases", cases_file, "--out", out_file, "--engine", "jt"],
                   check=True, capture_output=True)
    return (time.perf_counter() - start) * 1e3 / len(cases)


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def per_case_median(rounds, cases):
    """Median over rounds per case, then median over the cases (those any round answered)."""
    per_case = []
    for c in cases:
        vs = [r[c] for r in rounds if c in r]
        if vs:
            per_case.append(statistics.median(vs))
    return statistics.median(per_case) if per_case else None


def fmt_ms(ms):
    if ms is None:
        return "—"
    if ms >= 1000:
        return "%.2f s" % (ms / 1000)
    if ms >= 10:
        return "%.0f ms" % ms
    if ms >= 1:
        return "%.1f ms" % ms
    if ms >= 0.01:
        return "%.0f µs" % (ms * 1000)
    return "%.1f µs" % (ms * 1000)


def fmt_ratio(credence_ms, peer_ms):
    if credence_ms is None or peer_ms is None:
        return "—"
    r = peer_ms / credence_ms
    return "%.0f×" % r if r >= 10 else "%.1f×" % r


def fmt_rate(r):
    if r is None:
        return "—"
    if r >= 1e6:
        return "%.2f M/s" % (r / 1e6)
    if r >= 1e3:
        return "%.0f k/s" % (r / 1e3)
    return "%.0f /s" % r


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return "%s, %d cores, %.0f GiB, %s %s, Python %s" % (
        cpu, os.cpu_count(), mem, platform.system(), platform.release(), platform.python_version())


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, bif, refs, cases = sys.argv[2], sys.argv[3], sys.argv[4], [int(c) for c in sys.argv[5].split(",")]
        if kind == "pyagrum":
            worker_pyagrum(bif, refs, cases)
        else:
            worker_pgmpy(bif, refs, cases, float(sys.argv[6]))
        return

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--credence", required=True, help="the release credence binary")
    ap.add_argument("--cases-bin", required=True, help="the credence_cases bench binary")
    ap.add_argument("--bandwidth-bin", required=True, help="the bandwidth bench binary")
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared"))
    ap.add_argument("--quick", action="store_true", help="one round, five cases per network")
    ap.add_argument("--networks", help="comma-separated subset")
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--command", default="benches/peers/run.sh", help="recorded in the output")
    ap.add_argument("--resume", action="store_true",
                    help="keep the networks an interrupted run saved in out/results.partial.json")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    rounds = 1 if args.quick else 3
    t_start = time.time()
    selected = networks(args.shared)
    if args.networks:
        wanted = args.networks.split(",")
        selected = [n for n in selected if n[0] in wanted]

    import numpy, pgmpy, pyagrum  # noqa: F401  (versions for the record)

    results = {"machine": machine(), "command": args.command, "quick": args.quick, "rounds": rounds,
               "versions": {"pyagrum": pyagrum.__version__, "pgmpy": pgmpy.__version__},
               "networks": {}}
    partial = os.path.join(args.out, "results.partial.json")
    if args.resume and os.path.exists(partial):
        results = json.load(open(partial))
        for rec in results["networks"].values():
            for key in ("jt", "lp", "ss"):
                rec[key] = [{int(k): v for k, v in r.items()} for r in rec[key]]
            rec["pgmpy"] = {int(k): v for k, v in rec["pgmpy"].items()}
            if "ve" in rec:
                rec["ve"] = {int(k): v for k, v in rec["ve"].items()}
        results["resumed"] = results.get("resumed", 0) + 1
        t_start -= results.get("elapsed_s", 0)
        selected = [n for n in selected if n[0] not in results["networks"]]
        print("resuming: %s already measured" % ", ".join(results["networks"]), flush=True)
    else:
        bw = json.loads(subprocess.run([args.bandwidth_bin], check=True, capture_output=True, text=True).stdout)
        results["bandwidth"] = bw
    bw = results["bandwidth"]
    print("memory bandwidth: copy %.1f GB/s, read %.1f GB/s" % (bw["copy_bytes_per_s"] / 1e9, bw["read_bytes_per_s"] / 1e9), flush=True)

    for name, bif, refs in selected:
        n_cases = len(json.load(open(refs))["cases"])
        cases = LINK_CASES if name == "link" else list(range(n_cases))
        if args.quick:
            cases = [c for c in LINK_CASES if c < n_cases]
        big = name in ("barley", "link")
        reps = 3 if big else 10
        # Per pass of all cases, beyond which a peer's later rounds are dropped.
        cap_s = 300 if name == "link" else 120
        lw_samples = 20_000 if name == "link" else 200_000
        pg_cases = [c for c in PGMPY_CASES if c < n_cases]
        print("%s: %d cases x %d rounds" % (name, len(cases), rounds), flush=True)
        rec = {"cases": cases, "pgmpy_cases": pg_cases, "lp": [], "ss": [], "jt": [], "cli": [], "lw_credence": [],
               "lw_pyagrum": []}
        try:
            pa = Worker(["pyagrum", bif, refs, ",".join(map(str, cases))])
            rec["pyagrum_load"] = pa.hello["note"]
        except Exception as e:  # noqa: BLE001
            pa = None
            rec["pyagrum_load"] = "failed: %s" % e
        skip = set()
        for r in range(rounds):
            # Rotate the order each round so that no engine always runs first.
            steps = ["lp", "ss", "credence", "cli", "lw"]
            steps = steps[r % len(steps):] + steps[:r % len(steps)]
            for step in steps:
                if step in ("lp", "ss") and pa and step not in skip:
                    t0 = time.time()
                    try:
                        res = pa.ask({"op": step, "cap_s": cap_s})
                        rec[step].append({int(k): v for k, v in res["ms"].items()})
                        rec[step + "_ln_pe_error"] = res["max_ln_pe_error"]
                    except Exception as e:  # noqa: BLE001
                        # Out of memory or crashed: this column is lost, the others go on
                        # with a fresh worker.
                        rec[step + "_failed"] = str(e)
                        skip.add(step)
                        pa.close()
                        pa = Worker(["pyagrum", bif, refs, ",".join(map(str, cases))])
                    if time.time() - t0 > cap_s:
                        skip.add(step)
                elif step == "credence":
                    res = run_credence_cases(args.cases_bin, bif, refs, cases, reps,
                                             ve_cases=pg_cases if r == 0 else None, lw_samples=lw_samples)
                    rec["jt"].append({int(k): v for k, v in res["jt_ms"].items()})
                    rec["lw_credence"].append(res["lw_samples_per_s"])
                    rec["compile_ms"] = rec.get("compile_ms", []) + [res["compile_ms"]]
                    rec["traffic"] = res["traffic"]
                    rec["total_clique_entries"] = res["total_clique_entries"]
                    rec["largest_clique_entries"] = res["largest_clique_entries"]
                    if res["ve_ms"]:
                        rec["ve"] = {int(k): v for k, v in res["ve_ms"].items()}
                elif step == "cli":
                    rec["cli"].append(run_cli_bulk(args.credence, bif, refs, cases, args.out, name))
                elif step == "lw" and pa and "lw" not in skip:
                    try:
                        res = pa.ask({"op": "lw", "samples": lw_samples // 10, "cap_s": 20})
                        rec["lw_pyagrum"].append(res["samples_per_s"])
                    except Exception as e:  # noqa: BLE001
                        rec["lw_failed"] = str(e)
                        skip.add("lw")
        if pa:
            pa.close()
        rec["pgmpy"] = run_pgmpy(bif, refs, pg_cases, PGMPY_CAP_S)
        results["networks"][name] = rec
        print("  done in %.0f s total" % (time.time() - t_start), flush=True)
        # Saved after every network, so that an interrupted run keeps what it measured.
        results["elapsed_s"] = time.time() - t_start
        with open(os.path.join(args.out, "results.partial.json"), "w") as f:
            json.dump(results, f, indent=1)

    results["elapsed_s"] = time.time() - t_start
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    md = render(results)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(md)
    print(md)


def render(results):
    lines = []
    bw = results["bandwidth"]
    lines.append("Machine: %s. Memory bandwidth (one thread, 1 GiB streaming copy, bytes read + written): %.1f GB/s; streaming read: %.1f GB/s." % (
        results["machine"], bw["copy_bytes_per_s"] / 1e9, bw["read_bytes_per_s"] / 1e9))
    lines.append("")
    lines.append("Command: `%s` (%s; %d round%s, interleaved; pyAgrum %s, pgmpy %s; total %.0f s%s)." % (
        results["command"], "quick" if results["quick"] else "full", results["rounds"], "" if results["rounds"] == 1 else "s",
        results["versions"]["pyagrum"], results["versions"]["pgmpy"], results["elapsed_s"],
        "; interrupted and resumed %d time%s with `--resume`, which keeps whole networks" % (
            results["resumed"], "" if results["resumed"] == 1 else "s") if results.get("resumed") else ""))
    lines.append("")
    lines.append("**Exact inference, all posteriors and P(e) per case** (median over cases of the per-case median over rounds; one thread). "
                 "Ratios are Credence's speed over the peer's (peer time / Credence time): above 1, Credence is faster.")
    lines.append("")
    lines.append("| network | cases | Credence JT (in process) | Credence JT (CLI bulk, end to end) | pyAgrum LazyPropagation | LP / Credence | pyAgrum ShaferShenoy | SS / Credence |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for name, rec in results["networks"].items():
        jt = per_case_median(rec["jt"], rec["cases"])
        lp = per_case_median(rec["lp"], rec["cases"]) if rec["lp"] else None
        ss = per_case_median(rec["ss"], rec["cases"]) if rec["ss"] else None
        # Compare on the cases the peer answered (a capped peer may have stopped early).
        def same(peer_rounds):
            answered = sorted({c for r in peer_rounds for c in r})
            return per_case_median(rec["jt"], answered) if answered else None
        lines.append("| %s | %d | %s | %s | %s%s | %s | %s%s | %s |" % (
            name, len(rec["cases"]), fmt_ms(jt), fmt_ms(med(rec["cli"])),
            fmt_ms(lp), "" if lp is None or len({c for r in rec["lp"] for c in r}) == len(rec["cases"]) else " (capped)",
            fmt_ratio(same(rec["lp"]), lp),
            fmt_ms(ss), "" if ss is None or len({c for r in rec["ss"] for c in r}) == len(rec["cases"]) else " (capped)",
            fmt_ratio(same(rec["ss"]), ss)))
    lines.append("")
    lines.append("**Variable elimination, all posteriors** (pgmpy's three cases %s, one run each, one query per variable, %d-s cap per network for each library; the ratios compare the cases both finished)." % (
        PGMPY_CASES, PGMPY_CAP_S))
    lines.append("")
    lines.append("| network | pgmpy VariableElimination | Credence VE | VE / pgmpy | Credence JT, same cases | JT / pgmpy |")
    lines.append("|---|---|---|---|---|---|")
    for name, rec in results["networks"].items():
        pg = rec["pgmpy"]
        answered = sorted(int(c) for c in pg)
        ve_answered = [c for c in answered if c in rec.get("ve", {})]
        pgm = statistics.median(pg[c] for c in ve_answered) if ve_answered else (statistics.median(pg.values()) if pg else None)
        ve = statistics.median([rec["ve"][c] for c in ve_answered]) if ve_answered else None
        jt = per_case_median(rec["jt"], answered) if answered else None
        note = "" if len(answered) == len(rec["pgmpy_cases"]) else " (%d of %d cases in the cap)" % (len(answered), len(rec["pgmpy_cases"]))
        lines.append("| %s | %s%s | %s | %s | %s | %s |" % (name, fmt_ms(pgm), note, fmt_ms(ve), fmt_ratio(ve, pgm), fmt_ms(jt), fmt_ratio(jt, pgm)))
    lines.append("")
    lines.append("**Likelihood weighting, one thread** (reference case %d, samples/second; Credence `--engine lw --threads 1` in process, pyAgrum WeightedSampling)." % LW_CASE)
    lines.append("")
    lines.append("| network | Credence | pyAgrum | Credence / pyAgrum |")
    lines.append("|---|---|---|---|")
    for name, rec in results["networks"].items():
        c, p = med(rec["lw_credence"]), med(rec["lw_pyagrum"])
        ratio = "—" if not c or not p else ("%.0f×" % (c / p))
        lines.append("| %s | %s | %s | %s |" % (name, fmt_rate(c), fmt_rate(p), ratio))
    lines.append("")
    lines.append("**Memory traffic of a junction-tree query** (median over the cases: clique-table entries read or written, summed over every pass, and the bytes they move; achieved = bytes / Credence's time).")
    lines.append("")
    lines.append("| network | clique-table entries (compiled) | entries touched per query | bytes per query | achieved | of copy bandwidth |")
    lines.append("|---|---|---|---|---|---|")
    for name, rec in results["networks"].items():
        per = []
        for c in rec["cases"]:
            t = rec["traffic"][str(c)]
            ms = statistics.median([r[c] for r in rec["jt"] if c in r])
            per.append((t["entries"], t["bytes"], t["bytes"] / (ms / 1e3)))
        entries = statistics.median(p[0] for p in per)
        nbytes = statistics.median(p[1] for p in per)
        rate = statistics.median(p[2] for p in per)
        lines.append("| %s | %.2g | %.2g | %s | %.1f GB/s | %.0f%% |" % (
            name, rec["total_clique_entries"], entries, fmt_bytes(nbytes), rate / 1e9, 100 * rate / bw["copy_bytes_per_s"]))
    lines.append("")
    lines.append("pyAgrum loading: " + "; ".join("%s: %s" % (n, r.get("pyagrum_load")) for n, r in results["networks"].items()) + ".")
    fails = ["%s %s: %s" % (n, k, v) for n, r in results["networks"].items() for k, v in r.items() if k.endswith("_failed")]
    if fails:
        lines.append("")
        lines.append("Failures: " + "; ".join(fails) + ".")
    errs = ["%s %s %.1e" % (n, k.split("_")[0], v) for n, r in results["networks"].items() for k, v in r.items() if k.endswith("_ln_pe_error")]
    lines.append("")
    lines.append("Largest |ln P(e) − reference| seen from pyAgrum (a check that it answered the same question): " + ", ".join(errs) + ".")
    return "\n".join(lines) + "\n"


def fmt_bytes(b):
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= scale:
            return "%.1f %s" % (b / scale, unit)
    return "%.0f B" % b


if __name__ == "__main__":
    main()

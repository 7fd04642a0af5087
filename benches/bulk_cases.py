"""Generates N alarm evidence cases as JSON lines for measuring `credence update`.

Hard evidence is a random subset of a forward-sampled reference case (so always possible),
soft evidence with random weights sits on one more variable (so nearly every case is
distinct), and 20% of the rows repeat one of 50 popular rows, as real batches do.

    python3 benches/bulk_cases.py 1000000 > cases1m.jsonl

Needs ../shared/refs/alarm.json beside the checkout.
"""
import json
import pathlib
import random
import sys

n = int(sys.argv[1])
refs = pathlib.Path(__file__).resolve().parent.parent.parent / "shared" / "refs" / "alarm.json"
ref = json.loads(refs.read_text())
variables = ref["variables"]
bases = [c["evidence"] for c in ref["cases"] if c["k_hard"] >= 3]
rng = random.Random(7)


def case():
    base = rng.choice(bases)
    keys = [k for k in base if rng.random() < 0.6] or [next(iter(base))]
    hard = {k: base[k] for k in keys}
    var = rng.choice([v for v in variables if v not in hard])
    soft = {var: [round(rng.uniform(0.1, 1.0), 3) for _ in variables[var]]}
    return {"evidence": hard, "soft_evidence": soft}


popular = [case() for _ in range(50)]
for i in range(n):
    c = rng.choice(popular) if rng.random() < 0.2 else case()
    sys.stdout.write(json.dumps({"id": i, **c}, separators=(",", ":")) + "\n")

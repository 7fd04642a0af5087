#!/usr/bin/env bash
# Credence against pyAgrum and pgmpy on the same networks and cases, in one run.
#
#   benches/peers/run.sh            # full run (about 20 minutes on a 2-core machine)
#   benches/peers/run.sh --quick    # one round, five cases per network
#   benches/peers/run.sh --networks alarm,barley
#
# Needs python3 (with venv) and network access to PyPI on the first run; networks and
# reference cases from ../shared beside the checkout. Writes benches/peers/out/results.md
# (the table) and results.json (every timing).
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=benches/peers/.venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# Pinned: the versions the reference posteriors were computed with.
if ! "$venv/bin/python" -c 'import pyagrum, pgmpy, sys; sys.exit(pyagrum.__version__ != "3.3.1" or pgmpy.__version__ != "1.1.2")' 2>/dev/null; then
    "$venv/bin/pip" install --quiet pyagrum==3.3.1 pgmpy==1.1.2
fi

# One cargo invocation builds the CLI and both helper binaries with the release profile
# (building the binary separately would rebuild dependencies with other features).
executables=$(cargo bench --bench credence_cases --bench bandwidth --no-run --message-format=json 2>/dev/null \
    | "$venv/bin/python" -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] in ("credence_cases", "bandwidth", "credence"):
        print(m["target"]["name"], m["executable"])
')
exe() { echo "$executables" | awk -v n="$1" '$1 == n {print $2}'; }
credence=$(exe credence)
if [ -z "$credence" ]; then
    # Not rebuilt in this invocation: it is where cargo put it.
    credence=target/release/credence
fi

exec "$venv/bin/python" benches/peers/peers.py \
    --credence "$credence" --cases-bin "$(exe credence_cases)" --bandwidth-bin "$(exe bandwidth)" \
    --command "benches/peers/run.sh $*" "$@"

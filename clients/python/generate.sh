#!/usr/bin/env bash
# Regenerates the Python stubs from ../../proto (run after changing the .proto; CI checks that
# the committed stubs match). Needs grpcio-tools (pip install -r requirements-dev.txt).
# Usage: ./generate.sh [OUTPUT_DIR]   (default: this directory)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here}"
mkdir -p "$out"
python -m grpc_tools.protoc -I "$here/../../proto" \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  credence/v1/credence.proto
# `credence` is one package in two portions, these stubs and the in-process wheel (../../python):
# both portions share one __init__, which joins them whichever is first on sys.path.
cp "$here/../../python/credence/__init__.py" "$out/credence/__init__.py"
touch "$out/credence/v1/__init__.py"

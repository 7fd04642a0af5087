"""Executes every notebook here headless against a running server (CREDENCE_ADDRESS) and fails
on the first cell error. Outputs are not written back: the committed notebooks stay clean."""

import pathlib
import sys

import nbformat
from nbclient import NotebookClient

here = pathlib.Path(__file__).resolve().parent
failures = 0
for path in sorted(here.glob("*.ipynb")):
    notebook = nbformat.read(path, as_version=4)
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(here)}}).execute()
        print(f"notebook {path.name}: all {len(notebook.cells)} cells ran")
    except Exception as error:  # nbclient raises CellExecutionError with the cell's traceback
        failures += 1
        print(f"notebook {path.name} FAILED:\n{error}", file=sys.stderr)
sys.exit(1 if failures else 0)

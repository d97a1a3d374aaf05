"""Runs `deblur` in a fresh interpreter, so huggingface_hub reads HF_* from the real environment at import,
after pointing the saphnet-test record at the test's repo: `python cli_driver.py '<record json>' ARGS`."""

from __future__ import annotations

import dataclasses
import json
import sys

from deblur_cli.cli import app
from deblur_cli.weights import PRETRAINED

if __name__ == "__main__":
    changes = json.loads(sys.argv[1])
    PRETRAINED["saphnet-test"] = dataclasses.replace(PRETRAINED["saphnet-test"], **changes)
    app(sys.argv[2:], prog_name="deblur")

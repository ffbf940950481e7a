"""Loads Bespoke's HF exports with transformers and compares their logits with Bespoke's.

Usage: python3 hf_export_check.py WORK_DIR FAMILY... > report.json
WORK_DIR/<family>/export is a `bespoke export --to hf` directory of WORK_DIR/<family>/source, WORK_DIR/<family>/ids.safetensors
the input ids and WORK_DIR/<family>/bespoke.safetensors Bespoke's fp32 logits for them.
transformers is the oracle here; Bespoke itself never imports it.
"""
import json
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM


def check(work, family):
    base = f"{work}/{family}"
    ids = load_file(f"{base}/ids.safetensors")["input_ids"]
    ours = load_file(f"{base}/bespoke.safetensors")["logits"]
    model = AutoModelForCausalLM.from_pretrained(f"{base}/export", dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        theirs = model(input_ids=ids).logits.float()
    diff = (theirs - ours).abs().max().item()
    return {"family": family, "class": type(model).__name__, "max_abs_diff": diff,
            "same_argmax": bool((theirs.argmax(-1) == ours.argmax(-1)).all()),
            "ok": diff < 1e-4}


def source_loads(path):
    """Whether transformers loads the directory the export was made from (else: not ours)."""
    try:
        AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        return True
    except Exception as e:
        return f"{type(e).__name__}: {e}"


def main():
    work, families = sys.argv[1], sys.argv[2:]
    results = []
    for family in families:
        try:
            results.append(check(work, family))
        except Exception as e:  # report every family, not just the first failure
            results.append({"family": family, "ok": False, "error": f"{type(e).__name__}: {e}",
                            "source_loads": source_loads(f"{work}/{family}/source")})
    json.dump(results, sys.stdout, indent=1)
    print()
    sys.exit(0 if all(r["ok"] for r in results) else 1)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# The checks that need a CUDA machine with PyTorch and transformers installed (no network).
# Builds Bespoke against the torch wheel's libtorch, then runs the steps named (default: all):
#   tests  the tests that run on CUDA where a GPU is present: the fixtures on the device, the
#          RMSNorm and RoPE backwards, the fused AdamW step, process groups (NCCL; two processes
#          need two GPUs), a CPU checkpoint resumed on the GPU. The llama.cpp and SentencePiece oracles are not there, so their tests are left out
#   hf     every fixture's HF export loaded in transformers, logits compared
#          (tools/oracle/hf_export_check.py)
#   bench  bench_train on DESIGN.md's LLaMA 1.3B shape in bf16 against HF transformers
#          (tools/bench/hf_train_step.py) in the same run; bench_l0: a mask-learning step
#          against a plain step on the GPU, and frozen-weight mask learning on a Llama 3 8B
#          shape in bf16 (peak memory, tokens/s)
# Header-only and small libraries the machine lacks come from DEPS (Debian packages unpacked
# with dpkg -x); results go to OUT.
# Usage: scripts/gpu_check.sh DEPS OUT [tests] [hf] [bench]
set -uo pipefail
cd "$(dirname "$0")/.."
deps=$(realpath "$1")/usr
out=$2
shift 2
steps="${*:-tests hf bench}"
mkdir -p "$out"
export LD_LIBRARY_PATH=$deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'

step() { echo "== $* ($(date +%T))"; }
# One PASS/FAIL line per step at the end; the script exits non-zero when any step failed.
results=()
failed=0
record() { if [[ $2 == 0 ]]; then results+=("PASS $1"); else results+=("FAIL $1 (exit $2)"); failed=1; fi; }
summary() { step summary; printf '%s\n' "${results[@]}"; exit "$failed"; }
# The wheel's NCCL headers (pip package nvidia-nccl), for the NCCL process group.
nccl_include=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "include"))' 2>/dev/null)
extra_flags="-isystem $deps/include${nccl_include:+ -isystem $nccl_include}"
step configure
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DBESPOKE_BUILD_FUZZ=OFF \
  "-DCMAKE_PREFIX_PATH=$torch_prefix;$deps" "-DCMAKE_CXX_FLAGS=$extra_flags" \
  > "$out/configure.log" 2>&1
rc=$?
record configure $rc
if [[ $rc != 0 ]]; then tail -40 "$out/configure.log"; record build skipped; summary; fi
grep -E "BESPOKE_HAS_NCCL" "$out/configure.log"
step build
cmake --build build-gpu -j"$(nproc)" --target bespoke_cli bespoke_tests bench_train bench_l0 > "$out/build.log" 2>&1
rc=$?
record build $rc
if [[ $rc != 0 ]]; then grep -B2 -A12 "error" "$out/build.log" | head -150; summary; fi

if [[ " $steps " == *" tests "* ]]; then
  step tests
  # Every case that needs CUDA has "cuda" or "Cuda" in its name (and skips where there is none).
  # Line-buffered so that a crash still leaves the name of the test that was running.
  stdbuf -oL -eL build-gpu/tests/bespoke_tests \
    --gtest_filter='*cuda*:*Cuda*' \
    > "$out/tests_cuda.log" 2>&1
  rc=$?
  echo "cuda tests: exit $rc"
  record tests $rc
  grep -E "FAILED|PASSED|max \||Expected|Which" "$out/tests_cuda.log" | head -80
fi

if [[ " $steps " == *" hf "* ]]; then
  step hf-export
  work=$(mktemp -d)
  export_rc=0
  families=(llama mistral qwen2 qwen3 gemma2 gemma3 gemma4 gemma4_full phi3 olmo2 granite)
  for f in "${families[@]}"; do
    mkdir -p "$work/$f"
    fixture=tests/fixtures/hf/$f
    ln -s "$PWD/$fixture" "$work/$f/source"
    python3 -c "from safetensors.torch import load_file, save_file; \
save_file({'input_ids': load_file('$fixture/reference.safetensors')['input_ids']}, '$work/$f/ids.safetensors')"
    build-gpu/bespoke export "$fixture" --to hf --out "$work/$f/export" &&
      build-gpu/bespoke logits "$work/$f/export" --ids "$work/$f/ids.safetensors" --out "$work/$f/bespoke.safetensors" || export_rc=1
  done
  python3 tools/oracle/hf_export_check.py "$work" "${families[@]}" | tee "$out/hf_export.json"
  rc=${PIPESTATUS[0]}
  echo "hf export check exit $rc"
  [[ $rc == 0 && $export_rc == 0 ]] || rc=${rc/#0/1}
  record hf $rc
fi

if [[ " $steps " == *" bench "* ]]; then
  step bench
  build-gpu/bench/bench_train --shape 1.3b --device cuda --dtype bf16 --batch 8 --micro-batch 4 --seq-len 2048 \
    --micro-batch 8 --steps 6 --work /tmp/bespoke-bench-train \
    --baseline "python3 tools/bench/hf_train_step.py --shape 1.3b --batch 8 --seq-len 2048 --steps 6" 2>&1 |
    tee "$out/bench_train.json"
  record bench "${PIPESTATUS[0]}"
  build-gpu/bench/bench_l0 --device cuda --dtype bf16 --batch 8 --seq-len 1024 | tee "$out/bench_l0.json"
  record bench_l0 "${PIPESTATUS[0]}"
  build-gpu/bench/bench_l0 --shape 8b --device cuda --dtype bf16 --batch 1 --seq-len 2048 --repeats 3 |
    tee "$out/bench_l0_8b.json"
  record bench_l0_8b "${PIPESTATUS[0]}"
fi
summary

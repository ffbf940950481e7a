#!/usr/bin/env bash
# Installs what Bespoke needs on Debian 12 (apt packages) and builds it into build/.
# Node.js and tools/interop's npm packages (llama.cpp through node-llama-cpp) always: the demo
# checks its GGUF in llama.cpp. With --test, also what the tests need: SentencePiece's
# command-line tools, clang's libFuzzer and Chromium.
# Safe to rerun: installs only what is missing, and the build is incremental (ccache).
# BESPOKE_TORCH_PREFIX: a libtorch other than Debian's, e.g. a torch wheel's
#   $(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--test" ] && with_tests=1

packages=(build-essential cmake ccache git libtorch-dev libgloo-dev nlohmann-json3-dev
          libcli11-dev libgtest-dev libgmock-dev libopenblas-dev
          libpcre2-dev libutf8proc-dev libtomlplusplus-dev libcpp-httplib-dev
          libpython3-stdlib)  # Python's standard library source: the demo's general domain
command -v node > /dev/null || packages+=(nodejs npm)
if [ $with_tests = 1 ]; then
  packages+=(sentencepiece)  # spm_train / spm_encode / spm_decode as the SentencePiece oracle
  packages+=(clang libclang-rt-14-dev)  # libFuzzer for the parser fuzz targets (fuzz/)
  packages+=(chromium)  # the headless browser that opens the demo's HTML report (tools/interop/check_html.mjs)
  packages+=(json-schema-test-suite)  # the oracle of the structured-output grammar (text/json_schema_grammar)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "setup: node-llama-cpp needs Node.js 20 or newer (found $(node --version))" >&2; exit 1; }
npm ci --prefix tools/interop --no-audit --no-fund --loglevel=error

cmake_args=(-S . -B build -DCMAKE_BUILD_TYPE=Release)
[ -n "${BESPOKE_TORCH_PREFIX:-}" ] && cmake_args+=("-DCMAKE_PREFIX_PATH=${BESPOKE_TORCH_PREFIX}")
[ $with_tests = 1 ] && cmake_args+=(-DBESPOKE_BUILD_FUZZ=ON)
cmake "${cmake_args[@]}" > /dev/null
cmake --build build -j"$(nproc)"

#!/usr/bin/env bash
# tools/include_graph.sh on small planted trees: a clean ladder passes; an include to the right,
# one between the siblings train and export, and a folder off the ladder each fail, naming the
# file and the line.
# Usage: tests/layers/include_graph_test.sh [SCRIPT]
set -uo pipefail

script=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tools/include_graph.sh"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# plant FILE LINE...: writes the lines into $tmp/tree/FILE
plant() {
  local file=$tmp/tree/$1
  shift
  mkdir -p "$(dirname "$file")"
  printf '%s\n' "$@" >"$file"
}

# expect CODE NEEDLE...: runs the script on $tmp/tree; its exit status must be CODE and its
# output must contain every needle.
expect() {
  local code=$1
  shift
  local out rc
  out=$(bash "$script" "$tmp/tree" 2>&1)
  rc=$?
  if [[ $rc -ne $code ]]; then
    echo "FAIL: exit $rc, expected $code; output:"; echo "$out"; failures=$((failures + 1)); return
  fi
  for needle in "$@"; do
    if [[ $out != *"$needle"* ]]; then
      echo "FAIL: no '$needle' in:"; echo "$out"; failures=$((failures + 1))
    fi
  done
}

plant src/bespoke/core/error.h '#pragma once'
plant src/bespoke/io/reader.cpp '#include "bespoke/io/reader.h"' '#include "bespoke/core/error.h"'
plant src/bespoke/model/load.cpp '#include <vector>' '#include "bespoke/io/reader.h"' '#include "bespoke/core/error.h"'
plant src/bespoke/train/trainer.cpp '#include "bespoke/model/load.h"'
plant src/bespoke/export/gguf.cpp '#include "bespoke/model/load.h"'
plant src/cli/main.cpp '#include "commands.h"' '#include "bespoke/train/trainer.h"' '#include "bespoke/export/gguf.h"'
expect 0 "io -> core" "model -> io" "model -> core" "cli -> train" "cli -> export"

# A back edge: io includes model.
plant src/bespoke/io/config.cpp '#include "bespoke/core/error.h"' '' '#include "bespoke/model/spec.h"'
expect 1 "src/bespoke/io/config.cpp:3: io -> model" "io -> model" "1 include(s) against the ladder"
rm "$tmp/tree/src/bespoke/io/config.cpp"

# The siblings: train includes export.
plant src/bespoke/train/final.cpp '  #  include "bespoke/export/hf.h"'
expect 1 "src/bespoke/train/final.cpp:1: train -> export" "sibling"
rm "$tmp/tree/src/bespoke/train/final.cpp"

# A folder off the ladder.
plant src/bespoke/gui/window.cpp '#include "bespoke/model/load.h"'
expect 1 "src/bespoke/gui/window.cpp:1: gui -> model" "not on the ladder"
rm "$tmp/tree/src/bespoke/gui/window.cpp"

expect 0
if [[ $failures -ne 0 ]]; then echo "$failures check(s) failed"; exit 1; fi
echo "include_graph.sh: all checks passed"

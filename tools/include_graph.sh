#!/usr/bin/env bash
# Prints the include graph between the folders of src/ (an edge "from -> to" with how many
# #include lines make it) and exits 1 if any include goes against the layer ladder:
#
#   core -> io -> text -> model -> {prune, train, export} -> task -> {pipeline, serve} -> cli
#
# A folder may include only folders to its left (and itself); prune, train and export are
# siblings and include none of each other, as are pipeline and serve. A folder that is not on the ladder is an error too: add it here.
# Usage: tools/include_graph.sh [ROOT]   (ROOT holds src/; default: this repository)
set -euo pipefail

LADDER="core:0 io:1 text:2 model:3 prune:4 train:4 export:4 task:5 pipeline:6 serve:6 cli:7"

root=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"}
[[ -d $root/src ]] || { echo "include_graph: $root/src: no such directory" >&2; exit 2; }
cd "$root"

find src -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' -o -name '*.cc' \) -print0 | sort -z |
  xargs -0 -r grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]bespoke/' |
  awk -v ladder="$LADDER" '
    BEGIN {
      n = split(ladder, steps, " ")
      for (i = 1; i <= n; i++) { split(steps[i], kv, ":"); rank[kv[1]] = kv[2]; order[i] = kv[1] }
      bad = 0
    }
    # The folder of a source path: src/bespoke/<folder>/..., or "cli" for src/cli/...
    function folder_of(path,   p) {
      if (path ~ /^src\/cli\//) return "cli"
      if (split(path, p, "/") >= 4 && p[1] == "src" && p[2] == "bespoke") return p[3]
      return ""
    }
    {
      # grep -Hn: FILE:LINE:TEXT (a path here has no colon)
      file = $0; sub(/:.*/, "", file)
      rest = substr($0, length(file) + 2)
      line = rest; sub(/:.*/, "", line)
      text = substr(rest, length(line) + 2)
      target = text; sub(/^[^"<]*["<]bespoke\//, "", target); sub(/\/.*/, "", target)
      from = folder_of(file)
      if (from == target) next
      count[from " -> " target]++
      what = file ":" line ": " from " -> " target ": " text
      if (!(from in rank)) { problems[++bad] = what " (\"" from "\" is not on the ladder)"; next }
      if (!(target in rank)) { problems[++bad] = what " (\"" target "\" is not on the ladder)"; next }
      if (rank[target] > rank[from]) problems[++bad] = what " (includes a folder to its right)"
      else if (rank[target] == rank[from]) problems[++bad] = what " (includes a sibling)"
    }
    END {
      # Edges in ladder order of their source, then of their target; folders off the ladder last.
      for (i = 1; i <= n; i++) listed[order[i]] = 1
      m = n
      for (e in count) { split(e, ft, " -> "); for (k = 1; k <= 2; k++) if (!(ft[k] in listed)) { listed[ft[k]] = 1; order[++m] = ft[k] } }
      for (i = 1; i <= m; i++)
        for (j = 1; j <= m; j++) {
          e = order[i] " -> " order[j]
          if (e in count) printf "%-20s %4d\n", e, count[e]
        }
      if (bad) {
        printf "\n%d include(s) against the ladder (core -> io -> text -> model -> train|export -> task -> pipeline -> cli):\n", bad > "/dev/stderr"
        for (i = 1; i <= bad; i++) print "  " problems[i] > "/dev/stderr"
        exit 1
      }
    }'

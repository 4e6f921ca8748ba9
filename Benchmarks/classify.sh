#!/usr/bin/env bash
# Classification benchmark: every item of the generated corpus (~46,000 items, ~67 MB of title and
# summary text, English and Chinese) through the classifier built from feeds/topics.toml —
# normalization, matching, identifiers and scoring — beside `grep -F -i -f patterns.txt items.txt`
# over the same text with the corpus's patterns, RUNS times; prints the medians and the ratio.
#
#   Benchmarks/classify.sh [CORPUS_DIR]      (RUNS=5 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$(realpath -m "${1:-.bench-corpus}")
runs=${RUNS:-5}
[ -f "$corpus/items.jsonl" ] || python3 ../shared/bench/gen_feeds.py "$corpus" >&2
swift build -c release --product classify-benchmark >&2
ours=()
theirs=()
for run in $(seq "$runs"); do
    read -r seconds megabytes count relevant < <(.build/release/classify-benchmark "$corpus/items.jsonl" feeds/topics.toml)
    start=$(date +%s.%N)
    # Counted through a pipe: GNU grep stops at the first match when its output is /dev/null.
    grep -F -i -f "$corpus/patterns.txt" "$corpus/items.txt" | wc -l >/dev/null
    grep_seconds=$(echo "$(date +%s.%N) - $start" | bc)
    echo "run $run: exportwatch ${seconds}s for ${megabytes} MB ($count items, $relevant relevant); grep ${grep_seconds}s" >&2
    ours+=("$seconds")
    theirs+=("$grep_seconds")
done
grep_megabytes=$(stat -c %s "$corpus/items.txt")
python3 - "$megabytes" "$grep_megabytes" "${ours[*]}" "${theirs[*]}" <<'PY'
import statistics, sys
mb, grep_bytes, ours, theirs = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
o, g = statistics.median(map(float, ours)), statistics.median(map(float, theirs))
print(f"exportwatch classify: {mb / o:.0f} MB/s (normalization included); grep -F -i -f: {grep_bytes / 1e6 / g:.0f} MB/s")
print(f"ratio exportwatch/grep throughput: {(mb / o) / (grep_bytes / 1e6 / g):.2f} (goal >= 1.0)")
PY

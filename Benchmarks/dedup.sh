#!/usr/bin/env bash
# Deduplication benchmark, two figures:
#  1. story grouping: precision and recall over pairs, on a corpus with known duplicates made by
#     Benchmarks/dedup_corpus.py from the generated feed corpus (~21,000 distinct stories incl.
#     near misses, ~12,800 re-reports perturbed the way outlets do);
#  2. story lookup time per item against a store holding STORED items (1,000,000 by default),
#     median of RUNS runs, alone and per item in polls of 25 (one read, as the daemon does it),
#     beside a one-row primary-key read through the same store. DEDUP_BENCH_STORE=DIR keeps the
#     filled store for later runs (filling takes minutes).
#
#   Benchmarks/dedup.sh [CORPUS_DIR]      (STORED=1000000 RUNS=3 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$(realpath -m "${1:-.bench-corpus}")
stored=${STORED:-1000000}
runs=${RUNS:-3}
[ -f "$corpus/items.jsonl" ] || python3 ../shared/bench/gen_feeds.py "$corpus" >&2
python3 Benchmarks/dedup_corpus.py "$corpus/items.jsonl" "$corpus/dedup.jsonl" >&2
swift build -c release --product dedup-benchmark >&2
.build/release/dedup-benchmark quality "$corpus/dedup.jsonl"
lookups=()
baselines=()
polls=()
for run in $(seq "$runs"); do
    output=$(.build/release/dedup-benchmark lookup "$corpus/dedup.jsonl" "$stored")
    echo "run $run: $(echo "$output" | tr '\n' ' ')" >&2
    lookups+=("$(echo "$output" | sed -n 's/^story lookup: median \([0-9.]*\).*/\1/p')")
    baselines+=("$(echo "$output" | sed -n 's/^baseline one-row read: median \([0-9.]*\).*/\1/p')")
    polls+=("$(echo "$output" | sed -n 's/^story lookup in polls of 25: median \([0-9.]*\).*/\1/p')")
done
python3 - "$stored" "${lookups[*]}" "${baselines[*]}" "${polls[*]}" <<'PY'
import statistics, sys
stored, lookups, baselines, polls = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4].split()
lookup, baseline = statistics.median(map(float, lookups)), statistics.median(map(float, baselines))
poll = statistics.median(map(float, polls))
print(f"story lookup with {stored} stored items: {lookup:.1f} µs for one item alone, {poll:.1f} µs per item "
      f"in a poll of 25 (as the daemon does it; goal < 200 µs); one-row read through the same store: {baseline:.1f} µs")
PY

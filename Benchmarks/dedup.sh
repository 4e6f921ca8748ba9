#!/usr/bin/env bash
# Deduplication benchmark, two figures:
#  1. story grouping: precision and recall over pairs, on a corpus with known duplicates made by
#     Benchmarks/dedup_corpus.py from the generated feed corpus (~21,000 distinct stories incl.
#     near misses, ~12,800 re-reports perturbed the way outlets do);
#  2. story lookup time per item with a store holding STORED items (1,000,000 by default), through
#     the in-memory index of the window the daemon loads at start (its load time too), median of
#     RUNS runs, beside a one-row primary-key read through the same store. DEDUP_BENCH_STORE=DIR
#     keeps the filled store for later runs (filling takes minutes).
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
loads=()
for run in $(seq "$runs"); do
    output=$(.build/release/dedup-benchmark lookup "$corpus/dedup.jsonl" "$stored")
    echo "run $run: $(echo "$output" | tr '\n' ' ')" >&2
    lookups+=("$(echo "$output" | sed -n 's/^story lookup: median \([0-9.]*\).*/\1/p')")
    baselines+=("$(echo "$output" | sed -n 's/^baseline one-row read: median \([0-9.]*\).*/\1/p')")
    loads+=("$(echo "$output" | sed -n 's/^index load: \([0-9]*\) entries in \([0-9.]*\) ms/\1:\2/p')")
done
python3 - "$stored" "${lookups[*]}" "${baselines[*]}" "${loads[*]}" <<'PY'
import statistics, sys
stored, lookups, baselines, loads = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4].split()
lookup, baseline = statistics.median(map(float, lookups)), statistics.median(map(float, baselines))
entries = loads[0].split(":")[0]
load = statistics.median(float(entry.split(":")[1]) for entry in loads)
print(f"story lookup with {stored} stored items: {lookup:.1f} µs per item (goal < 200 µs); "
      f"one-row read through the same store: {baseline:.1f} µs; "
      f"the window's index ({entries} entries) loads in {load:.0f} ms")
PY

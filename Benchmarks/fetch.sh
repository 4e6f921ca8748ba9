#!/usr/bin/env bash
# Fetch benchmark: one cycle over ~1,000 feeds (~110 MB) served by a local nginx, cold and then
# warm (every request conditional, all 304), through exportwatch's HTTPFetcher and through
# `curl --parallel --parallel-max 50` in the same run, RUNS times; prints the medians and ratios.
#
#   Benchmarks/fetch.sh [CORPUS_DIR]      (RUNS=5 CONCURRENCY=50 PORT=18080 by default)
#
# The corpus comes from ../shared/bench/gen_feeds.py; nginx serves its pre-compressed copies
# (gzip_static), and both clients ask for compressed bodies.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$(realpath -m "${1:-.bench-corpus}")
runs=${RUNS:-5}
concurrency=${CONCURRENCY:-50}
port=${PORT:-18080}
[ -f "$corpus/urls" ] || python3 ../shared/bench/gen_feeds.py "$corpus" --port "$port" >&2
swift build -c release --product fetch-benchmark >&2
bench=.build/release/fetch-benchmark

. Benchmarks/serve-corpus.sh
serve_corpus "$corpus" "$port"
while read -r url; do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done < "$work/urls" > "$work/cold.cfg"

now() { date +%s.%N; }
results=()
for run in $(seq "$runs"); do
    read -r ours_cold ours_warm bytes fetched not_modified failed < <("$bench" "$work/urls" "$concurrency" "$work/etags")
    [ "$failed" -eq 0 ] || { echo "run $run: $failed fetches failed" >&2; exit 1; }
    # One group per URL (its own If-None-Match), separated by `next`.
    while IFS=$'\t' read -r url etag; do
        [ -s "$work/warm.cfg.new" ] && echo next
        printf 'url = "%s"\noutput = "/dev/null"\ncompressed\nsilent\nshow-error\nheader = "If-None-Match: %s"\n' "$url" "${etag//\"/\\\"}"
    done < "$work/etags" > "$work/warm.cfg.new"
    mv "$work/warm.cfg.new" "$work/warm.cfg"
    start=$(now); curl --no-progress-meter --parallel --parallel-max "$concurrency" --compressed -K "$work/cold.cfg"; curl_cold=$(echo "$(now) - $start" | bc)
    start=$(now); curl --no-progress-meter --parallel --parallel-max "$concurrency" -K "$work/warm.cfg"; curl_warm=$(echo "$(now) - $start" | bc)
    echo "run $run: exportwatch cold ${ours_cold}s warm ${ours_warm}s ($fetched fetched, $bytes bytes decoded, $not_modified not modified); curl cold ${curl_cold}s warm ${curl_warm}s" >&2
    results+=("$ours_cold $ours_warm $curl_cold $curl_warm")
done

printf '%s\n' "${results[@]}" | python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin]
oc, ow, cc, cw = (statistics.median(column) for column in zip(*rows))
print(f"median of {len(rows)} runs: exportwatch cold {oc:.3f}s warm {ow:.3f}s; curl cold {cc:.3f}s warm {cw:.3f}s")
print(f"ratio exportwatch/curl: cold {oc/cc:.2f}x (goal <= 1.3x), warm {ow/cw:.2f}x (goal <= 1.2x)")
'

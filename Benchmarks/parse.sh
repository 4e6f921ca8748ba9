#!/usr/bin/env bash
# Parse benchmark: the ~1,000-feed, ~110 MB corpus (RSS 2.0, Atom, RSS 1.0; English, Chinese,
# some GBK) read into memory, then, ROUNDS times in one process: a raw libxml2 SAX2 pass with
# no-op callbacks, FeedParser, and FeedParser plus the JSON Lines output. Prints the medians and
# the ratios; `xmllint --stream` over the same files is printed too, as an outside reference.
#
#   Benchmarks/parse.sh [CORPUS_DIR]      (ROUNDS=15 by default: on a shared virtual machine single
#   rounds vary by ±5%, and the goal is a ratio close to its bound)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$(realpath -m "${1:-.bench-corpus}")
[ -f "$corpus/files.txt" ] || python3 ../shared/bench/gen_feeds.py "$corpus" >&2
swift build -c release --product parse-benchmark >&2
if command -v xmllint >/dev/null; then
    start=$(date +%s.%N)
    (cd "$corpus" && grep -v '\.gz$' files.txt | xargs xmllint --stream --noout 2>/dev/null) || true
    echo "xmllint --stream (outside reference, file reading included): $(echo "$(date +%s.%N) - $start" | bc) s" >&2
fi
.build/release/parse-benchmark "$corpus/files.txt" "${ROUNDS:-15}"

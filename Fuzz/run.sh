#!/usr/bin/env bash
# Fuzzing: builds four libFuzzer harnesses with AddressSanitizer (leaks included) into
# .build-fuzz/ and runs them:
#   feeds  Fuzz/FeedsFuzz.swift  feed documents, HTML list pages, OPML (Sources/Feeds)
#   text   Fuzz/TextFuzz.swift   classification, identifiers, stories, links (Sources/Classification, Dedup)
#   rules  Fuzz/RulesFuzz.swift  TOML, HTML rules and date formats (Sources/TOML, Feeds)
#   fetch  Fuzz/FetchStateFuzz.swift  response headers and statuses through a source's schedule (Sources/Fetching)
#
#   Fuzz/run.sh            a fixed-seed smoke run of each (what CI runs: the same inputs every time)
#   Fuzz/run.sh SECONDS    each for SECONDS, growing a corpus in .build-fuzz/corpus/ across runs
#
# Any crash, trap, memory error or leak fails the run; the input is kept in .build-fuzz/findings/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
mkdir -p "$out/findings" "$out/corpus"/{feeds,text,rules,fetch} "$out/seeds/feeds"
flags=(-O -g -sanitize=fuzzer,address -parse-as-library)
# gold warns once per AddressSanitizer symbol it cannot export; nothing else is dropped.
swiftc() { command swiftc "$@" 2> >(grep -v "Cannot export local symbol" >&2); }
xml=(-I Sources/CLibXML2 -Xcc "$(pkg-config --cflags-only-I libxml-2.0 | xargs)" -lxml2)
swiftc "${flags[@]}" -module-name FeedsFuzz "${xml[@]}" Sources/Feeds/*.swift Fuzz/FeedsFuzz.swift -o "$out/feeds"
swiftc "${flags[@]}" -module-name RulesFuzz "${xml[@]}" Sources/Feeds/*.swift Sources/TOML/*.swift Fuzz/RulesFuzz.swift \
    -o "$out/rules"
swiftc "${flags[@]}" -module-name FetchStateFuzz -I Sources/CCurl -I Sources/COpenSSL Sources/Fetching/*.swift \
    Fuzz/FetchStateFuzz.swift -lcurl -lcrypto -o "$out/fetch"
swiftc "${flags[@]}" -emit-library -static -module-name Classification -emit-module-path "$out/Classification.swiftmodule" \
    Sources/Classification/*.swift -o "$out/libClassification.a"
swiftc "${flags[@]}" -module-name TextFuzz -I "$out" Sources/Dedup/*.swift Fuzz/TextFuzz.swift -L "$out" -lClassification \
    -o "$out/text"
# The feeds, pages and lists the tests read are the feed harness's seeds.
find Tests -path '*Fixtures*' -type f \( -name '*.xml' -o -name '*.rdf' -o -name '*.json' -o -name '*.html' -o -name '*.opml' \) \
    -exec cp {} "$out/seeds/feeds/" \;

run() {
    local name=$1 seeds=$2
    shift 2
    if [ -n "${seconds:-}" ]; then
        "$out/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$out/findings/$name-" \
            "$@" "$out/corpus/$name" "$seeds"
    else
        # A fixed seed and number of runs from the seeds alone: the same inputs on every machine.
        local empty status=0
        empty=$(mktemp -d)
        "$out/$name" -seed=1 -runs=4000 -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$out/findings/$name-" \
            "$@" "$empty" "$seeds" || status=$?
        rm -rf "$empty"
        return $status
    fi
}
seconds=${1:-}
# Swift seeds its hashing per process; fixed, a smoke run takes the same paths on every machine.
[ -n "$seconds" ] || export SWIFT_DETERMINISTIC_HASHING=1
run feeds "$out/seeds/feeds" -max_len=20000 2>"$out/feeds.log" || { tail -40 "$out/feeds.log"; exit 1; }
run text Fuzz/seeds/text -max_len=4000 2>"$out/text.log" || { tail -40 "$out/text.log"; exit 1; }
run rules Fuzz/seeds/rules -max_len=4000 2>"$out/rules.log" || { tail -40 "$out/rules.log"; exit 1; }
run fetch Fuzz/seeds/fetch -max_len=4000 2>"$out/fetch.log" || { tail -40 "$out/fetch.log"; exit 1; }
for name in feeds text rules fetch; do
    echo "fuzz $name: $(grep -E '^#[0-9]+' "$out/$name.log" | tail -1 | awk '{print $1, "inputs,", $3, $4}'), no finding"
done

#!/usr/bin/env bash
# Daemon benchmark: `exportwatch run --once` over ~1,000 feeds (~110 MB) served by a local nginx,
# cold (a new state folder: every feed fetched, parsed, deduplicated, classified and stored; new
# sources baselined), warm (the next cycle: every request conditional, all 304) and changed (the
# next day: every feed has one new item on top of the ones stored, Benchmarks/next_day_corpus.py),
# with its peak memory; beside curl fetching the same feeds (cold, with If-None-Match, and the
# next day) and `newsboat -x reload` (cold, its steady state, the next day), in the same run,
# RUNS times; prints medians.
#
#   Benchmarks/daemon.sh [CORPUS_DIR]      (RUNS=3 WARM_RUNS=5 CONCURRENCY=50 PORT=18080 NEWSBOAT=1 by default)
#
# Each run has one cold cycle, WARM_RUNS warm ones and one changed one, each cycle of exportwatch
# followed by curl's fetch of the same, so that the machine's drift reaches both alike; the warm
# medians are over every warm cycle of every run.
#
# Both exportwatch and curl run CONCURRENCY transfers at once against the one loopback host
# (exportwatch's max_per_host is raised to match: the default of 2 is politeness, not speed).
#
# Each warm cycle is also followed by a warm cycle of the first feed alone (a state folder of its
# own) and curl's conditional fetch of it: what a process costs before and after its polls
# (starting, reading the configuration, opening the store, exiting), which the daemon pays once
# and `run --once` every time; the rest of a warm cycle is per source.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$(realpath -m "${1:-.bench-corpus}")
runs=${RUNS:-3}
warm_runs=${WARM_RUNS:-5}
concurrency=${CONCURRENCY:-50}
port=${PORT:-18080}
[ -f "$corpus/urls" ] || python3 ../shared/bench/gen_feeds.py "$corpus" --port "$port" >&2
# Built as scripts/install builds it (Swift runtime linked in).
swift build -c release --product exportwatch --static-swift-stdlib >&2
exportwatch=$PWD/.build/release/exportwatch

. Benchmarks/serve-corpus.sh
serve_corpus "$corpus" "$port"
python3 Benchmarks/next_day_corpus.py "$corpus" "$work/next-day"
feeds=$(wc -l < "$work/urls")

{
    printf '[daemon]\nstate_dir = "%s/state"\ndigest_dir = "%s/digests"\n' "$work" "$work"
    printf 'allow_private_networks = true\nmax_concurrent = %s\nmax_per_host = %s\n\n' "$concurrency" "$concurrency"
    n=0
    while read -r url; do printf '[[source]]\nid = "feed-%04d"\nurl = "%s"\n\n' "$n" "$url"; n=$((n + 1)); done < "$work/urls"
} > "$work/exportwatch.toml"
while read -r url; do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done < "$work/urls" > "$work/curl.cfg"
{
    printf '[daemon]\nstate_dir = "%s/state-one"\ndigest_dir = "%s/digests-one"\nallow_private_networks = true\n\n' "$work" "$work"
    printf '[[source]]\nid = "feed-0000"\nurl = "%s"\n' "$(head -1 "$work/urls")"
} > "$work/one.toml"

now() { date +%s.%N; }
# One cycle of exportwatch, delivering nothing, over the configuration given after it.
once=("$exportwatch" run --once --deliver-timeout 0 --config)
# Seconds (to the millisecond: GNU time's %e has only hundredths, a tenth of a warm run), peak
# RSS (kB) and CPU seconds (user + system, to the hundredth) of a command, the last two via GNU
# time. exportwatch and curl are both timed through it, so that GNU time's own start (~1 ms)
# weighs on both alike. CPU time says what each costs when the machine's other load (a shared
# virtual machine's neighbours) moves the wall-clock figures.
timed() {
    local start end
    start=$(now)
    /usr/bin/time -f '%M %U %S' -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || true
    end=$(now)
    read -r rss user system < "$work/time"
    echo "$(echo "$end - $start" | bc) $rss $(echo "$user + $system" | bc)"
}

# curl reports a failed transfer on its stderr, which --no-progress-meter otherwise leaves empty.
curl_ok() { [ ! -s "$work/stderr" ] || { echo "curl failed: $(tail -3 "$work/stderr")" >&2; exit 1; }; }

results=()
warm_samples=()
for run in $(seq "$runs"); do
    rm -rf "$work/state" "$work/digests"
    read -r cold cold_rss cold_cpu < <(timed "${once[@]}" "$work/exportwatch.toml")
    grep -q "$feeds sources polled, 0 failed" "$work/stderr" || { echo "cold run failed: $(tail -3 "$work/stderr")" >&2; exit 1; }
    read -r curl_cold curl_rss curl_cold_cpu < <(timed curl --no-progress-meter --parallel --parallel-max "$concurrency" --compressed -K "$work/curl.cfg")
    curl_ok
    # curl's conditional fetch: every URL with the ETag nginx gives it (one HEAD pass collects them).
    if [ ! -s "$work/curl-warm.cfg" ]; then
        while read -r url; do
            etag=$(curl -sI --compressed "$url" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
            # One group per URL (its own If-None-Match), separated by `next`.
            [ -s "$work/curl-warm.cfg" ] && echo next >> "$work/curl-warm.cfg"
            printf 'url = "%s"\noutput = "/dev/null"\ncompressed\nheader = "If-None-Match: %s"\n' "$url" "${etag//\"/\\\"}" >> "$work/curl-warm.cfg"
        done < "$work/urls"
    fi
    # The first feed alone: its first cycle (not measured), and curl's conditional fetch of it.
    rm -rf "$work/state-one" "$work/digests-one"
    "${once[@]}" "$work/one.toml" >/dev/null 2>"$work/stderr" || { echo "one-feed run failed: $(tail -3 "$work/stderr")" >&2; exit 1; }
    sed -n '1,4p' "$work/curl-warm.cfg" > "$work/curl-one.cfg"
    warms=()
    for _ in $(seq "$warm_runs"); do
        read -r warm warm_rss warm_cpu < <(timed "${once[@]}" "$work/exportwatch.toml")
        grep -q "$feeds sources polled, 0 failed" "$work/stderr" || { echo "warm run failed: $(tail -3 "$work/stderr")" >&2; exit 1; }
        read -r curl_warm _ curl_warm_cpu < <(timed curl --no-progress-meter --parallel --parallel-max "$concurrency" -K "$work/curl-warm.cfg")
        curl_ok
        read -r one _ _ < <(timed "${once[@]}" "$work/one.toml")
        grep -q "1 sources polled, 0 failed" "$work/stderr" || { echo "one-feed warm run failed: $(tail -3 "$work/stderr")" >&2; exit 1; }
        read -r curl_one _ _ < <(timed curl --no-progress-meter -K "$work/curl-one.cfg")
        curl_ok
        warm_samples+=("$warm $warm_rss $curl_warm $warm_cpu $curl_warm_cpu $one $curl_one")
        warms+=("${warm}s/${curl_warm}s")
    done
    # The next day, from the state the warm cycles left: a new item in every feed.
    serve_root "$work/next-day"
    read -r changed changed_rss changed_cpu < <(timed "${once[@]}" "$work/exportwatch.toml")
    grep -q "$feeds sources polled, 0 failed, $feeds new items" "$work/stderr" || { echo "changed run failed: $(tail -3 "$work/stderr")" >&2; exit 1; }
    read -r curl_changed _ curl_changed_cpu < <(timed curl --no-progress-meter --parallel --parallel-max "$concurrency" --compressed -K "$work/curl.cfg")
    curl_ok
    serve_root "$corpus"
    newsboat_cold=nan
    newsboat_warm=nan
    newsboat_changed=nan
    if [ "${NEWSBOAT:-1}" = 1 ] && command -v newsboat >/dev/null; then
        rm -rf "$work/newsboat"; mkdir -p "$work/newsboat"
        cp "$work/urls" "$work/newsboat/urls"
        printf 'reload-threads %s\n' "$concurrency" > "$work/newsboat/config"
        nb() { newsboat -u "$work/newsboat/urls" -c "$work/newsboat/cache.db" -C "$work/newsboat/config" -x reload; }
        start=$(now); nb >/dev/null 2>&1 || true; newsboat_cold=$(echo "$(now) - $start" | bc)
        start=$(now); nb >/dev/null 2>&1 || true; newsboat_warm=$(echo "$(now) - $start" | bc)
        serve_root "$work/next-day"
        start=$(now); nb >/dev/null 2>&1 || true; newsboat_changed=$(echo "$(now) - $start" | bc)
        serve_root "$corpus"
    fi
    echo "run $run: exportwatch cold ${cold}s (peak ${cold_rss} kB), curl cold ${curl_cold}s; warm exportwatch/curl ${warms[*]}; changed exportwatch ${changed}s (peak ${changed_rss} kB), curl ${curl_changed}s; newsboat cold ${newsboat_cold}s warm ${newsboat_warm}s changed ${newsboat_changed}s" >&2
    results+=("$cold $cold_rss $curl_cold $curl_rss $newsboat_cold $newsboat_warm $cold_cpu $curl_cold_cpu $changed $changed_rss $curl_changed $changed_cpu $curl_changed_cpu $newsboat_changed")
done

{ printf '%s\n' "${results[@]}"; echo; printf '%s\n' "${warm_samples[@]}"; } | python3 -c '
import math, statistics, sys
feeds = int(sys.argv[1])
runs, warms = sys.stdin.read().split("\n\n")
rows = [list(map(float, line.split())) for line in runs.splitlines() if line]
warm_rows = [list(map(float, line.split())) for line in warms.splitlines() if line]
c, crss, cc, ccrss, nc, nw, ccpu, cccpu, d, drss, cd, dcpu, cdcpu, nd = (statistics.median(column) for column in zip(*rows))
w, wrss, cw, wcpu, cwcpu, one, cone = (statistics.median(column) for column in zip(*warm_rows))
peak = max(max(row[1] for row in rows), max(row[1] for row in warm_rows), max(row[9] for row in rows))
print(f"median of {len(rows)} runs ({len(warm_rows)} warm cycles): exportwatch run --once cold {c:.2f}s warm {w:.3f}s changed {d:.2f}s, "
      f"peak RSS {peak/1024:.0f} MB (median cold {crss/1024:.0f}, warm {wrss/1024:.0f}, changed {drss/1024:.0f})")
newsboat = "skipped" if math.isnan(nc) else f"cold {nc:.2f}s warm {nw:.2f}s changed {nd:.2f}s"
print(f"curl cold {cc:.2f}s (peak RSS {ccrss/1024:.0f} MB) warm {cw:.3f}s changed {cd:.2f}s; newsboat -x reload {newsboat}")
print(f"exportwatch/curl: cold {c/cc:.1f}x (goal <= 2), warm {w/cw:.2f}x (goal <= 1.5), changed {d/cd:.1f}x")
# Each warm cycle against the curl fetch that followed it: the spread says how far the median
# ratio is from the goal in the noise of this run.
ratios = sorted(row[0] / row[2] for row in warm_rows)
if len(ratios) >= 4:
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    print(f"warm exportwatch/curl of each cycle: median {statistics.median(ratios):.2f}x, quartiles {q1:.2f}-{q3:.2f}x, range {ratios[0]:.2f}-{ratios[-1]:.2f}x")
# The cost of a process (one feed, warm), and the rest of each cycle per further feed (medians
# of each cycle'"'"'s difference, beside the fetch or cycle just before it).
per_feed = statistics.median((row[0] - row[5]) / (feeds - 1) for row in warm_rows)
curl_per_feed = statistics.median((row[2] - row[6]) / (feeds - 1) for row in warm_rows)
print(f"warm, one feed: exportwatch {one*1000:.1f} ms, curl {cone*1000:.1f} ms; each further feed: exportwatch "
      f"{per_feed*1e6:.0f} us, curl {curl_per_feed*1e6:.0f} us ({per_feed / max(curl_per_feed, 1e-9):.2f}x)")
print(f"CPU seconds (user + system): exportwatch cold {ccpu:.2f} warm {wcpu:.2f} changed {dcpu:.2f}, curl cold {cccpu:.2f} warm {cwcpu:.2f} changed {cdcpu:.2f}; "
      f"exportwatch/curl cold {ccpu/max(cccpu, 0.01):.1f}x, warm {wcpu/max(cwcpu, 0.01):.2f}x, changed {dcpu/max(cdcpu, 0.01):.1f}x")
if not math.isnan(nc): print(f"newsboat/exportwatch: cold {nc/c:.1f}x, warm {nw/w:.1f}x, changed {nd/d:.1f}x")
' "$feeds"

#!/usr/bin/env python3
"""A story-grouping corpus with known duplicates, for Benchmarks/dedup.sh.

Reads the benchmark corpus's items.jsonl (python3 ../shared/bench/gen_feeds.py DIR) as the
distinct base stories, adds hard near misses (numbered series, daily briefings whose titles
differ only by date), and reports some stories again from other outlets, perturbed the way
publishers do: outlet suffixes and wire prefixes on titles, summaries cut to their first
sentence or extended, datelines, markup and entities, tracking parameters, new guids and
links, shifted dates. Writes JSON Lines sorted by first-seen time:
{"story", "source", "guid", "link", "title", "summary", "seen"}. Same seed, same bytes.
"""
import json
import random
import re
import sys

OUTLETS_EN = ["Reuters", "AP News", "Nikkei Asia", "SCMP", "Bloomberg", "Yahoo Finance", "The Register"]
OUTLETS_ZH = ["新华网", "人民网", "澎湃新闻", "财新网", "观察者网"]
PREFIXES = ["UPDATE 2-", "UPDATE 1-", "EXCLUSIVE-", "Exclusive: "]


def sentences(text):
    parts = re.split(r"(?<=[.!?。！？])\s*", text)
    return [p for p in parts if p.strip()]


def is_chinese(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def perturb(rng, story, copy):
    title, summary = story["title"], story["summary"]
    zh = is_chinese(title)
    plain = re.sub(r"<[^>]+>", " ", summary)
    plain = re.sub(r"\s+", " ", plain).strip()
    choice = rng.random()
    if choice < 0.30:
        title = title + rng.choice([" - ", " | ", " — "]) + rng.choice(OUTLETS_EN) if not zh \
            else title + rng.choice(["_", "－", "｜"]) + rng.choice(OUTLETS_ZH)
    elif choice < 0.40 and not zh:
        title = rng.choice(PREFIXES) + title
    elif choice < 0.50:
        title = title.replace(" ", "  ", 1) if not zh else title + " "
    parts = sentences(plain)
    kind = rng.random()
    if kind < 0.30 and parts:
        summary = parts[0]                                   # cut to the lead sentence
    elif kind < 0.50:
        summary = plain + " " + rng.choice(
            ["Reporting by Karen Freifeld; Editing by Chris Reese.", "Read more at our website.",
             "(This story has been corrected to fix a typo.)", "责任编辑：王磊"])
    elif kind < 0.65 and not zh:
        summary = "WASHINGTON (Reuters) - " + plain
    elif kind < 0.80:
        summary = "<div class=\"lead\"><p>" + plain.replace("&", "&amp;") + "</p></div>"
    elif kind < 0.90 and len(parts) > 1:
        summary = " ".join(parts[: max(1, len(parts) // 2)]) + " …"
    else:
        summary = plain
    host = f"outlet{copy}.example"
    link = f"https://{host}/news/{story['id'].replace(':', '-')}?utm_source=rss&utm_medium=feed&from=timeline"
    return title, summary, link


def near_misses(rng, count):
    """Distinct stories that keyword filters and naive fingerprints confuse."""
    stories = []
    seen = set()
    n = 0
    while len(stories) < count:
        n += 1
        kind = n % 4
        if kind == 0:
            k = rng.randint(2, 60)
            title = f"Commerce Adds {k} Entities to the Entity List"
            summary = (f"The Bureau of Industry and Security added {k} entities from "
                       f"{rng.choice(['China', 'Russia', 'Iran', 'the UAE', 'Pakistan'])} for "
                       f"{rng.choice(['supporting military modernization', 'diverting aircraft parts', 'quantum computing', 'drone programs', 'supercomputer development'])}.")
        elif kind == 1:
            month, day = rng.randint(1, 12), rng.randint(1, 28)
            title = f"2024年{month}月{day}日外交部发言人{rng.choice(['汪文斌', '毛宁', '林剑'])}主持例行记者会"
            summary = ""
        elif kind == 2:
            week = rng.randint(1, 52)
            title = f"Export Controls Weekly, No. {week}: {rng.choice(['chips', 'cloud', 'AI models', 'sanctions'])}"
            summary = f"This week: {rng.choice(['BIS', 'MOFCOM', 'the EU', 'Japan'])} {rng.choice(['tightens', 'reviews', 'publishes', 'delays'])} {rng.choice(['rules on HBM', 'gallium licences', 'the cloud KYC rule', 'Wassenaar lists'])}."
        else:
            number = n // 4 + 1  # an announcement number names one announcement
            title = f"商务部公告2024年第{number}号 关于{rng.choice(['镓、锗', '石墨', '无人机', '稀土', '超硬材料'])}相关物项实施出口管制的公告"
            summary = f"根据《中华人民共和国出口管制法》，对{rng.choice(['镓', '锗', '石墨', '稀土'])}相关物项实施出口管制，自{rng.randint(1, 12)}月1日起正式实施。"
        if (title, summary) in seen:  # two stories with the same words cannot be told apart by anyone
            continue
        seen.add((title, summary))
        stories.append({"id": f"nm:{n}", "title": title, "summary": summary})
    return stories


def main():
    source, out = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    rng = random.Random(20240510)
    base = [json.loads(line) for line in open(source, encoding="utf-8")][:limit]
    base += near_misses(rng, limit // 20)
    rows = []
    span = 30 * 86400
    for number, story in enumerate(base):
        seen = rng.randrange(span)
        rows.append({"story": number, "source": "origin", "guid": f"o-{number}",
                     "link": f"https://origin.example/{number}", "title": story["title"],
                     "summary": story["summary"], "seen": seen})
        if rng.random() < 0.3:
            for copy in range(1, rng.randint(2, 4)):
                title, summary, link = perturb(rng, story, copy)
                rows.append({"story": number, "source": f"outlet{copy}", "guid": f"c{copy}-{number}",
                             "link": link, "title": title, "summary": summary,
                             "seen": seen + rng.randrange(1, 2 * 86400)})
    rows.sort(key=lambda row: (row["seen"], row["guid"]))
    with open(out, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    duplicates = sum(1 for row in rows if row["source"] != "origin")
    print(f"{len(rows)} items, {len(base)} stories, {duplicates} duplicate reports -> {out}")


if __name__ == "__main__":
    main()

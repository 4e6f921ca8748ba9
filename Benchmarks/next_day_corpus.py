#!/usr/bin/env python3
"""The next day of a benchmark corpus: every feed of CORPUS with one new item on top.

    Benchmarks/next_day_corpus.py CORPUS OUT

Writes OUT/feeds/ (the same file names, each with a .gz copy for nginx's gzip_static). The new
item is a copy of the feed's first item (RSS <item>, RSS 1.0 <item rdf:about>, Atom <entry>)
under a new guid, id and link, with its title prefixed: what a news feed looks like at its next
poll, when everything but one item is known. Bytes are edited as bytes, so GBK feeds stay GBK.
Only the standard library is used; the same corpus gives the same output.
"""
import gzip
import os
import re
import sys


def next_day(document: bytes) -> bytes:
    first = re.search(rb"<(item|entry)[ >].*?</\1>", document, re.S)
    if not first:
        raise ValueError("no item or entry")
    item = first.group(0)
    for pattern, replacement in (
        (rb"(<guid[^>]*>)([^<]*)(</guid>)", rb"\1\2-next\3"),
        (rb"(<id>)([^<]*)(</id>)", rb"\1\2-next\3"),
        (rb"(<link>)([^<?]*)", rb"\1\2-next"),
        (rb'(<link[^>]*href=")([^"?]*)', rb"\1\2-next"),
        (rb'(rdf:about=")([^"?]*)', rb"\1\2-next"),
    ):
        item = re.sub(pattern, replacement, item)
    item = re.sub(rb"(<title[^>]*>)", rb"\1Next: ", item, count=1)
    return document[: first.start()] + item + b"\n" + document[first.start():]


def main() -> None:
    corpus, out = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(out, "feeds"), exist_ok=True)
    names = sorted(name for name in os.listdir(os.path.join(corpus, "feeds")) if not name.endswith(".gz"))
    for name in names:
        with open(os.path.join(corpus, "feeds", name), "rb") as source:
            document = next_day(source.read())
        with open(os.path.join(out, "feeds", name), "wb") as target:
            target.write(document)
        with gzip.GzipFile(os.path.join(out, "feeds", name + ".gz"), "wb", compresslevel=6, mtime=0) as target:
            target.write(document)
    print(f"{len(names)} feeds, each with one new item, in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

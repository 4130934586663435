#!/usr/bin/env python3
"""Splits a server profile into parts, from `perf script` of a DWARF call-graph record.

    perf record -p <server pid> -F 999 --call-graph dwarf,16384 -o perf.data -- sleep 6
    perf script -i perf.data > perf.script
    python3 benches/scripts/perf_parts.py perf.script

Prints each sample's share three ways:
- by part: the first part, in the order listed, with a frame anywhere on the stack;
- by leaf: the kernel, crypto or the allocator when the sampled frame is theirs,
  else the first library or module of ours found walking up from it;
- by our innermost function under the ingest writer.
Standard library only.
"""
import collections
import re
import sys

PARTS = [
    ("ingest writer: payload written (statements, events)",
     r"freightgate::ingest::writer|freightgate::ingest::apply|freightgate::store::unit"),
    ("request: rules classify and map", r"freightgate::rules"),
    ("request: handler (body, JSON, answer)", r"freightgate::app::ingest|freightgate::http|freightgate::ingest"),
    ("webhooks dispatcher", r"freightgate::webhooks"),
    ("HTTP connection (hyper)", r"hyper"),
    ("sqlx connection (no caller on the stack)", r"sqlx_"),
    ("runtime", r"tokio"),
]
LEAF = [
    ("kernel", lambda f, dso: "kernel" in dso),
    ("crypto (TLS records)",
     lambda f, dso: re.search(r"aws_lc|ring_core|aes_|gcm|chacha|poly1305|sha256|sha512", f)),
    ("allocator and memcpy",
     lambda f, dso: re.search(r"^_?mi_|malloc|^free|realloc|cfree|memcpy|memmove|memset|_int_free", f)),
]
UP = [
    ("rustls", r"rustls"),
    ("sqlx", r"sqlx_"),
    ("sea-orm, sea-query", r"sea_orm|sea_query"),
    ("serde_json", r"serde_json"),
    ("rules (JSONPath, mapping)", r"freightgate::rules"),
    ("HTTP (hyper, axum, tower)", r"hyper|axum|tower"),
    ("tokio", r"tokio"),
    ("freightgate", r"freightgate"),
]
FRAME = re.compile(r"\s*[0-9a-f]+ (.*) \((.*)\)$")


def stacks(text):
    for block in text.split("\n\n"):
        lines = block.strip("\n").split("\n")
        if len(lines) < 2:
            continue
        frames = []
        for line in lines[1:]:
            m = FRAME.match(line.strip())
            frames.append((m.group(1), m.group(2)) if m else (line.strip(), ""))
        yield frames


def leaf_of(frames):
    f0, dso0 = frames[0]
    for name, test in LEAF:
        if test(f0, dso0):
            return name
    for f, _ in frames:
        for name, pattern in UP:
            if re.search(pattern, f):
                return name
    return "other"


def main(path):
    all_stacks = list(stacks(open(path).read()))
    n = len(all_stacks)
    parts, leaves, writer = collections.Counter(), collections.Counter(), collections.Counter()
    in_writer = re.compile(PARTS[0][1])
    for frames in all_stacks:
        part = next((name for name, p in PARTS if any(re.search(p, f) for f, _ in frames)), "other")
        parts[part] += 1
        leaves[leaf_of(frames)] += 1
        if any(in_writer.search(f) for f, _ in frames):
            ours = next((f for f, _ in frames if re.match(r"freightgate::(store|ingest)::", f)), "?")
            writer[re.sub(r"::\{\{closure\}\}.*|\+0x[0-9a-f]+$", "", ours)] += 1
    for title, counts, top in (("by part", parts, None), ("by leaf", leaves, None),
                               ("under the ingest writer, by our innermost function", writer, 15)):
        print(f"\n{title} ({n} samples)")
        for name, count in counts.most_common(top):
            print(f"  {count / n * 100:5.1f} %  {count:6d}  {name}")


if __name__ == "__main__":
    main(sys.argv[1])

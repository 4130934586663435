#!/usr/bin/env python3
"""Draws the two plots BENCHMARKS.md shows, as SVG, with the standard library only.

  classification.svg  classification time against the number of rules (10 ... 10,000),
                      one line per payload case, from criterion's estimates of
                      `cargo bench --bench classify` (target/criterion/classify/...)
  soak.svg            RSS and throughput over the soak, one panel per database,
                      from `cargo bench --bench load -- --only soak --soak SECS`
                      (target/soak-sqlite.csv, target/soak-postgresql.csv)

  python3 benches/scripts/plots.py [--target DIR] [--out DIR]

A plot whose inputs are missing is skipped with a message.
"""

import argparse
import csv
import json
import math
import sys
from pathlib import Path

WIDTH, HEIGHT, PAD = 720, 420, 60
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def svg(width, height, body):
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">\n'
        f'<rect width="100%" height="100%" fill="white"/>\n{body}</svg>\n'
    )


def esc(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def axes(x0, y0, w, h, title, xlabel, ylabel):
    return (
        f'<text x="{x0 + w / 2}" y="{y0 - 25}" text-anchor="middle" font-size="14">{esc(title)}</text>\n'
        f'<line x1="{x0}" y1="{y0 + h}" x2="{x0 + w}" y2="{y0 + h}" stroke="black"/>\n'
        f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y0 + h}" stroke="black"/>\n'
        f'<text x="{x0 + w / 2}" y="{y0 + h + 38}" text-anchor="middle">{esc(xlabel)}</text>\n'
        f'<text x="{x0 - 45}" y="{y0 + h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 {x0 - 45} {y0 + h / 2})">{esc(ylabel)}</text>\n'
    )


def nice_max(value):
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def classification(target, out):
    root = target / "criterion" / "classify"
    if not root.is_dir():
        print(f"classification.svg skipped: no {root} (run cargo bench --bench classify)")
        return
    series = {}
    for estimates in root.glob("*/*/new/estimates.json"):
        case, size = estimates.parts[-4], estimates.parts[-3]
        if not size.isdigit():
            continue
        mean_ns = json.loads(estimates.read_text())["mean"]["point_estimate"]
        series.setdefault(case, []).append((int(size), mean_ns / 1000.0))
    if not series:
        print("classification.svg skipped: no estimates found")
        return
    sizes = sorted({s for points in series.values() for s, _ in points})
    top = nice_max(max(v for points in series.values() for _, v in points))
    x0, y0, w, h = PAD + 10, PAD, WIDTH - 2 * PAD - 150, HEIGHT - 2 * PAD - 20
    lo, hi = math.log10(sizes[0]), math.log10(sizes[-1])
    span = (hi - lo) or 1.0

    def x(size):
        return x0 + (math.log10(size) - lo) / span * w

    def y(value):
        return y0 + h - value / top * h

    body = axes(x0, y0, w, h, "Classification time against the number of rules",
                "rules (log scale)", "µs per payload (criterion mean)")
    for size in sizes:
        body += f'<line x1="{x(size)}" y1="{y0 + h}" x2="{x(size)}" y2="{y0 + h + 5}" stroke="black"/>\n'
        body += f'<text x="{x(size)}" y="{y0 + h + 18}" text-anchor="middle">{size:,}</text>\n'
    for i in range(5):
        value = top * i / 4
        body += f'<text x="{x0 - 6}" y="{y(value) + 4}" text-anchor="end">{value:g}</text>\n'
        body += f'<line x1="{x0}" y1="{y(value)}" x2="{x0 + w}" y2="{y(value)}" stroke="#ddd"/>\n'
    for n, (case, points) in enumerate(sorted(series.items())):
        colour = COLOURS[n % len(COLOURS)]
        points.sort()
        path = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in points)
        body += f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>\n'
        for s, v in points:
            body += f'<circle cx="{x(s):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>\n'
        body += f'<text x="{x0 + w + 15}" y="{y0 + 15 + 18 * n}" fill="{colour}">{esc(case)}</text>\n'
    (out / "classification.svg").write_text(svg(WIDTH, HEIGHT, body))
    print(f"wrote {out / 'classification.svg'}")


def soak_panel(rows, x0, y0, w, h, title):
    seconds = [float(r["seconds"]) for r in rows]
    rss = [float(r["rss_mb"]) for r in rows]
    rates = [(float(r["ingested_per_s"]), float(r["delivered_per_s"])) for r in rows]
    t_max = max(seconds) or 1.0
    rss_top = nice_max(max(rss) * 1.1)
    rate_top = nice_max(max(max(a, b) for a, b in rates) * 1.1)

    def x(t):
        return x0 + t / t_max * w

    # The server's own account of its memory, where the run recorded it.
    parts = [(key, label) for key, label in (("heap_mb", "mimalloc heap"),
                                             ("sqlite_mb", "SQLite"),
                                             ("c_heap_in_use_mb", "glibc in use"))
             if rows and rows[0].get(key)]

    body = axes(x0, y0, w, h, title, "seconds",
                "RSS MB (blue)" + ("; dashed: " + ", ".join(l for _, l in parts) if parts else ""))
    body += (f'<text x="{x0 + w + 45}" y="{y0 + h / 2}" text-anchor="middle" '
             f'transform="rotate(90 {x0 + w + 45} {y0 + h / 2})">per second (ingested green, delivered orange)</text>\n')
    body += f'<line x1="{x0 + w}" y1="{y0}" x2="{x0 + w}" y2="{y0 + h}" stroke="black"/>\n'
    for i in range(5):
        frac = i / 4
        yy = y0 + h - frac * h
        body += f'<text x="{x0 - 6}" y="{yy + 4}" text-anchor="end">{rss_top * frac:g}</text>\n'
        body += f'<text x="{x0 + w + 6}" y="{yy + 4}">{rate_top * frac:g}</text>\n'
        tt = t_max * frac
        body += f'<text x="{x(tt)}" y="{y0 + h + 18}" text-anchor="middle">{tt:.0f}</text>\n'

    def line(values, top, colour):
        path = " ".join(f"{x(t):.1f},{y0 + h - v / top * h:.1f}" for t, v in zip(seconds, values))
        return f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>\n'

    body += line(rss, rss_top, COLOURS[0])
    for n, (key, label) in enumerate(parts):
        values = [float(r[key] or 0) for r in rows]
        dashed = line(values, rss_top, (COLOURS[1], COLOURS[3], COLOURS[5])[n])
        body += dashed.replace("/>", ' stroke-dasharray="6 4"/>')
        body += (f'<text x="{x(seconds[-1]) - 4}" y="{y0 + h - values[-1] / rss_top * h - 4:.1f}" '
                 f'text-anchor="end" font-size="11">{esc(label)}</text>\n')
    body += line([a for a, _ in rates], rate_top, COLOURS[2])
    body += line([b for _, b in rates], rate_top, COLOURS[4])
    return body


def soak(target, out):
    panels = []
    for name, label in (("soak-sqlite.csv", "SQLite"), ("soak-postgresql.csv", "PostgreSQL")):
        path = target / name
        if path.is_file():
            with path.open() as f:
                rows = list(csv.DictReader(f))
            if rows:
                panels.append((label, rows))
    if not panels:
        print("soak.svg skipped: no target/soak-*.csv (run the load bench with --soak SECS)")
        return
    panel_h = 300
    height = len(panels) * (panel_h + 110) + 20
    body = ""
    for n, (label, rows) in enumerate(panels):
        top = 60 + n * (panel_h + 110)
        body += soak_panel(rows, PAD + 10, top, WIDTH - 2 * PAD - 80, panel_h,
                           f"Soak on {label}: server RSS and throughput")
    (out / "soak.svg").write_text(svg(WIDTH, height, body))
    print(f"wrote {out / 'soak.svg'}")


def main():
    repo = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=repo / "target")
    parser.add_argument("--out", type=Path, default=repo / "docs" / "benchmarks")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    classification(args.target, args.out)
    soak(args.target, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

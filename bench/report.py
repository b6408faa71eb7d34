#!/usr/bin/env python3
"""Turn the raw measurements of bench/run.sh into a table, ratios and checks.

Usage: report.py RAW_TSV META_JSON OUT_BASE
RAW_TSV lines are "round<TAB>target<TAB>metric<TAB>value". Per target and
metric the median over rounds is used. Writes OUT_BASE.md and OUT_BASE.json
and prints the markdown to stdout. Exit status: 0 (checks are reported, not
enforced; run.sh decides what to do with them).

Target "translated" is the switchyard process reached through its Anthropic
front door (POST /v1/messages, translated to the OpenAI mock); it is reported
in a table of its own, as ratios to switchyard's passthrough (target
"switchyard") from the same round, with the translation targets' checks.
"""
import json
import statistics
import sys

TARGETS = ["direct", "nginx", "switchyard"]

# (metric key, label, format) in table order. Derived metrics are added below.
ROWS = [
    ("rps", "Throughput, non-streaming, 64 conns (req/s)", "{:,.0f}"),
    ("rps_errors", "  errors during throughput run", "{:.0f}"),
    ("lat_p50_us", "Latency p50 at fixed rate (us)", "{:.0f}"),
    ("lat_p99_us", "Latency p99 at fixed rate (us)", "{:.0f}"),
    ("added_p50_us", "  added over direct, p50 (us)", "{:.0f}"),
    ("added_p99_us", "  added over direct, p99 (us)", "{:.0f}"),
    ("lat_rate", "  achieved rate (req/s)", "{:.0f}"),
    ("lat_failed", "  failed requests", "{:.0f}"),
    ("lat_machine_busy_pct", "  whole machine busy during the run (%)", "{:.0f}"),
    ("stream_rps", "Streaming, 50-chunk SSE, 64 conns (resp/s)", "{:,.0f}"),
    ("stream_errors", "  errors during streaming run", "{:.0f}"),
    ("ttfb_p50_us", "Time to first chunk, unloaded, p50 (us)", "{:.0f}"),
    ("ttfb_p90_us", "  p90 (us)", "{:.0f}"),
    ("ttfb_hdr_p50_us", "  time to response headers, p50 (us)", "{:.0f}"),
    ("stream_events", "  SSE events per response", "{:.0f}"),
    ("ttfb_machine_busy_pct", "  whole machine busy during the probe (%)", "{:.0f}"),
    ("cpu_us_per_req", "CPU per request, target process (us)", "{:.1f}"),
    ("mock_cpu_us_per_req", "  mock upstream CPU per request (us)", "{:.1f}"),
    ("rss_idle_kb", "RSS idle after start (KiB)", "{:,.0f}"),
    ("rss_conns_kb", "RSS with idle keep-alive conns (KiB)", "{:,.0f}"),
    ("conns_alive", "  idle conns still open at measurement", "{:.0f}"),
    ("kb_per_conn", "  KiB per idle connection", "{:.1f}"),
    ("rss_after_load_kb", "RSS idle after the load runs (KiB)", "{:,.0f}"),
]
# Floor for nginx's added latency when used as a denominator: h2load reports
# whole microseconds and loopback noise is of that order.
ADDED_FLOOR_US = 10.0
MB30_KIB = 30e6 / 1024  # "under 30 MB", decimal MB, in KiB as /proc reports

# The translated path's table: (metric key, label, format), ratios to the
# passthrough.
TR_ROWS = [
    ("rps", "Throughput, non-streaming, 64 conns (req/s)", "{:,.0f}"),
    ("rps_errors", "  errors during throughput run", "{:.0f}"),
    ("stream_rps", "Streaming, 50-chunk SSE, 64 conns (resp/s)", "{:,.0f}"),
    ("stream_errors", "  errors during streaming run", "{:.0f}"),
    ("cpu_us_per_req", "CPU per request, switchyard process (us)", "{:.1f}"),
    ("mock_cpu_us_per_req", "  mock upstream CPU per request (us)", "{:.1f}"),
    ("stream_cpu_us_per_resp", "CPU per streamed response, switchyard process (us)", "{:.1f}"),
    ("lat_p50_us", "Latency p50 at fixed rate (us)", "{:.0f}"),
    ("lat_p99_us", "Latency p99 at fixed rate (us)", "{:.0f}"),
    ("added_p50_us", "  added over direct, p50 (us)", "{:.0f}"),
    ("added_p99_us", "  added over direct, p99 (us)", "{:.0f}"),
    ("lat_failed", "  failed requests", "{:.0f}"),
]


def load(raw_path):
    """{target: {metric: {round: value}}}"""
    vals = {}
    with open(raw_path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            rnd, target, metric, value = parts
            try:
                vals.setdefault(target, {}).setdefault(metric, {})[int(rnd)] = float(value)
            except ValueError:
                pass
    return vals


def main():
    raw_path, meta_path, out_base = sys.argv[1:4]
    with open(meta_path) as f:
        meta = json.load(f)
    raw = load(raw_path)
    # Derived per-round values: latency added over direct in the same round.
    d = raw.get("direct", {})
    for t in ("nginx", "switchyard", "translated"):
        m = raw.get(t)
        if not m:
            continue
        for p in ("p50", "p99"):
            lat, base = m.get(f"lat_{p}_us", {}), d.get(f"lat_{p}_us", {})
            added = {r: v - base[r] for r, v in lat.items() if r in base}
            if added:
                m[f"added_{p}_us"] = added
    med = {t: {k: statistics.median(v.values()) for k, v in ms.items()} for t, ms in raw.items()}
    for t, m in med.items():
        base = m.get("rss_pre_conns_kb", m.get("rss_idle_kb"))
        if "rss_conns_kb" in m and base is not None and m.get("conns_opened"):
            m["kb_per_conn"] = (m["rss_conns_kb"] - base) / m["conns_opened"]

    ng, sy = med.get("nginx", {}), med.get("switchyard", {})
    fake = meta.get("fake_switchyard", False)
    sy_label = "switchyard (FAKE: 2nd nginx)" if fake else "switchyard"

    rs_, rn_ = raw.get("switchyard", {}), raw.get("nginx", {})
    tr = med.get("translated", {})

    def per_round_ratios(metric, floor=None, num="switchyard", den="nginx"):
        a, b = raw.get(num, {}).get(metric, {}), raw.get(den, {}).get(metric, {})
        out = []
        for r in sorted(set(a) & set(b)):
            den = max(b[r], floor) if floor is not None else b[r]
            if den:
                out.append(a[r] / den)
        return out

    def spread(metric, floor=None, num="switchyard", den="nginx"):
        rr = per_round_ratios(metric, floor, num, den)
        return "rounds: " + ", ".join(f"{x:.2f}" for x in rr) if len(rr) > 1 else ""

    def ratio(metric, floor=None, num="switchyard", den="nginx"):
        """Median over rounds of switchyard / nginx (or num / den) measured in
        the same round (the two always run back to back), so slow drifts in
        the machine's load cancel out; single measurements give the plain
        ratio."""
        per_round = per_round_ratios(metric, floor, num, den)
        if per_round:
            return statistics.median(per_round)
        a, b = med.get(num, {}), med.get(den, {})
        if metric in a and metric in b and b[metric]:
            return a[metric] / b[metric]
        return None

    checks = []

    def check(name, value, limit, ok, note=""):
        checks.append({"check": name, "value": value, "limit": limit,
                       "pass": bool(ok) if ok is not None else None, "note": note})

    def ratio_check(name, metric, op, limit):
        r = ratio(metric)
        if r is None:
            check(name, None, f"{op} {limit}x nginx", None, "not measured")
        else:
            check(name, round(r, 3), f"{op} {limit}x nginx", r >= limit if op == ">=" else r <= limit, spread(metric))

    ratio_check("throughput (req/s) vs nginx", "rps", ">=", 0.8)
    for p in ("p50", "p99"):
        key = f"added_{p}_us"
        r = ratio(key, floor=ADDED_FLOOR_US)
        if r is not None:
            check(f"added latency {p} vs nginx's added", round(r, 3), "<= 1.25x nginx",
                  r <= 1.25, f"medians: switchyard adds {sy[key]:.0f} us, nginx {ng[key]:.0f} us"
                  + (f"; {spread(key, ADDED_FLOOR_US)}" if spread(key, ADDED_FLOOR_US) else ""))
        else:
            check(f"added latency {p} vs nginx's added", None, "<= 1.25x nginx", None, "not measured")
    ratio_check("streaming (resp/s) vs nginx", "stream_rps", ">=", 0.9)
    ratio_check("time to first chunk vs nginx", "ttfb_p50_us", "<=", 1.25)
    ratio_check("CPU per request vs nginx", "cpu_us_per_req", "<=", 1.5)
    if "rss_idle_kb" in sy:
        check("RSS idle < 30 MB", sy["rss_idle_kb"], f"< {MB30_KIB:,.0f} KiB", sy["rss_idle_kb"] < MB30_KIB)
    else:
        check("RSS idle < 30 MB", None, "< 30 MB", None, "not measured")
    if "kb_per_conn" in sy:
        ok = sy["kb_per_conn"] < 20 and sy.get("conns_alive", 0) >= sy.get("conns_opened", 1)
        check("RSS per idle conn < 20 KiB", round(sy["kb_per_conn"], 2), "< 20 KiB", ok,
              f"{sy.get('conns_alive', 0):.0f}/{sy.get('conns_opened', 0):.0f} conns alive")
    else:
        check("RSS per idle conn < 20 KiB", None, "< 20 KiB", None, "not measured")
    if sy:
        errs = sum(sy.get(k, 0) for k in ("rps_errors", "stream_errors", "lat_failed"))
        check("no failed requests", errs, "== 0", errs == 0)
    soak = meta.get("soak")
    if soak:
        first, last, mx = soak["rss_first_kb"], soak["rss_last_kb"], soak["rss_max_kb"]
        allow = max(2048, 0.05 * first)
        check(f"RSS flat over {soak['seconds']} s soak", last - first, f"growth <= {allow:.0f} KiB",
              last - first <= allow and soak.get("failed", 0) == 0,
              f"first {first:.0f}, last {last:.0f}, max {mx:.0f} KiB; "
              f"{soak.get('requests', 0):.0f} requests, {soak.get('failed', 0):.0f} failed")

    # The translated path (issue targets: throughput >= 0.7x and streaming
    # >= 0.8x switchyard's own passthrough, measured in the same round).
    tr_checks = []
    if tr:
        for name, metric, limit in (("translated throughput (req/s) vs passthrough", "rps", 0.7),
                                    ("translated streaming (resp/s) vs passthrough streaming", "stream_rps", 0.8)):
            r = ratio(metric, num="translated", den="switchyard")
            tr_checks.append({"check": name, "value": round(r, 3) if r is not None else None,
                              "limit": f">= {limit}x passthrough",
                              "pass": (r >= limit) if r is not None else None,
                              "note": spread(metric, num="translated", den="switchyard") if r is not None
                              else "not measured", "group": "translation"})
        errs = sum(tr.get(k, 0) for k in ("rps_errors", "stream_errors", "lat_failed"))
        tr_checks.append({"check": "no failed translated requests", "value": errs, "limit": "== 0",
                          "pass": errs == 0, "note": "", "group": "translation"})

    def fmt_value(v):
        if v is None:
            return "-"
        if isinstance(v, float) and v.is_integer():
            return f"{int(v):,}"
        if isinstance(v, (int, float)):
            return f"{v:,}"
        return v

    # Markdown.
    out = []
    out.append(f"# Switchyard benchmark {meta.get('timestamp', '')}")
    out.append("")
    if fake:
        out.append("**PLUMBING TEST: the switchyard column is a second nginx, not Switchyard. "
                   "Not a result.**")
        out.append("")
    out.append(f"- machine: {meta.get('machine', '?')}")
    out.append(f"- commit: {meta.get('commit', '?')} ({meta.get('build', '?')} build); mode: {meta.get('mode', '?')}; rounds: {meta.get('rounds', 1)}")
    out.append(f"- threads: gateway {meta.get('threads')}, nginx workers {meta.get('threads')}, "
               f"mock {meta.get('mock_threads')}; load: wrk -t{meta.get('wrk_threads')}, "
               f"h2load at {meta.get('lat_rate')} req/s on {meta.get('lat_conns')} conns")
    out.append(f"- every benchmark process at nice {meta.get('nice', 0)}; no CPU pinning")
    out.append(f"- load average at start / end: {meta.get('loadavg_start', '?')} / {meta.get('loadavg_end', '?')}")
    busy = [m.get(k) for m in med.values() for k in ("lat_machine_busy_pct", "ttfb_machine_busy_pct")]
    busy = [b for b in busy if b is not None]
    if busy and max(busy) > 25:
        out.append(f"- **the machine was busy with other work during the low-load runs (up to {max(busy):.0f}% "
                   "of both cores): wake-up delays then swamp the tens of microseconds a proxy adds, so the "
                   "latency and first-chunk ratios are unreliable; rerun with --wait-idle 120 when it is quiet**")
    out.append("")
    out.append(f"| metric | mock direct | nginx | {sy_label} | switchyard / nginx (median of per-round ratios) |")
    out.append("| --- | ---: | ---: | ---: | ---: |")
    for key, label, fmt in ROWS:
        if not any(key in med.get(t, {}) for t in TARGETS):
            continue
        cells = []
        for t in TARGETS:
            v = med.get(t, {}).get(key)
            cells.append(fmt.format(v) if v is not None else "-")
        r = ratio(key, floor=ADDED_FLOOR_US if key.startswith("added_") else None)
        rs = f"{r:.2f}x" if r is not None and not key.endswith(("errors", "failed", "alive", "events")) else ""
        label = label.replace("idle keep-alive conns", f"{meta.get('idle_conns')} idle keep-alive conns")
        out.append(f"| {label} | " + " | ".join(cells) + f" | {rs} |")
    out.append("")
    out.append("| target from issue 2 | measured | limit | result |")
    out.append("| --- | ---: | ---: | --- |")
    for c in checks:
        v = c["value"]
        if v is None:
            v = "-"
        elif isinstance(v, float) and v.is_integer():
            v = f"{int(v):,}"
        elif isinstance(v, (int, float)):
            v = f"{v:,}"
        res = "n/a" if c["pass"] is None else ("PASS" if c["pass"] else "FAIL")
        note = f" ({c['note']})" if c["note"] else ""
        out.append(f"| {c['check']}{note} | {v} | {c['limit']} | {res} |")
    if tr:
        out.append("")
        out.append("Translated path: Anthropic-SDK-shaped `POST /v1/messages` (`x-api-key`, "
                   f"`anthropic-version: {meta.get('anthropic_version', '2023-06-01')}`) to switchyard, "
                   "translated to an OpenAI chat request to the same mock and back; same load as above. "
                   "Ratios: translated / passthrough (switchyard's `/v1/chat/completions`), same round.")
        out.append("")
        out.append("| metric | switchyard passthrough | switchyard translated | translated / passthrough |")
        out.append("| --- | ---: | ---: | ---: |")
        for key, label, fmt in TR_ROWS:
            if key not in tr:
                continue
            cells = []
            for t in ("switchyard", "translated"):
                v = med.get(t, {}).get(key)
                cells.append(fmt.format(v) if v is not None else "-")
            r = ratio(key, floor=ADDED_FLOOR_US if key.startswith("added_") else None,
                      num="translated", den="switchyard")
            rs = f"{r:.2f}x" if r is not None and not key.endswith(("errors", "failed")) else ""
            out.append(f"| {label} | " + " | ".join(cells) + f" | {rs} |")
        out.append("")
        out.append("| target for the translated path | measured | limit | result |")
        out.append("| --- | ---: | ---: | --- |")
        for c in tr_checks:
            res = "n/a" if c["pass"] is None else ("PASS" if c["pass"] else "FAIL")
            note = f" ({c['note']})" if c["note"] else ""
            out.append(f"| {c['check']}{note} | {fmt_value(c['value'])} | {c['limit']} | {res} |")
    if soak:
        out.append("")
        out.append(f"Soak: {soak['seconds']} s at {soak.get('rate', '?')} req/s non-streaming + "
                   f"{soak.get('stream_rate', '?')} streams/s; RSS samples every 10 s (KiB): "
                   + ", ".join(f"{x:.0f}" for x in soak.get("samples_kb", [])))
    md = "\n".join(out) + "\n"
    with open(out_base + ".md", "w") as f:
        f.write(md)
    with open(out_base + ".json", "w") as f:
        raw_out = {t: {k: {str(r): v for r, v in rv.items()} for k, rv in ms.items()} for t, ms in raw.items()}
        json.dump({"meta": meta, "results": med, "per_round": raw_out, "checks": checks + tr_checks}, f, indent=2, sort_keys=True)
        f.write("\n")
    sys.stdout.write(md)


if __name__ == "__main__":
    main()

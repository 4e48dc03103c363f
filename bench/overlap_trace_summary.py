#!/usr/bin/env python3
# Usage: python3 bench/overlap_trace_summary.py TRACE.json  (a trace of `mpirun -np 2 strata bench ... --tp 2 [--overlap] --trace TRACE.json`)
"""Summarises a Strata trace of an mpirun tp job: per rank, the prompt step's wall time, the time its compute
track is busy with ops, the collectives' in-flight time, and how much of that in-flight time overlaps compute
slices of the other half (ops named "(B)" for lane A's collectives, "(A)" for lane B's)."""
import json, sys

def merge(iv):
    out = []
    for b, e in sorted(iv):
        if out and b <= out[-1][1]: out[-1][1] = max(out[-1][1], e)
        else: out.append([b, e])
    return out

def overlap(a, b):  # total length of the intersection of two merged interval lists
    i = j = 0; t = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo: t += hi - lo
        if a[i][1] < b[j][1]: i += 1
        else: j += 1
    return t

doc = json.load(open(sys.argv[1]))
ev = doc["traceEvents"]
names = {e["tid"]: e["args"]["name"] for e in ev if e.get("ph") == "M" and e.get("name") == "thread_name"}
x = [e for e in ev if e.get("ph") == "X"]
ranks = sorted({int(n.split()[-1]) for n in names.values() if n.startswith("compute rank")})
for r in ranks:
    tid = {n: t for t, n in names.items()}
    comp = [e for e in x if e["tid"] == tid[f"compute rank {r}"]]
    steps = [e for e in comp if e["name"] == "step"]
    prompt = max(steps, key=lambda e: e["args"].get("tokens", 0))  # the prompt step (largest)
    b0, b1 = prompt["ts"], prompt["ts"] + prompt["dur"]
    inside = lambda e: b0 <= e["ts"] and e["ts"] + e["dur"] <= b1
    ops = [e for e in comp if e["name"] != "step" and inside(e)]
    busy = merge([(e["ts"], e["ts"] + e["dur"]) for e in ops])
    lanes = {"A": tid.get(f"collectives rank {r}"), "B": tid.get(f"collectives rank {r} (B)")}
    coll, over = 0, 0
    for lane, t in lanes.items():
        if t is None: continue
        cs = merge([(e["ts"], e["ts"] + e["dur"]) for e in x if e["tid"] == t and inside(e)])
        other = "(B)" if lane == "A" else "(A)"
        other_ops = merge([(e["ts"], e["ts"] + e["dur"]) for e in ops if e["name"].endswith(other)])
        coll += sum(e - b for b, e in cs)
        over += overlap(cs, other_ops)
    busy_us = sum(e - b for b, e in busy)
    print(f"rank {r}: prompt step {prompt['args'].get('tokens')} tokens {prompt['dur']/1e3:.1f} ms; ops busy {busy_us/1e3:.1f} ms; "
          f"idle (waiting) {(prompt['dur']-busy_us)/1e3:.1f} ms; collectives in flight {coll/1e3:.1f} ms, "
          f"of which overlapping the other half's compute {over/1e3:.1f} ms ({100*over/max(coll,1):.0f}%)")

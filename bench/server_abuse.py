#!/usr/bin/python3
"""Sends each abusive request of issue 12 twenty times to a fresh `strata serve` and prints, per case, the status,
the first message, the median time and the server's RSS after the 20 repeats; after each repeat a normal request
must still get 200. Standard library only.

    bench/server_abuse.py BUILD/src/cli/strata MODEL.gguf [--repeats 20]
"""
import argparse, json, os, socket, statistics, subprocess, sys, time, urllib.request, urllib.error

def deep_schema(levels):
    # {"type":"object","properties":{"a": ... }} nested `levels` deep, built as text (json.dumps would recurse).
    head = '{"type":"object","properties":{"a":' * levels
    return head + '{"type":"string"}' + '}}' * levels

CASES = [
    ("deep response_format schema, 50,000 levels", "/v1/chat/completions", None),
    ("prompt [4294967301]", "/v1/completions", {"prompt": [4294967301], "max_tokens": 2}),
    ("prompt [1099511627776]", "/v1/completions", {"prompt": [1099511627776], "max_tokens": 2}),
    ("prompt [2147483648]", "/v1/completions", {"prompt": [2147483648], "max_tokens": 2}),
    ("stop_token_ids [4294967301]", "/v1/completions", {"prompt": "Once", "max_tokens": 2, "stop_token_ids": [4294967301]}),
    ("max_tokens 2^63", "/v1/completions", {"prompt": "Once", "max_tokens": 2**63}),
    ("schema {\"$ref\": \"#\"}", "/v1/completions", {"prompt": "Once", "max_tokens": 16,
        "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"$ref": "#"}}}}),
    ("schema minimum > maximum", "/v1/completions", {"prompt": "Once", "max_tokens": 16,
        "response_format": {"type": "json_schema", "json_schema": {"name": "r",
            "schema": {"type": "integer", "minimum": 10, "maximum": 5}}}}),
    ("schema minLength beyond the budget", "/v1/completions", {"prompt": "Once", "max_tokens": 16,
        "response_format": {"type": "json_schema", "json_schema": {"name": "r",
            "schema": {"type": "string", "minLength": 100000}}}}),
    ("unknown role", "/v1/chat/completions", {"messages": [{"role": "wizard", "content": "hi"}], "max_tokens": 2}),
    ("missing content", "/v1/chat/completions", {"messages": [{"role": "user"}], "max_tokens": 2}),
    ("null content", "/v1/chat/completions", {"messages": [{"role": "user", "content": None}], "max_tokens": 2}),
    ("top_k -5", "/v1/completions", {"prompt": "Once", "max_tokens": 2, "top_k": -5}),
    ("best_of 3", "/v1/completions", {"prompt": "Once", "max_tokens": 2, "best_of": 3}),
    ("suffix", "/v1/completions", {"prompt": "Once", "max_tokens": 2, "suffix": "end"}),
    ("echo true", "/v1/completions", {"prompt": "Once", "max_tokens": 2, "echo": True}),
]

def post(port, path, body, timeout=120):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers={"Content-Type": "application/json"})
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, text = r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode(errors="replace")
    except Exception as e:  # the server died or hung
        status, text = -1, repr(e)
    return status, text, time.monotonic() - t0

def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary"); ap.add_argument("model"); ap.add_argument("--repeats", type=int, default=20)
    a = ap.parse_args()
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    srv = subprocess.Popen([a.binary, "serve", "-m", a.model, "--port", str(port), "-t", "1"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1); break
            except Exception:
                time.sleep(0.1)
        normal = json.dumps({"prompt": "Once", "max_tokens": 2}).encode()
        print(f"baseline RSS {rss_mb(srv.pid):.0f} MB")
        print("| request | status | message | median s | RSS after repeats MB | normal after each |")
        print("|---|---|---|---|---|---|")
        for name, path, body in CASES:
            data = (('{"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"response_format":'
                     '{"type":"json_schema","json_schema":{"name":"deep","schema":' + deep_schema(50000) + '}}}').encode()
                    if body is None else json.dumps(body).encode())
            times, statuses, msg, normal_ok = [], set(), "", 0
            for _ in range(a.repeats):
                st, text, dt = post(port, path, data)
                times.append(dt); statuses.add(st)
                if not msg:
                    try: msg = json.loads(text)["error"]["message"][:90]
                    except Exception: msg = "(no error: " + text[:60].replace("\n", " ") + ")"
                normal_ok += post(port, "/v1/completions", normal)[0] == 200
            print(f"| {name} | {','.join(map(str, sorted(statuses)))} | {msg.replace('|', '/')} | "
                  f"{statistics.median(times):.3f} | {rss_mb(srv.pid):.0f} | {normal_ok}/{a.repeats} |", flush=True)
    finally:
        srv.terminate(); srv.wait()

if __name__ == "__main__":
    sys.exit(main())

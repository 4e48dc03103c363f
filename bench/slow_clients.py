#!/usr/bin/python3
"""Issue 12's slow-client attack against a fresh `strata serve`: CONNECTIONS connections (spread over the given
source addresses, all loopback) each trickle one header line every INTERVAL seconds for SECONDS, a closed one
reopened at the next tick; meanwhile a normal client on 127.0.0.1 sends sequential completions. Prints the
normal requests' statuses and latencies (before and during the attack), what the attackers were answered, and
the server's RSS, threads and open descriptors. Standard library only.

    bench/slow_clients.py BUILD/src/cli/strata MODEL.gguf [--connections 600] [--interval 3] [--seconds 45]
                          [--sources 127.0.0.2,127.0.0.3]
"""
import argparse, collections, http.client, json, os, select, socket, subprocess, sys, threading, time

def proc(pid, key):
    with open(f"/proc/{pid}/status") as f:
        return next((l.split(":", 1)[1].strip() for l in f if l.startswith(key + ":")), "?")

def server_state(pid):
    return (f"RSS {proc(pid, 'VmRSS')}, threads {proc(pid, 'Threads')}, "
            f"fds {len(os.listdir(f'/proc/{pid}/fd'))}")

def normal_requests(port, n, label):
    for i in range(n):
        t = time.monotonic()
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("POST", "/v1/completions", json.dumps({"prompt": "Once upon a time", "max_tokens": 8}),
                      {"Content-Type": "application/json"})
            st = c.getresponse().status
        except Exception as e:
            st = type(e).__name__
        print(f"{label} request {i}: {st} {1000 * (time.monotonic() - t):.0f} ms", flush=True)

def attack(port, n, interval, duration, sources, stats):
    def open_one(i):
        s = socket.socket()
        s.bind((sources[i % len(sources)], 0))
        try:
            s.connect(("127.0.0.1", port)); s.setblocking(False); s.send(b"GET /health HTTP/1.1\r\n")
            stats["opened"] += 1
        except OSError:
            stats["connect_error"] += 1
        return s
    socks = {i: open_one(i) for i in range(n)}
    start = last = time.monotonic(); line = 0; reopen = []
    while time.monotonic() - start < duration:
        ready, _, _ = select.select([s for s in socks.values() if s], [], [], 0.2)
        for s in ready:
            i = next(k for k, v in socks.items() if v is s)
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            stats[data[9:12].decode() if data.startswith(b"HTTP/1.1") else "closed"] += 1
            s.close(); socks[i] = None; reopen.append(i)
        if time.monotonic() - last >= interval:
            last = time.monotonic(); line += 1
            for i in reopen: socks[i] = open_one(i)
            reopen = []
            for s in socks.values():
                if s:
                    try: s.send(b"X-Trickle-%d: 1\r\n" % line)
                    except OSError: pass
    for s in socks.values():
        if s: s.close()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary"); ap.add_argument("model")
    ap.add_argument("--connections", type=int, default=600); ap.add_argument("--interval", type=float, default=3)
    ap.add_argument("--seconds", type=float, default=45); ap.add_argument("--sources", default="127.0.0.2")
    ap.add_argument("--requests", type=int, default=8)
    a = ap.parse_args()
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    srv = subprocess.Popen([a.binary, "serve", "-m", a.model, "--port", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close(); break
            except OSError:
                time.sleep(0.1)
        normal_requests(port, 5, "baseline")
        print("before the attack:", server_state(srv.pid), flush=True)
        stats = collections.Counter()
        t = threading.Thread(target=attack, args=(port, a.connections, a.interval, a.seconds,
                                                  a.sources.split(","), stats))
        t.start(); time.sleep(8)
        print("8 s into the attack:", server_state(srv.pid), flush=True)
        normal_requests(port, a.requests, "during the attack")
        t.join()
        print("attackers were answered:", dict(stats))
    finally:
        srv.terminate(); srv.wait()

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Embeddings per second from a running `strata serve` ($STRATA_URL): REQUESTS requests of BATCH texts each
(distinct sentences of about WORDS words), one client, and the same texts one per request; prints inputs/s and
tokens/s of each. Standard library only.
usage: STRATA_URL=http://127.0.0.1:8000 bench/embeddings_rate.py [--requests 20] [--batch 32] [--words 12]
(or through tests/server/run_with_server.sh, which starts the server and sets STRATA_URL)."""
import argparse
import json
import os
import time
import urllib.request

WORDS = "the a cat dog sat ran on under mat tree house river quickly slowly red blue big small old new".split()


def post(url, body):
    req = urllib.request.Request(url + "/v1/embeddings", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + os.environ.get("STRATA_API_KEY", "none")})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--words", type=int, default=12)
    a = ap.parse_args()
    url = os.environ["STRATA_URL"]
    texts = [" ".join(WORDS[(i * 7 + j * 3 + i // 5) % len(WORDS)] for j in range(a.words)) + f" {i}."
             for i in range(a.requests * a.batch)]
    post(url, {"input": texts[:a.batch]})  # warm-up: the embedder is made at the first request
    for label, size in (("batched", a.batch), ("one by one", 1)):
        todo = texts if size > 1 else texts[: a.requests * 4]
        tokens = 0
        t0 = time.perf_counter()
        for i in range(0, len(todo), size):
            tokens += post(url, {"input": todo[i:i + size]})["usage"]["prompt_tokens"]
        dt = time.perf_counter() - t0
        print(f"{label:10s}: {len(todo)} inputs ({size} a request), {tokens} tokens in {dt:.2f} s: "
              f"{len(todo) / dt:.1f} embeddings/s, {tokens / dt:.0f} tokens/s")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes a Hugging Face Llama folder (config.json, model*.safetensors [+ index], tokenizer.json,
tokenizer_config.json) holding the weights of a GGUF file, with numpy and torch only (not Strata), for the
tests that check Strata computes the same logits from both. Independent of Strata's code on purpose:
  - the GGUF is read by the small reader below (F32/F16 tensors, written from the GGUF specification);
  - q/k rows are put back in Hugging Face's rotate-half order: the inverse of convert_hf_to_gguf.py's
    permute (reshape(n_head, 2, head_dim/2, in).swapaxes(1, 2));
  - safetensors files are written by hand from the format's specification (8-byte little-endian header length,
    JSON header padded with spaces to a multiple of 8, data in header order); BF16 through torch;
  - tokenizer.json is the "LlamaTokenizerFast" shape transformers writes for a SentencePiece BPE vocabulary:
    BPE with byte fallback, merges of every vocab piece split into two vocab pieces, ordered by the piece's id.

  make_hf_folder.py GGUF OUT_DIR [--dtype f32|f16|bf16] [--shards N] [--norms-f32]
  make_hf_folder.py --random-from TOKENIZER_DIR OUT_DIR [--dtype ...] [--dim 64] [--layers 1]
The second form writes a small Llama (ffn 2*dim, dim/64 heads, at least 4) with seeded random weights and tied embeddings around the
tokenizer.json/tokenizer_config.json of TOKENIZER_DIR (vocab_size: the largest token id + 1).
Exit code 77 (skip) when numpy or torch is missing.
"""
import argparse
import json
import os
import struct
import sys

try:
    import numpy as np
    import torch
except ImportError as e:  # the tests skip on 77
    print(f"skip: {e}", file=sys.stderr)
    sys.exit(77)

SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class Gguf:
    def __init__(self, path):
        self.buf, self.pos = open(path, "rb").read(), 0
        assert self.take(4) == b"GGUF"
        _, n_tensors, n_kv = struct.unpack("<IQQ", self.take(20))
        self.meta = {}
        for _ in range(n_kv):
            key = self.string()
            self.meta[key] = self.value(struct.unpack("<I", self.take(4))[0])
        infos = []
        for _ in range(n_tensors):
            name = self.string()
            nd = struct.unpack("<I", self.take(4))[0]
            dims = struct.unpack(f"<{nd}Q", self.take(8 * nd))
            infos.append((name, dims) + struct.unpack("<IQ", self.take(12)))
        align = self.meta.get("general.alignment", 32)
        data = self.pos + (-self.pos) % align
        self.tensors = {}
        for name, dims, gtype, off in infos:
            assert gtype in (0, 1), f"{name}: only F32/F16 GGUF tensors are read (type {gtype})"
            n = int(np.prod(dims))
            arr = np.frombuffer(self.buf, "<f4" if gtype == 0 else "<f2", n, data + off)
            self.tensors[name] = arr.astype(np.float32).reshape(tuple(reversed(dims)))

    def take(self, n):
        self.pos += n
        return self.buf[self.pos - n:self.pos]

    def string(self):
        return self.take(struct.unpack("<Q", self.take(8))[0]).decode("utf-8")

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = struct.unpack("<IQ", self.take(12))
            return [self.value(et) for _ in range(n)]
        return struct.unpack(SCALARS[t], self.take(struct.calcsize(SCALARS[t])))[0]


def unpermute(w, n_head):
    """GGUF rows (2i, 2i+1) of each head back to Hugging Face rows (i, i + head_dim/2)."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


LAYER = {"attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
         "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj", "ffn_norm": "post_attention_layernorm",
         "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj"}
GLOBAL = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
          "output.weight": "lm_head.weight"}


def hf_tensors(g):
    heads, kv_heads = g.meta["llama.attention.head_count"], g.meta["llama.attention.head_count_kv"]
    out = {}
    for name, w in g.tensors.items():
        if name in GLOBAL:
            out[GLOBAL[name]] = w
            continue
        _, layer, kind, _ = name.split(".")
        if kind == "attn_q":
            w = unpermute(w, heads)
        elif kind == "attn_k":
            w = unpermute(w, kv_heads)
        out[f"model.layers.{layer}.{LAYER[kind]}.weight"] = w
    return out


def raw_bytes(w, dtype):
    if dtype == "bf16":
        return torch.from_numpy(np.ascontiguousarray(w)).to(torch.bfloat16).view(torch.int16).numpy().tobytes()
    return np.ascontiguousarray(w).astype("<f4" if dtype == "f32" else "<f2").tobytes()


def write_safetensors(path, tensors, dtype, norms_f32):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, w in tensors:
        t = "f32" if norms_f32 and w.ndim == 1 else dtype
        blob = raw_bytes(w, t)
        header[name] = {"dtype": t.upper(), "shape": list(w.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((-len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for b in blobs:
            f.write(b)


def write_weights(out, tensors, dtype, shards, norms_f32):
    names = sorted(tensors)
    if shards == 1:
        write_safetensors(os.path.join(out, "model.safetensors"), [(n, tensors[n]) for n in names], dtype, norms_f32)
        return
    weight_map = {}
    for s in range(shards):
        part = names[s::shards]
        file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(os.path.join(out, file), [(n, tensors[n]) for n in part], dtype, norms_f32)
        weight_map.update({n: file for n in part})
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)


def config(g, tensors):
    m = g.meta
    heads = m["llama.attention.head_count"]
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
            "hidden_size": m["llama.embedding_length"], "intermediate_size": m["llama.feed_forward_length"],
            "num_hidden_layers": m["llama.block_count"], "num_attention_heads": heads,
            "num_key_value_heads": m["llama.attention.head_count_kv"],
            "head_dim": m["llama.embedding_length"] // heads,
            "max_position_embeddings": m["llama.context_length"],
            "rms_norm_eps": m["llama.attention.layer_norm_rms_epsilon"],
            "rope_theta": m.get("llama.rope.freq_base", 10000.0), "rope_scaling": None,
            "vocab_size": len(m["tokenizer.ggml.tokens"]),
            "tie_word_embeddings": "lm_head.weight" not in tensors,
            "bos_token_id": m.get("tokenizer.ggml.bos_token_id", 1), "eos_token_id": m.get("tokenizer.ggml.eos_token_id", 2),
            "attention_bias": False, "mlp_bias": False, "torch_dtype": "float32"}


def tokenizer_json(g):
    tokens, types = g.meta["tokenizer.ggml.tokens"], g.meta["tokenizer.ggml.token_type"]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = []
    for i, t in enumerate(tokens):
        if types[i] != 1 or len(t) < 2:
            continue
        for k in range(1, len(t)):
            a, b = t[:k], t[k:]
            if a in vocab and b in vocab:
                merges.append((i, vocab[a], vocab[b], a, b))
    merges.sort()
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, t in enumerate(tokens) if types[i] == 3]
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": {"type": "Sequence", "normalizers": [
                {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
            "pre_tokenizer": None,
            "post_processor": {"type": "TemplateProcessing",
                               "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                               "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                        {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                               "special_tokens": {"<s>": {"id": "<s>", "ids": [vocab.get("<s>", 1)], "tokens": ["<s>"]}}},
            "decoder": {"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
                {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
            "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                      "vocab": vocab, "merges": [f"{a} {b}" for _, _, _, a, b in merges]}}


def tokenizer_config(g):
    tokens = g.meta["tokenizer.ggml.tokens"]
    cfg = {"tokenizer_class": "LlamaTokenizerFast", "add_bos_token": True, "add_eos_token": False,
           "bos_token": tokens[g.meta.get("tokenizer.ggml.bos_token_id", 1)],
           "eos_token": tokens[g.meta.get("tokenizer.ggml.eos_token_id", 2)], "unk_token": "<unk>",
           "legacy": False, "model_max_length": g.meta["llama.context_length"]}
    if "tokenizer.chat_template" in g.meta:
        cfg["chat_template"] = g.meta["tokenizer.chat_template"]
    return cfg


def random_folder(tok_dir, out, dtype, dim=64, layers=1):
    import shutil
    os.makedirs(out, exist_ok=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(tok_dir, f), os.path.join(out, f))
    tok = json.load(open(os.path.join(tok_dir, "tokenizer.json"), encoding="utf-8"))
    n_vocab = 1 + max(list(tok["model"]["vocab"].values()) + [t["id"] for t in tok.get("added_tokens", [])])
    ffn, heads = 2 * dim, max(4, dim // 64)
    kv = heads // 2
    rng = np.random.default_rng(7)
    normal = lambda std, shape: rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
    t = {"model.embed_tokens.weight": normal(1, (n_vocab, dim)), "model.norm.weight": 1 + normal(0.1, dim)}
    for layer in range(layers):
        p = f"model.layers.{layer}."
        t[p + "input_layernorm.weight"] = 1 + normal(0.1, dim)
        t[p + "post_attention_layernorm.weight"] = 1 + normal(0.1, dim)
        for name, shape in [("self_attn.q_proj", (dim, dim)), ("self_attn.k_proj", (dim * kv // heads, dim)),
                            ("self_attn.v_proj", (dim * kv // heads, dim)), ("self_attn.o_proj", (dim, dim)),
                            ("mlp.gate_proj", (ffn, dim)), ("mlp.up_proj", (ffn, dim)), ("mlp.down_proj", (dim, ffn))]:
            t[p + name + ".weight"] = normal(1 / np.sqrt(shape[1]), shape)
    write_weights(out, t, dtype, 1, False)
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu", "hidden_size": dim,
           "intermediate_size": ffn, "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv,
           "max_position_embeddings": 256, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "vocab_size": n_vocab,
           "tie_word_embeddings": True}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf", nargs="?")
    ap.add_argument("out")
    ap.add_argument("--random-from")
    ap.add_argument("--dim", type=int, default=64, help="--random-from: hidden size")
    ap.add_argument("--layers", type=int, default=1, help="--random-from: layers")
    ap.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--norms-f32", action="store_true", help="keep 1-D tensors f32 (as GGUF files do)")
    a = ap.parse_args()
    if a.random_from:
        return random_folder(a.random_from, a.out, a.dtype, a.dim, a.layers)
    g = Gguf(a.gguf)
    os.makedirs(a.out, exist_ok=True)
    tensors = hf_tensors(g)
    write_weights(a.out, tensors, a.dtype, a.shards, a.norms_f32)
    for name, obj in [("config.json", config(g, tensors)), ("tokenizer.json", tokenizer_json(g)),
                      ("tokenizer_config.json", tokenizer_config(g))]:
        with open(os.path.join(a.out, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()

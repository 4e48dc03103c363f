#!/usr/bin/env python3
"""Writes the small GGUF seed files of fuzz/corpus/gguf_fuzz/ (committed; rerun only to change them).

Hand-built with struct so that each seed stays under 2 KB yet reaches every part of the reader: a tokenizer
(tokenizer.ggml.*), llama.* hyper-parameters, nested arrays, every scalar type, tensors of several types.
"""
import os
import struct

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
          U64: "<Q", I64: "<q", F64: "<d"}


def s(text):
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def value(t, v):
    if t == STR:
        return s(v)
    if t == ARR:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(value(et, x) for x in items)
    return struct.pack(SCALAR[t], v)


def gguf(kvs, tensors, version=3, align=32):
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, t, v in kvs:
        out += s(key) + struct.pack("<I", t) + value(t, v)
    offset, data = 0, b""
    for name, dims, ggml_type, nbytes in tensors:
        out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ggml_type, offset)
        data += bytes(nbytes) + bytes((-nbytes) % align)
        offset += nbytes + (-nbytes) % align
    out += bytes((-len(out)) % align)
    return out + data


TOKENS = ["<unk>", "<s>", "</s>", "<0x0A>", "<0xC3>", "<0xA9>", "\u2581", "\u2581H", "ello", "\u2581Hello", "a", "b"]
TOKENIZER = [
    ("tokenizer.ggml.model", STR, "llama"),
    ("tokenizer.ggml.tokens", ARR, (STR, TOKENS)),
    ("tokenizer.ggml.scores", ARR, (F32, [0.0, 0.0, 0.0] + [-float(i) for i in range(len(TOKENS) - 3)])),
    ("tokenizer.ggml.token_type", ARR, (I32, [2, 3, 3, 6, 6, 6] + [1] * (len(TOKENS) - 6))),
    ("tokenizer.ggml.bos_token_id", U32, 1),
    ("tokenizer.ggml.eos_token_id", U32, 2),
    ("tokenizer.ggml.add_bos_token", BOOL, True),
]
LLAMA = [
    ("general.architecture", STR, "llama"),
    ("llama.embedding_length", U32, 8),
    ("llama.block_count", U32, 1),
    ("llama.attention.head_count", U32, 2),
    ("llama.attention.head_count_kv", U32, 1),
    ("llama.feed_forward_length", U32, 16),
    ("llama.context_length", U32, 64),
    ("llama.rope.freq_base", F32, 10000.0),
    ("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
]
ALL_TYPES = [
    ("u8", U8, 7), ("i8", I8, -7), ("u16", U16, 700), ("i16", I16, -700), ("u32", U32, 70000),
    ("i32", I32, -70000), ("f32", F32, 1.5), ("bool", BOOL, False), ("str", STR, "caf\u00e9"),
    ("u64", U64, 2**40), ("i64", I64, -2**40), ("f64", F64, 2.5),
    ("nested", ARR, (ARR, [(U8, [1, 2]), (STR, ["x", "y"]), (ARR, [(BOOL, [True])])])),
    ("general.alignment", U32, 64),
]
SEEDS = {
    "tokenizer_llama.gguf": gguf(LLAMA + TOKENIZER, [("token_embd.weight", [8, 12], 0, 8 * 12 * 4),
                                                      ("output_norm.weight", [8], 0, 32)]),
    "all_types_v2.gguf": gguf(ALL_TYPES, [("q8", [32, 2], 8, 2 * 34), ("f16", [4, 4], 1, 32)], version=2, align=64),
    "empty.gguf": gguf([], []),
}

if __name__ == "__main__":
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "gguf_fuzz")
    for name, data in SEEDS.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)

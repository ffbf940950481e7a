"""Writes the seed corpus: small valid GGUF and safetensors files covering every value and
tensor type the readers accept. Run once; the outputs are committed under corpus/."""
import json
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_seed():
    kv = [
        (b"general.architecture", 8, gguf_string("llama")),
        (b"llama.block_count", 4, struct.pack("<I", 2)),
        (b"llama.rope.freq_base", 6, struct.pack("<f", 10000.0)),
        (b"tokenizer.ggml.add_bos_token", 7, struct.pack("<?", True)),
        (b"llama.attention.head_count", 9, struct.pack("<IQ", 5, 2) + struct.pack("<ii", 4, 2)),
        (b"tokenizer.ggml.tokens", 9, struct.pack("<IQ", 8, 2) + gguf_string("a") + gguf_string("b")),
        (b"general.count", 10, struct.pack("<Q", 7)),
        (b"general.offset", 11, struct.pack("<q", -7)),
        (b"general.scale", 12, struct.pack("<d", 0.5)),
    ]
    # name, ggml ne (innermost first), type, payload
    q8 = struct.pack("<e", 0.25) + bytes(range(32))
    q4 = struct.pack("<e", 0.5) + bytes(range(16))
    tensors = [
        ("a.weight", [3, 2], 0, struct.pack("<6f", *range(6))),
        ("b.weight", [4], 1, struct.pack("<4e", 1, 2, 3, 4)),
        ("c.weight", [4], 30, struct.pack("<4H", 0x3F80, 0x4000, 0x4040, 0x4080)),
        ("d.weight", [32], 8, q8),
        ("e.weight", [32], 2, q4),
    ]
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for key, vtype, payload in kv:
        out += struct.pack("<Q", len(key)) + key + struct.pack("<I", vtype) + payload
    offset = 0
    for name, ne, ttype, payload in tensors:
        out += gguf_string(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
        out += struct.pack("<IQ", ttype, offset)
        offset += (len(payload) + 31) // 32 * 32
    out += bytes(-len(out) % 32)
    for _, _, _, payload in tensors:
        out += payload + bytes(-len(payload) % 32)
    return out


def safetensors_seed():
    tensors = [("a", "F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)),
               ("b", "BF16", [3], struct.pack("<3H", 0x3F80, 0x4000, 0x4040)),
               ("c", "I64", [1, 2], struct.pack("<2q", 5, -6))]
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, dtype, shape, payload in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


for name, blob in (("gguf/seed.gguf", gguf_seed()), ("safetensors/seed.safetensors", safetensors_seed())):
    path = os.path.join(here, "corpus", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(blob)

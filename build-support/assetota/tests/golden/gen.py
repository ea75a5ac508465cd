#!/usr/bin/env python3
"""Independent generator of the manifest v1 golden vectors.

Writes tests/golden/*.bin and prints the annotated hex dumps pasted into
docs/manifest-format.md. It shares no code with the Rust encoder/decoder on purpose:
SHA-256s come from `sha256sum`, the CRC from Python's zlib, the layout from struct.
Compressed sizes come from Python's zlib (raw deflate, level 6) and lzma (xz preset 6);
to the format they are just numbers. Run from anywhere: python3 gen.py
"""
import lzma
import os
import struct
import subprocess
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.path.join(HERE, "assets")
CODEC_NONE, CODEC_DEFLATE, CODEC_XZ = 0, 1, 2
PARTICLE_CONTAINER = 124  # + len(name): Particle's module overhead (docs/particle-platforms.md)


def sha256sum(path):
    out = subprocess.run(["sha256sum", path], check=True, capture_output=True, text=True).stdout
    return bytes.fromhex(out.split()[0])


def compressed_len(data, codec, param):
    if codec == CODEC_NONE:
        return len(data)
    if codec == CODEC_DEFLATE:
        c = zlib.compressobj(6, zlib.DEFLATED, -param)
        return len(c.compress(data) + c.flush())
    return len(lzma.compress(data, format=lzma.FORMAT_XZ, preset=6))


def asset(name, file, codec, param, container):
    path = os.path.join(ASSETS, file)
    data = open(path, "rb").read()
    comp = compressed_len(data, codec, param)
    stored = comp + (container + len(name.encode()) if container else 0)
    return dict(name=name, size=len(data), codec=codec, param=param,
                comp=comp, stored=stored, sha=sha256sum(path))


def build(platform, assets):
    """Returns (bytes, annotated rows) where a row is (offset, bytes, comment)."""
    assets = sorted(assets, key=lambda a: a["name"].encode())
    plat = platform.encode() if platform else b""
    names = [a["name"].encode() for a in assets]
    strtab = plat + b"".join(names)
    n = len(assets)
    strtab_off = 32 + 64 * n
    pad = (-len(strtab)) % 4
    total = strtab_off + len(strtab) + pad + 4
    rows = []

    def put(b, comment):
        rows.append([sum(len(r[1]) for r in rows), b, comment])

    put(b"AOTA", 'magic "AOTA"')
    put(struct.pack("<H", 1), "format version 1")
    put(struct.pack("<H", 32), "header length 32")
    put(struct.pack("<I", total), f"total length {total}")
    put(struct.pack("<I", n), f"entry count {n}")
    put(struct.pack("<H", 64), "entry length 64")
    put(struct.pack("<H", 0), "flags 0")
    put(struct.pack("<I", strtab_off), f"string table offset {strtab_off} (32 + 64*{n})")
    put(struct.pack("<I", len(strtab)), f"string table length {len(strtab)}")
    put(struct.pack("<H", len(plat)), f"platform name length {len(plat)}")
    put(struct.pack("<H", 0), "reserved 0")
    off = len(plat)
    for i, (a, nm) in enumerate(zip(assets, names)):
        codec = ["none", "deflate", "xz"][a["codec"]]
        put(struct.pack("<I", off), f"entry {i}: name offset {off}")
        put(struct.pack("<H", len(nm)), f"entry {i}: name length {len(nm)}")
        put(bytes([a["codec"]]), f"entry {i}: codec {a['codec']} ({codec})")
        put(bytes([a["param"]]), f"entry {i}: codec parameter {a['param']}")
        put(struct.pack("<Q", a["size"]), f"entry {i}: size {a['size']}")
        put(struct.pack("<Q", a["comp"]), f"entry {i}: compressed size {a['comp']}")
        put(struct.pack("<Q", a["stored"]), f"entry {i}: stored size {a['stored']}")
        put(a["sha"][:16], f"entry {i}: SHA-256 {a['sha'].hex()[:32]}")
        put(a["sha"][16:], f"entry {i}: SHA-256 (cont.) {a['sha'].hex()[32:]}")
        off += len(nm)
    if plat:
        put(plat, f'string table: platform "{platform}"')
    for a, nm in zip(assets, names):
        for k in range(0, len(nm), 16):
            put(nm[k:k + 16], f'string table: name "{a["name"]}"' + (" (cont.)" if k else ""))
    if pad:
        put(bytes(pad), f"zero padding to a multiple of 4 ({pad})")
    body = b"".join(r[1] for r in rows)
    crc = zlib.crc32(body) & 0xFFFFFFFF
    put(struct.pack("<I", crc), f"CRC-32 over bytes [0, {total - 4}) = {crc:#010x}")
    data = b"".join(r[1] for r in rows)
    assert len(data) == total
    return data, rows


def dump(file, rows):
    lines = [f"```hex golden/{file}"]
    for off, b, comment in rows:
        lines.append(f"{off:08x}  {' '.join(f'{x:02x}' for x in b):<47}  | {comment}")
    lines.append("```")
    return "\n".join(lines)


VECTORS = [
    ("empty.bin", None, []),
    ("one-asset-p2.bin", "p2", [asset("hello.txt", "hello.txt", CODEC_DEFLATE, 15, PARTICLE_CONTAINER)]),
    ("three-assets.bin", None, [
        asset("sounds/caf\u00e9.wav", "cafe.wav", CODEC_DEFLATE, 15, 0),
        asset("fonts/small.bin", "small.bin", CODEC_XZ, 23, 0),
        asset("config.json", "config.json", CODEC_NONE, 0, 0),
    ]),
]

for file, platform, assets in VECTORS:
    data, rows = build(platform, assets)
    with open(os.path.join(HERE, file), "wb") as f:
        f.write(data)
    print(dump(file, rows))
    print()

#!/usr/bin/env python3
"""Independent generator of the assetota-store golden flash images.

Writes tests/golden/*.bin (and the asset files they hold, in tests/golden/assets/)
and prints the annotated hex dumps pasted into docs/store-format.md. It is a
second implementation of that document and shares no code with the Rust crate:
the layout comes from struct, SHA-256 from hashlib, CRC-32 and raw deflate from
zlib. It places extents where the document says the store allocates them and
writes words in the order the document gives, on a model of NOR flash that
refuses to program a byte twice without an erase.

Deflate output is not the same across zlib versions, so an existing
assets/text.deflate is kept: delete it to compress again. Run from anywhere:

    python3 build-support/assetota-store/tests/golden/gen.py

then check with `cargo test -p assetota-store --test golden` and paste the
printed dumps into docs/store-format.md if they changed.
"""
import hashlib
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.path.join(HERE, "assets")

MAGIC = b"AOTS"
LAYOUT_VERSION = 1
RECORD = 76  # head record, CRC included
CRC_AT = 72  # the CRC covers record[0:72] followed by the block index
CODEC_NONE, CODEC_DEFLATE, CODEC_XZ = 0, 1, 2
ERASED = 0xFF


def round_up(value, to):
    return -(-value // to) * to


class Geometry:
    """The offsets of docs/store-format.md, "Geometry"."""

    def __init__(self, write_size, erase_size):
        assert 1 <= write_size <= 32
        self.write_size = write_size
        self.block = erase_size
        self.word = round_up(8, write_size)  # smallest multiple of WRITE_SIZE >= 8
        assert 256 <= erase_size <= 256 * 1024 and erase_size % self.word == 0
        self.head_len = round_up(RECORD, self.word)
        self.commit = self.head_len
        self.handled = self.head_len + self.word
        self.dead = self.head_len + 2 * self.word
        self.container = self.head_len + 3 * self.word  # payload starts here in the head block
        self.done = self.block - self.word  # DONE word at the end of every block
        assert self.container + self.word <= self.block
        self.block_payload = self.block - self.word
        self.head_payload = self.block_payload - self.container

    def blocks_for(self, payload_len):
        return max(1, -(-(payload_len + self.container) // self.block_payload))

    def storage_size(self, payload_len):
        return self.blocks_for(payload_len) * self.block

    def payload_in_blocks(self, n):
        return 0 if n == 0 else self.head_payload + (n - 1) * self.block_payload

    def locate(self, pos):
        """(block index in the extent, offset in that block) of payload byte pos."""
        if pos < self.head_payload:
            return 0, self.container + pos
        rest = pos - self.head_payload
        return 1 + rest // self.block_payload, rest % self.block_payload


class Flash:
    """NOR flash: erase sets 0xFF, a byte is programmed at most once per erase."""

    def __init__(self, geo, blocks):
        self.geo = geo
        self.mem = bytearray([ERASED]) * (geo.block * blocks)
        self.programmed = [False] * len(self.mem)

    def erase(self, block):
        b = self.geo.block
        self.mem[block * b:(block + 1) * b] = bytes([ERASED]) * b
        self.programmed[block * b:(block + 1) * b] = [False] * b

    def program(self, offset, data):
        assert offset % self.geo.write_size == 0 and len(data) % self.geo.write_size == 0
        for i, v in enumerate(data):
            assert not self.programmed[offset + i], f"byte {offset + i:#x} programmed twice"
            self.mem[offset + i] &= v
            self.programmed[offset + i] = True


class Asset:
    def __init__(self, file, codec=CODEC_NONE, param=0, payload_file=None):
        self.file = file
        self.raw = read(file)
        self.payload = read(payload_file) if payload_file else self.raw
        self.codec, self.param = codec, param
        self.sha = hashlib.sha256(self.raw).digest()


def read(name):
    with open(os.path.join(ASSETS, name), "rb") as f:
        return f.read()


def head_record(geo, first, blocks, seq, a):
    b = MAGIC
    b += struct.pack("<HHI", LAYOUT_VERSION, geo.word, geo.block)
    b += struct.pack("<II", blocks, seq)
    b += struct.pack("<BBH", a.codec, a.param, 0)
    b += struct.pack("<QQ", len(a.raw), len(a.payload))
    b += a.sha
    assert len(b) == CRC_AT
    crc = zlib.crc32(b + struct.pack("<I", first)) & 0xFFFFFFFF
    b += struct.pack("<I", crc)
    assert len(b) == RECORD
    return b, crc


def state_word(geo, pattern=b""):
    """A state word as programmed: the pattern, then 0x00 to the end of the word."""
    return pattern + bytes(geo.word - len(pattern))


def done_pattern(index, seq):
    return b"DN" + struct.pack("<HI", index & 0xFFFF, seq)


class Store:
    """The writer of docs/store-format.md, "Install", "gc" and the state words."""

    def __init__(self, geo, blocks):
        self.geo, self.blocks = geo, blocks
        self.flash = Flash(geo, blocks)
        self.next_seq = 0
        self.live = []  # (first, blocks) of extents not DEAD

    def allocate(self, n):
        """First fit: the lowest free run of n blocks."""
        used = set()
        for first, count in self.live:
            used.update(range(first, first + count))
        run = 0
        for b in range(self.blocks):
            run = 0 if b in used else run + 1
            if run == n:
                return b - n + 1
        raise RuntimeError("no space")

    def install(self, a, sent=None):
        """Installs a; with `sent`, the install stops after that many payload
        bytes were handed over (the partial word they end in stays in RAM)."""
        g, f = self.geo, self.flash
        blocks = g.blocks_for(len(a.payload))
        first = self.allocate(blocks)
        seq = self.next_seq
        self.next_seq += 1
        for b in range(first, first + blocks):
            f.erase(b)
        rec, _ = head_record(g, first, blocks, seq, a)
        f.program(first * g.block, rec + bytes([ERASED]) * (g.head_len - RECORD))
        self.live.append((first, blocks))
        finished = sent is None
        if finished:
            data = a.payload + bytes([ERASED]) * (-len(a.payload) % g.word)
        else:
            data = a.payload[:sent - sent % g.word]
        for pos in range(0, len(data), g.word):
            k, off = g.locate(pos)
            f.program((first + k) * g.block + off, data[pos:pos + g.word])
        for k in range(blocks):
            full = k < blocks - 1 and g.payload_in_blocks(k + 1) <= len(data)
            if finished or full:
                f.program((first + k) * g.block + g.done, state_word(g, done_pattern(k, seq)))
        if finished:
            # verify (decode from flash, size and SHA-256), then the commit point
            assert self.read(first, a) == a.raw
            f.program(first * g.block + g.commit, state_word(g))
        return first

    def read(self, first, a):
        g = self.geo
        out = bytearray()
        pos = 0
        while pos < len(a.payload):
            k, off = g.locate(pos)
            n = min(g.done - off, len(a.payload) - pos)
            start = (first + k) * g.block + off
            out += self.flash.mem[start:start + n]
            pos += n
        if a.codec == CODEC_DEFLATE:
            d = zlib.decompressobj(-a.param)
            out = d.decompress(bytes(out)) + d.flush()
            assert d.eof and not d.unused_data
        assert len(out) == len(a.raw) and hashlib.sha256(out).digest() == a.sha
        return bytes(out)

    def mark_handled(self, first):
        self.flash.program(first * self.geo.block + self.geo.handled, state_word(self.geo))

    def kill(self, first):
        self.flash.program(first * self.geo.block + self.geo.dead, state_word(self.geo))
        self.live = [e for e in self.live if e[0] != first]


# --- the assets -------------------------------------------------------------

def text(n):
    """Deterministic text-like bytes (a 31-bit LCG picks words)."""
    words = [b"asset ", b"flash ", b"block ", b"word ", b"head ", b"commit ", b"erase ", b"\n"]
    x, out = 1, bytearray()
    while len(out) < n:
        x = (x * 1103515245 + 12345) % (1 << 31)
        out += words[(x >> 16) % 8]
    return bytes(out[:n])


def noise(tag, n):
    """Deterministic incompressible bytes: SHA-256 of "tag i" for i = 0, 1, ..."""
    out = b"".join(hashlib.sha256(b"%s %d" % (tag, i)).digest() for i in range(n // 32 + 1))
    return out[:n]


def write_assets():
    os.makedirs(ASSETS, exist_ok=True)
    files = {
        "hello.txt": b"hello\n",
        "config.json": b'{"volume": 7, "brightness": 80}\n',
        "text.txt": text(7000),
        "noise.bin": noise(b"noise", 600),
        "big.bin": noise(b"big", 1000),
    }
    for name, data in files.items():
        with open(os.path.join(ASSETS, name), "wb") as f:
            f.write(data)
    deflated = os.path.join(ASSETS, "text.deflate")
    if not os.path.exists(deflated):
        c = zlib.compressobj(9, zlib.DEFLATED, -10)  # raw deflate, 1 KiB window
        with open(deflated, "wb") as f:
            f.write(c.compress(files["text.txt"]) + c.flush())


# --- the images --------------------------------------------------------------

def image_a():
    """4 blocks of 256 B, write size 4: `hello\\n`, raw, committed."""
    s = Store(Geometry(4, 256), 4)
    hello = Asset("hello.txt")
    assert s.install(hello) == 0
    return s


def image_b():
    """8 blocks of 512 B, write size 8: a deflate asset over 3 blocks,
    committed and handled; a raw asset; a DEAD extent; free space."""
    s = Store(Geometry(8, 512), 8)
    text_a = Asset("text.txt", CODEC_DEFLATE, 10, "text.deflate")
    config = Asset("config.json")
    noise_a = Asset("noise.bin")
    assert s.geo.blocks_for(len(text_a.payload)) == 3
    assert s.install(text_a) == 0
    s.mark_handled(0)
    assert s.install(config) == 3
    assert s.install(noise_a) == 4
    s.kill(4)  # gc: not wanted any more
    return s


def image_c():
    """6 blocks of 512 B, write size 32: `hello\\n` committed, then an install
    of 1000 raw bytes over 3 blocks stopped after 808 payload bytes: head,
    two DONE words, one word of its third block, no COMMIT."""
    s = Store(Geometry(32, 512), 6)
    assert s.install(Asset("hello.txt")) == 0
    big = Asset("big.bin")
    assert s.geo.blocks_for(len(big.payload)) == 3
    assert s.install(big, sent=808) == 1
    return s


# --- annotated dumps ---------------------------------------------------------

def hexrow(off, b, comment):
    return f"{off:08x}  {' '.join(f'{x:02x}' for x in b):<47}  | {comment}"


CODECS = {CODEC_NONE: "none", CODEC_DEFLATE: "deflate", CODEC_XZ: "xz"}


def head_rows(mem, g, block):
    """Annotated rows of the head record and padding of `block`."""
    base = block * g.block
    r = mem[base:base + g.head_len]
    magic, version, word, bsize, blocks, seq, codec, param, res, size, plen = struct.unpack_from(
        "<4sHHIIIBBHQQ", r)
    crc = struct.unpack_from("<I", r, CRC_AT)[0]
    rows = [
        (0, r[0:4], 'magic "AOTS"'),
        (4, r[4:6], f"layout version {version}"),
        (6, r[6:8], f"word {word}"),
        (8, r[8:12], f"block size {bsize}"),
        (12, r[12:16], f"blocks {blocks}"),
        (16, r[16:20], f"seq {seq}"),
        (20, r[20:21], f"codec {codec} ({CODECS[codec]})"),
        (21, r[21:22], f"codec parameter {param}"),
        (22, r[22:24], f"reserved {res}"),
        (24, r[24:32], f"size {size}"),
        (32, r[32:40], f"payload length {plen}"),
        (40, r[40:56], f"SHA-256 {r[40:56].hex()}"),
        (56, r[56:72], f"SHA-256 (cont.) {r[56:72].hex()}"),
        (72, r[72:76], f"CRC-32 of bytes [0, 72) and block index {block} = {crc:#010x}"),
    ]
    assert zlib.crc32(bytes(r[:72]) + struct.pack("<I", block)) & 0xFFFFFFFF == crc
    assert magic == MAGIC
    pad = g.head_len - RECORD
    for k in range(0, pad, 16):
        n = min(16, pad - k)
        rows.append((RECORD + k, r[RECORD + k:RECORD + k + n],
                     f"0xFF padding to head_len {g.head_len}" + (" (cont.)" if k else "")))
    return [(base + o, b, c) for o, b, c in rows]


def word_rows(mem, g, at, name):
    """A state word, 16 bytes a row."""
    w = mem[at:at + g.word]
    erased = all(x == ERASED for x in w)
    meaning = f"{name}: " + ("erased (not set)" if erased else "set")
    return [(at + k, w[k:k + 16], meaning + (" (cont.)" if k else "")) for k in range(0, g.word, 16)]


def dump(file, start, rows):
    fence = f"```hex golden/{file}" + (f"@{start:#x}" if start else "")
    lines = [fence]
    for off, b, comment in rows:
        if b == "*":
            lines.append("*")
        else:
            lines.append(hexrow(off, b, comment))
    lines.append("```")
    return "\n".join(lines)


def dump_a(s):
    g, mem = s.geo, s.flash.mem
    rows = head_rows(mem, g, 0)
    rows += word_rows(mem, g, g.commit, "COMMIT")
    rows += word_rows(mem, g, g.handled, "HANDLED")
    rows += word_rows(mem, g, g.dead, "DEAD")
    p = g.container
    rows.append((p, mem[p:p + 6], 'payload "hello\\n"'))
    rows.append((p + 6, mem[p + 6:p + 8], "payload tail: 0xFF to the end of its word"))
    rows.append((p + 8, mem[p + 8:p + 16], "erased: no payload up to the DONE word"))
    rows.append((None, "*", None))
    rows.append((g.done, mem[g.done:g.block], "DONE: \"DN\", block index 0, seq 0"))
    check(mem, 0, rows)
    return dump("one-raw.bin", 0, rows)


def dump_c(s):
    g, mem = s.geo, s.flash.mem
    base = g.block
    rows = head_rows(mem, g, 1)
    rows += word_rows(mem, g, base + g.commit, "COMMIT")
    rows += word_rows(mem, g, base + g.handled, "HANDLED")
    rows += word_rows(mem, g, base + g.dead, "DEAD")
    head = dump("interrupted.bin", base, check(mem, base, rows))
    at = base + g.done
    rows = [(at, mem[at:at + 8], 'DONE of extent block 0 (partition block 1): "DN", index 0, seq 1'),
            (at + 8, mem[at + 8:at + 24], "DONE: 0x00 to the end of the 32-byte word"),
            (at + 24, mem[at + 24:at + 32], "DONE: (cont.)"),
            (at + 32, mem[at + 32:at + 48], "partition block 2 = extent block 1: payload from offset 0")]
    tail = dump("interrupted.bin", at, check(mem, at, rows))
    return head, tail


def check(mem, start, rows):
    """The rows are contiguous and say what the image holds."""
    pos, last = start, None
    for off, b, _ in rows:
        if b == "*":
            continue
        if off != pos:
            assert last is not None and (off - pos) % len(last) == 0
            while pos < off:
                assert mem[pos:pos + len(last)] == last
                pos += len(last)
        assert mem[off:off + len(b)] == b
        pos, last = off + len(b), b
    return rows


def main():
    write_assets()
    images = [("one-raw.bin", image_a()), ("mixed.bin", image_b()), ("interrupted.bin", image_c())]
    for file, s in images:
        with open(os.path.join(HERE, file), "wb") as f:
            f.write(s.flash.mem)
    print(dump_a(images[0][1]))
    print()
    for d in dump_c(images[2][1]):
        print(d)
        print()
    for name in sorted(os.listdir(ASSETS)):
        data = read(name)
        print(f"{name}: {len(data)} bytes, SHA-256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()

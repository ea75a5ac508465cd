#!/usr/bin/env python3
"""Writes expected.json: what ESP-IDF's own gen_esp32part.py makes of every
table here, read back from the binary table it writes.

usage: expected.py PATH/TO/gen_esp32part.py

Each table is run as `gen_esp32part.py -q --primary-bootloader-offset 0x1000
TABLE OUT.bin` (the ESP32's bootloader offset; the partition table at the
default 0x8000). A table it accepts maps to its rows {name, type, subtype,
offset, size, flags}; one it refuses maps to {"error": its message}.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def rows(binary):
    out = []
    for i in range(0, len(binary), 32):
        e = binary[i : i + 32]
        if e[:2] != b"\xaa\x50":
            break
        _, t, st, off, size, name, flags = struct.unpack("<2sBBLL16sL", e)
        out.append(
            {
                "name": name.split(b"\0")[0].decode(),
                "type": t,
                "subtype": st,
                "offset": off,
                "size": size,
                "flags": flags,
            }
        )
    return out


def main():
    gen = sys.argv[1]
    result = {}
    for d in sorted(os.listdir(HERE)):
        if not os.path.isdir(os.path.join(HERE, d)):
            continue
        for f in sorted(os.listdir(os.path.join(HERE, d))):
            if not f.endswith(".csv"):
                continue
            path = os.path.join(HERE, d, f)
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "t.bin")
                p = subprocess.run(
                    [sys.executable, gen, "-q", "--primary-bootloader-offset", "0x1000", path, out],
                    capture_output=True,
                    text=True,
                    env={"PATH": os.environ.get("PATH", "")},
                )
                key = f"{d}/{f}"
                if p.returncode == 0:
                    result[key] = {"partitions": rows(open(out, "rb").read())}
                else:
                    msg = [l for l in p.stderr.strip().splitlines() if l.strip()]
                    result[key] = {"error": msg[0] if msg else "failed"}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    ok = sum(1 for v in result.values() if "partitions" in v)
    print(f"{len(result)} tables: {ok} accepted, {len(result) - ok} refused")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Independent W800 image packer (Python lzma + zlib.crc32), a test oracle.

usage: w800img.py APP PREFIX APP_OFFSET OTA_OFFSET VERSION FLAGS
writes PREFIX.img and PREFIX_ota.img as WinnerMicro's bin2img.py does.
"""
import lzma
import struct
import sys
import zlib

MAGIC = 0xA0FFFF9F
FLASH = 0x08000000


def crc(data):
    return zlib.crc32(data) ^ 0xFFFFFFFF


def image(body, attr, app_offset, ota_offset, version, flags):
    body = body + b"\xff" * (-len(body) % 4)
    head = struct.pack(
        "<IIIIIIII16sIII",
        MAGIC,
        attr,
        FLASH + app_offset + 0x400,
        len(body),
        FLASH + app_offset,
        FLASH + ota_offset,
        crc(body),
        0,
        version.encode().ljust(16, b"\0"),
        flags,
        0,
        0,
    )
    return head + struct.pack("<I", crc(head)) + body


def main():
    app, prefix, app_off, ota_off, version, flags = sys.argv[1:7]
    app_off, ota_off, flags = int(app_off, 0), int(ota_off, 0), int(flags, 0)
    data = open(app, "rb").read()
    inner = image(data, 1, app_off, ota_off, version, flags)
    xz = lzma.compress(
        inner,
        format=lzma.FORMAT_XZ,
        check=lzma.CHECK_CRC32,
        filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 32768}],
    )
    outer = image(xz, 1 | (1 << 20), app_off, ota_off, version, 0)
    open(prefix + ".img", "wb").write(inner)
    open(prefix + "_ota.img", "wb").write(outer)


if __name__ == "__main__":
    main()

"""Generates the launcher's small icons (committed beside this script; rerun after changing it):
a speech bubble in one colour per action, as a 32x32 Windows .ico (32-bit BMP inside) and PNG.
Standard library only, so that no image tool is needed at build time."""
import struct
import zlib
from pathlib import Path

SIZE = 32
COLOURS = {"server": (0x1f, 0x77, 0xb4), "finetune": (0x2c, 0xa0, 0x2c), "doctor": (0xd6, 0x27, 0x28)}


def pixels(rgb):
    """Rows top to bottom of (r, g, b, a): a rounded bubble with a tail and three dots."""
    rows = []
    for y in range(SIZE):
        row = []
        for x in range(SIZE):
            inside = 3 <= x <= 28 and 4 <= y <= 22 and not (
                (x in (3, 28)) and (y in (4, 22)))
            tail = 8 <= x <= 12 and 23 <= y <= 28 and x - 8 <= 28 - y
            dot = y in (12, 13, 14) and any(c - 1 <= x <= c + 1 for c in (10, 16, 22))
            if dot and inside:
                row.append((255, 255, 255, 255))
            elif inside or tail:
                row.append((*rgb, 255))
            else:
                row.append((0, 0, 0, 0))
        rows.append(row)
    return rows


def ico(rows):
    xor = b"".join(bytes((b, g, r, a)) for row in reversed(rows) for (r, g, b, a) in row)
    and_mask = b"\0" * (SIZE * SIZE // 8)
    bmp = struct.pack("<IiiHHIIiiII", 40, SIZE, SIZE * 2, 1, 32, 0, len(xor) + len(and_mask),
                      0, 0, 0, 0) + xor + and_mask
    return struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32,
                                                      len(bmp), 22) + bmp


def png(rows):
    raw = b"".join(b"\0" + b"".join(bytes(p) for p in row) for row in rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    for name, rgb in COLOURS.items():
        rows = pixels(rgb)
        (here / f"alltalk-{name}.ico").write_bytes(ico(rows))
        (here / f"alltalk-{name}.png").write_bytes(png(rows))

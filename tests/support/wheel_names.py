"""Lists the file names inside a wheel on an index without downloading it: reads only the zip's
central directory with HTTP range requests. Used to record the layouts of the real win_amd64
wheels (tests/data/win_wheels/) that the Windows discovery tests rebuild as empty files.

usage: python3 wheel_names.py URL [PREFIX ...]   (only names starting with a PREFIX, if given)
"""
import struct
import sys
import urllib.request


def _get(url, rng):
    req = urllib.request.Request(url, headers={"Range": rng})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.read()


def names(url):
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=120) as r:
        size = int(r.headers["Content-Length"])
    tail = _get(url, f"bytes={max(0, size - 65536)}-{size - 1}")
    i = tail.rfind(b"PK\x05\x06")
    cd_size, cd_off = struct.unpack("<II", tail[i + 12:i + 20])
    cd = _get(url, f"bytes={cd_off}-{cd_off + cd_size - 1}")
    out, p = [], 0
    while p < len(cd) and cd[p:p + 4] == b"PK\x01\x02":
        n, e, c = struct.unpack("<HHH", cd[p + 28:p + 34])
        out.append(cd[p + 46:p + 46 + n].decode())
        p += 46 + n + e + c
    return out


if __name__ == "__main__":
    prefixes = tuple(sys.argv[2:])
    for name in names(sys.argv[1]):
        if not prefixes or name.startswith(prefixes):
            print(name)

#!/usr/bin/env python3
"""Compares screen captures by their coarse look: the mean colour of each cell of a grid.

    png-grid.py A B [C ...]   prints the distance of A to each of B, C, ... (PNG or PPM)

Sizes may differ (a 720x1280 capture against a 1080x1920 render): cells are proportional.
A clock or a name that differs moves a cell a little; another screen moves many a lot.
Standard library only: 8-bit RGB/RGBA/grey PNGs as Slint writes them, binary PPM as grim -t ppm
writes them (no decoding: quick enough to poll a screen). A PNG's grid is cached beside it
(FILE.grid.json), since references are compared again and again.
"""
import json
import os
import struct
import sys
import zlib

COLS, ROWS = 9, 16


def read_ppm(data):
    parts, pos = [], 2
    while len(parts) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        parts.append(int(data[pos:end]))
        pos = end
    w, h, _ = parts
    pix = data[pos + 1:]
    return w, h, 3, [pix[y * w * 3:(y + 1) * w * 3] for y in range(h)]


def read_png(path):
    data = open(path, "rb").read()
    if data[:2] == b"P6":
        return read_ppm(data)
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace:
                raise SystemExit(f"{path}: only 8-bit non-interlaced PNGs")
            channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = w * channels
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, channels, rows


def grid(path):
    cache = path + ".grid.json"
    if path.endswith(".png") and os.path.exists(cache) and os.path.getmtime(cache) >= os.path.getmtime(path):
        return json.load(open(cache))
    cells = compute_grid(path)
    if path.endswith(".png"):
        try:
            json.dump(cells, open(cache, "w"))
        except OSError:
            pass
    return cells


def compute_grid(path):
    w, h, ch, rows = read_png(path)
    cells = []
    for gy in range(ROWS):
        for gx in range(COLS):
            acc, n = [0, 0, 0], 0
            # Every 4th pixel of the cell: plenty for a mean, quick in pure Python.
            for y in range(gy * h // ROWS, (gy + 1) * h // ROWS, 4):
                row = rows[y]
                for x in range(gx * w // COLS, (gx + 1) * w // COLS, 4):
                    px = row[x * ch:(x + 1) * ch]
                    rgb = (px[0], px[0], px[0]) if ch < 3 else px[:3]
                    for i in range(3):
                        acc[i] += rgb[i]
                    n += 1
            cells.append([v / max(n, 1) for v in acc])
    return cells


def distance(a, b):
    """Mean per-cell colour distance, 0 (same look) .. 441 (black against white)."""
    return sum(sum((x - y) ** 2 for x, y in zip(p, q)) ** 0.5 for p, q in zip(a, b)) / len(a)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    base = grid(sys.argv[1])
    print(" ".join(f"{distance(base, grid(p)):.1f}" for p in sys.argv[2:]))

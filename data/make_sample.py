#!/usr/bin/env python3
"""Regenerates data/fashion-mnist-sample: the first examples of Fashion-MNIST, as IDX files.

Reads the full dataset that Debian's dataset-fashion-mnist package installs in
/usr/share/datasets/fashion-mnist and writes, next to this script,

    fashion-mnist-sample/train-images-idx3-ubyte.gz   first 4000 training images
    fashion-mnist-sample/train-labels-idx1-ubyte.gz   their labels
    fashion-mnist-sample/t10k-images-idx3-ubyte.gz    first 1000 test images
    fashion-mnist-sample/t10k-labels-idx1-ubyte.gz    their labels
    fashion-mnist-sample/SHA256SUMS                   in the format of `sha256sum`

Each output is a valid IDX file (the header's count says 4000 or 1000), gzipped with a fixed
gzip header (no modification time, no file name), so running the script again gives the same
bytes, whatever the Python version, as long as zlib compresses the same. Python standard
library only (gzip, zlib, hashlib, struct, argparse).

    python3 data/make_sample.py                     # the defaults above
    python3 data/make_sample.py --train 2000 --source DIR --out DIR
"""

import argparse
import gzip
import hashlib
import pathlib
import struct
import sys
import zlib

IDX_UNSIGNED_BYTE = 0x08


def read_idx(path, expected_rank):
    """Returns (dims, payload bytes) of a gzipped IDX file of unsigned bytes, checked."""
    data = gzip.decompress(path.read_bytes())
    if len(data) < 4:
        raise ValueError(f"{path}: shorter than an IDX header")
    zero, type_code, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code != IDX_UNSIGNED_BYTE or rank != expected_rank:
        raise ValueError(f"{path}: expected an IDX file of unsigned bytes (type 0x08) and rank "
                         f"{expected_rank}, found magic {data[:4].hex()}")
    header_size = 4 + 4 * rank
    dims = struct.unpack(f">{rank}I", data[4:header_size])
    expected = 1
    for d in dims:
        expected *= d
    payload = data[header_size:]
    if len(payload) != expected:
        raise ValueError(f"{path}: the header promises {expected} bytes of data, "
                         f"found {len(payload)}")
    return dims, payload


def gzip_reproducibly(data):
    """Gzips `data` into bytes that depend only on `data` and zlib's deflate, not on the time,
    the file name, the platform or the Python version (whose gzip modules write different
    headers). RFC 1952: a 10-byte header, the raw deflate stream, CRC-32, length mod 2^32."""
    header = bytes([0x1F, 0x8B,  # gzip signature
                    8,           # compression method: deflate
                    0,           # flags: no file name, comment or extra field
                    0, 0, 0, 0,  # modification time: none
                    2,           # extra flags: maximum compression
                    255])        # operating system: unknown
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate, level 9
    body = compressor.compress(data) + compressor.flush()
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return header + body + trailer


def write_idx_gz(path, dims, payload):
    """Writes an IDX file of unsigned bytes, gzipped reproducibly."""
    header = struct.pack(">HBB", 0, IDX_UNSIGNED_BYTE, len(dims))
    header += struct.pack(f">{len(dims)}I", *dims)
    path.write_bytes(gzip_reproducibly(header + payload))


def main():
    here = pathlib.Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=pathlib.Path,
                        default=pathlib.Path("/usr/share/datasets/fashion-mnist"),
                        help="directory with the full *-ubyte.gz files (default: %(default)s)")
    parser.add_argument("--out", type=pathlib.Path, default=here / "fashion-mnist-sample",
                        help="directory to write the sample to (default: %(default)s)")
    parser.add_argument("--train", type=int, default=4000,
                        help="training examples to keep (default: %(default)s)")
    parser.add_argument("--test", type=int, default=1000,
                        help="test examples to keep (default: %(default)s)")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for prefix, keep in (("train", args.train), ("t10k", args.test)):
        image_name = f"{prefix}-images-idx3-ubyte.gz"
        label_name = f"{prefix}-labels-idx1-ubyte.gz"
        image_dims, images = read_idx(args.source / image_name, 3)
        label_dims, labels = read_idx(args.source / label_name, 1)
        count, rows, cols = image_dims
        if label_dims[0] != count or not 0 < keep <= count:
            raise ValueError(f"{args.source}: {count} images and {label_dims[0]} labels in "
                             f"{prefix}; cannot keep {keep}")
        # Row-major: the first `keep` images are the first keep*rows*cols bytes.
        write_idx_gz(args.out / image_name, (keep, rows, cols), images[:keep * rows * cols])
        write_idx_gz(args.out / label_name, (keep,), labels[:keep])
        written += [image_name, label_name]

    lines = []
    for name in sorted(written):
        digest = hashlib.sha256((args.out / name).read_bytes()).hexdigest()
        lines.append(f"{digest}  {name}\n")  # two spaces: the format sha256sum -c reads
    (args.out / "SHA256SUMS").write_text("".join(lines))
    sys.stdout.write("".join(lines))


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError, EOFError, zlib.error) as error:
        sys.exit(f"error: {error}")

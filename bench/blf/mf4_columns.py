"""Where the bytes of an MF4 bus log go: for each file, the first transposed
##DZ block's records, deflated again column range by column range, so two
writers' files (canwire's and python-can's) can be compared on the same
frames. Used to find the MF4 size gap on periodic traffic (issue 15).

Usage: mf4_columns.py FILE.mf4 [FILE.mf4 ...]  (run with target/py-peers/bin/python)
Prints JSON per file: records in the block, the record size, its stored
deflated size, and zlib level 6 sizes of the time column and of the rest.
"""
import json
import re
import struct
import sys
import zlib


def first_transposed_block(data):
    """(records, record_bytes, stored_zip_bytes, raw) of the first ##DZ with zip type 1."""
    for m in re.finditer(rb"##DZ", data):
        at = m.start()
        links = struct.unpack_from("<Q", data, at + 16)[0]
        body = at + 24 + links * 8
        zip_type, _, record_bytes, original, zipped = struct.unpack_from("<BBIQQ", data, body + 2)
        if zip_type == 1:
            raw = zlib.decompress(data[body + 24 : body + 24 + zipped])
            return original // record_bytes, record_bytes, zipped, raw
    raise SystemExit("no transposed ##DZ block (write at compression level 2)")


def column_bytes(raw, records, first, last):
    """Deflated size (zlib level 6) of byte columns first..last of the transposed block."""
    return len(zlib.compress(raw[first * records : last * records], 6))


for path in sys.argv[1:]:
    data = open(path, "rb").read()
    records, record_bytes, zipped, raw = first_transposed_block(data)
    # CAN_DataFrame records are 84 bytes; 85 in an unsorted group, whose
    # records start with a one-byte record id.
    time_at = record_bytes % 2
    print(json.dumps({
        "file": path,
        "records": records,
        "recordBytes": record_bytes,
        "storedZipBytes": zipped,
        "recordIdColumnZlib6": column_bytes(raw, records, 0, time_at) if time_at else 0,
        "timeColumnZlib6": column_bytes(raw, records, time_at, time_at + 8),
        "restZlib6": column_bytes(raw, records, time_at + 8, record_bytes),
    }))

"""Baseline for bench/blf/run.mjs: python-can 4.6's BLFWriter/BLFReader,
MF4Writer/MF4Reader (through asammdf) and SqliteWriter/SqliteReader on the
same traffic as crates/canwire-bus/examples/log_formats_bench.rs.

Usage: python_can_formats.py PATH FRAMES LEVEL realistic|random
The format comes from PATH's extension (.blf at zlib compression_level
LEVEL, .mf4 at compression_level LEVEL, .db).
Prints JSON: write and read frames/s, bytes per frame, peak RSS.
"""
import json
import os
import resource
import sys
import time

import can

path, frames, level, traffic = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
random = traffic == "random"
state = 0x2545F4914F6CDD1D
mask = (1 << 64) - 1


def frame(i):
    global state
    t = 1_700_000_000.0 + i * 125e-6
    if random:
        state ^= (state << 13) & mask
        state ^= state >> 7
        state ^= (state << 17) & mask
        data = state.to_bytes(8, "little")
        return can.Message(timestamp=t, arbitration_id=(state >> 40) & 0x7FF, is_extended_id=False, data=data)
    k = i % 50
    counter = (i // 50) & 0xFFFF
    data = bytes([counter & 0xFF, counter >> 8, k, 0x11, 0x22, 0x33, 0x44, 0x55])
    return can.Message(timestamp=t, arbitration_id=0x100 + k, is_extended_id=False, data=data)


mf4 = path.endswith(".mf4")
blf = path.endswith(".blf")
if os.path.exists(path):
    os.remove(path)
t0 = time.perf_counter()
if mf4:
    from can.io.mf4 import MF4Writer

    writer = MF4Writer(path, compression_level=level)
elif blf:
    writer = can.BLFWriter(path, compression_level=level)
else:
    writer = can.SqliteWriter(path)
for i in range(frames):
    writer.on_message_received(frame(i))
if not mf4 and not blf:
    # SqliteWriter inserts from a thread and drops what is still queued at
    # stop() (python-can 4.6): wait until its queue is empty, so every frame
    # is written and the time counts the inserts.
    while not writer.buffer.empty():
        time.sleep(0.005)
writer.stop()
write_s = time.perf_counter() - t0

t1 = time.perf_counter()
if mf4:
    from can.io.mf4 import MF4Reader

    reader = MF4Reader(path)
elif blf:
    reader = can.BLFReader(path)
else:
    reader = can.SqliteReader(path)
read = sum(1 for _ in reader)
reader.stop()
read_s = time.perf_counter() - t1
assert read == frames, (read, frames)

print(json.dumps({
    "frames": frames,
    "level": level if mf4 or blf else None,
    "traffic": traffic,
    "writeFramesPerSecond": frames / write_s,
    "readFramesPerSecond": read / read_s,
    "bytesPerFrame": os.path.getsize(path) / frames,
    "fileBytes": os.path.getsize(path),
    "peakRssKb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "pythonCan": can.__version__,
}))

"""Baseline for bench/blf: python-can's BLFWriter and BLFReader on the same traffic.

Usage: python_can_blf.py PATH FRAMES LEVEL realistic|random
Prints JSON: write and read frames/s, bytes per frame, peak RSS.
"""
import json
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


t0 = time.perf_counter()
writer = can.BLFWriter(path, compression_level=level)
for i in range(frames):
    writer.on_message_received(frame(i))
writer.stop()
write_s = time.perf_counter() - t0

t1 = time.perf_counter()
read = sum(1 for _ in can.BLFReader(path))
read_s = time.perf_counter() - t1
assert read == frames, (read, frames)

import os

print(json.dumps({
    "frames": frames,
    "level": level,
    "traffic": traffic,
    "writeFramesPerSecond": frames / write_s,
    "readFramesPerSecond": read / read_s,
    "bytesPerFrame": os.path.getsize(path) / frames,
    "peakRssKb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "pythonCan": can.__version__,
}))

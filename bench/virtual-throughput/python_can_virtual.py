"""Baseline: python-can's VirtualBus doing the job bench/virtual-throughput does.

Sends FRAMES messages in chunks from one VirtualBus to another on the same
channel and receives each; prints frames/s and CPU us per frame as JSON.
Run with Debian's python3 (apt package python3-can).
"""
import json
import sys
import time

import can

frames = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
chunk = 1000
tx = can.Bus(interface="virtual", channel="bench", receive_own_messages=False)
rx = can.Bus(interface="virtual", channel="bench")
payload = bytes([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88])

wall0, cpu0 = time.perf_counter(), time.process_time()
received = 0
for start in range(0, frames, chunk):
    n = min(chunk, frames - start)
    for i in range(n):
        tx.send(can.Message(arbitration_id=(start + i) & 0x7FF, is_extended_id=False, data=payload))
    for _ in range(n):
        msg = rx.recv(0)
        if msg is None:
            raise SystemExit("python-can lost a frame")
        received += 1
wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
tx.shutdown()
rx.shutdown()
print(json.dumps({
    "frames": received,
    "framesPerSecond": received / wall,
    "cpuMicrosPerFrame": cpu * 1e6 / received,
    "python": sys.version.split()[0],
    "pythonCan": can.__version__,
}))

"""python-can's socketcan receive loop, the baseline of bench/socketcan-rx.

    python3 python_can_rx.py CHANNEL FRAMES

Prints "ready" once the bus is open, then JSON with the frames received
(until FRAMES or 2 s of silence) and the process CPU time.
"""
import json
import resource
import sys

import can

channel, frames = sys.argv[1], int(sys.argv[2])
bus = can.Bus(interface="socketcan", channel=channel)
print("ready", flush=True)
received = 0
while received < frames:
    msg = bus.recv(timeout=2.0)
    if msg is None:
        break
    received += 1
bus.shutdown()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"received": received, "cpuSeconds": usage.ru_utime + usage.ru_stime}))

"""python-can's socketcan receive loop, the baseline of bench/socketcan-rx.

    python3 python_can_rx.py CHANNEL FRAMES

Prints "ready" once the bus is open, then JSON with the frames received
(until FRAMES or 2 s of silence) and the CPU time spent after "ready".
"""
import json
import resource
import sys

import can

channel, frames = sys.argv[1], int(sys.argv[2])
def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


bus = can.Bus(interface="socketcan", channel=channel)
cpu_at_ready = cpu_seconds()
print("ready", flush=True)
received = 0
while received < frames:
    msg = bus.recv(timeout=2.0)
    if msg is None:
        break
    received += 1
cpu = cpu_seconds() - cpu_at_ready
bus.shutdown()
print(json.dumps({"received": received, "cpuSeconds": cpu}))

"""python-can's receiver, the Python baseline of bench/socketcan-rx.

    python3 python_can_rx.py CHANNEL

Prints "ready" once the bus is open, then receives with `bus.recv()` until
stdin closes; each line on stdin is answered with the frames received so far.
"""
import json
import os
import sys
import threading

import can

channel = sys.argv[1]
bus = can.Bus(interface="socketcan", channel=channel)
received = 0


def answer():
    for _ in sys.stdin:
        print(json.dumps({"received": received}), flush=True)
    os._exit(0)


threading.Thread(target=answer, daemon=True).start()
print("ready", flush=True)
while True:
    if bus.recv() is not None:
        received += 1

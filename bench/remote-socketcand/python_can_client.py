"""python-can 4.6's socketcand client for bench/remote-socketcand: counts
frames until 0.5 s of quiet after the first or the deadline; one JSON line."""
import json
import sys
import time

import can

port, deadline_s = int(sys.argv[1]), float(sys.argv[2])
bus = can.Bus(interface="socketcand", channel="vcan0", host="127.0.0.1", port=port)
print(json.dumps({"ready": True, "version": can.__version__}), flush=True)
end = time.perf_counter() + deadline_s
received, first, last = 0, None, None
while time.perf_counter() < end:
    msg = bus.recv(0.5 if first is not None else max(0.0, end - time.perf_counter()))
    if msg is None:
        if first is not None:
            break
        continue
    now = time.perf_counter()
    if first is None:
        first = now
    last = now
    received += 1
bus.shutdown()
print(json.dumps({"counts": [{"received": received, "seconds": 0 if first is None else last - first}]}), flush=True)

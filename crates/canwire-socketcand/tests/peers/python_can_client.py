"""python-can's socketcand interface against a server: sends four frames,
then prints every frame it receives as one JSON line, until it has N."""
import json
import sys
import time

import can

host, port, wanted = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bus = can.Bus(interface="socketcand", channel="vcan0", host=host, port=port)
print(json.dumps({"version": can.__version__}), flush=True)
for msg in [
    can.Message(arbitration_id=0x123, data=[0x11, 0x22, 0x33], is_extended_id=False),
    can.Message(arbitration_id=0x1ABCDEF, data=[0x01], is_extended_id=True),
    can.Message(arbitration_id=0x7FF, data=[], is_extended_id=False),
    can.Message(arbitration_id=0x1234, data=[0xDE, 0xAD], is_extended_id=True),
]:
    bus.send(msg)
got = 0
deadline = time.time() + 10
while got < wanted and time.time() < deadline:
    msg = bus.recv(0.2)
    if msg is None:
        continue
    got += 1
    print(json.dumps({
        "id": msg.arbitration_id,
        "extended": msg.is_extended_id,
        "data": msg.data.hex(),
        "timestamp": f"{msg.timestamp:.6f}",
    }), flush=True)
bus.shutdown()

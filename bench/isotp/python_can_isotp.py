"""python-can-isotp's throughput, the baseline of bench/isotp.

    python3 python_can_isotp.py CHANNEL CASES_JSON

CASES_JSON is a list of {"name", "size", "fd", "budgetSeconds"}. For each
case two python-can-isotp stacks (CanStack, each on its own socketcan bus)
face each other on CHANNEL with STmin 0 and block size 0 (4 MiB socket
receive buffers, as canwire's userspace stacks get); one sends payloads
of SIZE bytes to the other, one at a time, until BUDGET seconds have passed
(after one warm-up transfer). Prints one JSON object: the figures per case.
"""
import json
import logging
import socket
import sys
import time

import can
import isotp

channel, cases = sys.argv[1], json.loads(sys.argv[2])
# python-can-isotp logs every protocol hiccup; the figures say enough
logging.disable(logging.WARNING)
SO_RCVBUFFORCE = 33


def stack(txid, rxid, fd):
    bus = can.Bus(interface="socketcan", channel=channel, fd=fd)
    # as for canwire's buses: vcan has no wire rate, a 4 MiB buffer absorbs the bursts
    bus.socket.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    params = {
        "stmin": 0,
        "blocksize": 0,
        "tx_data_length": 64 if fd else 8,
        "can_fd": fd,
        "max_frame_size": 1 << 20,
        "blocking_send": True,
    }
    address = isotp.Address(isotp.AddressingMode.Normal_11bits, txid=txid, rxid=rxid)
    s = isotp.CanStack(bus, address=address, params=params)
    s.start()
    return bus, s


def transfer(a, b, data):
    a.send(data, send_timeout=60)
    got = b.recv(block=True, timeout=60)
    if got != data:
        raise RuntimeError("payload mismatch")


results = {}
for case in cases:
    size, fd = case["size"], case["fd"]
    bus_a, a = stack(0x6E0, 0x6E8, fd)
    bus_b, b = stack(0x6E8, 0x6E0, fd)
    data = bytes((i * 7 + size) & 0xFF for i in range(size))
    transfer(a, b, data)
    transfers, start = 0, time.perf_counter()
    while True:
        transfer(a, b, data)
        transfers += 1
        elapsed = time.perf_counter() - start
        if elapsed >= case["budgetSeconds"]:
            break
    results[case["name"]] = {
        "transfers": transfers,
        "seconds": elapsed,
        "bytesPerSecond": transfers * size / elapsed,
    }
    for s, bus in ((a, bus_a), (b, bus_b)):
        s.stop()
        bus.shutdown()
print(json.dumps(results))

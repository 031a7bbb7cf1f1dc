"""python-can-isotp's throughput, the baseline of bench/isotp.

    python python_can_isotp.py

Reads one case per line on stdin, a JSON object {"channel", "size", "fd",
"seconds"}, and answers each with one JSON line: {"transfers", "seconds",
"bytesPerSecond"} or {"error"}. For each case two python-can-isotp stacks
(CanStack, each on its own socketcan bus) face each other on CHANNEL with
STmin 0 and block size 0 (4 MiB socket receive buffers, as canwire's
userspace stacks get); one sends payloads of SIZE bytes to the other, one at
a time, until SECONDS have passed (at least one transfer, after a 256-byte warm-up).
The process stays up so that the bench can interleave its cases with the
other stacks' without paying Python's start-up each time.

On a shaped bus the transmit queue fills and the kernel answers ENOBUFS,
which python-can raises; the buses here retry after 0.5 ms instead, as
canwire's userspace stack waits for room, so the figure is the stack's.
"""
import errno
import json
import logging
import socket
import sys
import time

import can
import isotp

# python-can-isotp logs every protocol hiccup; the figures say enough
logging.disable(logging.WARNING)
SO_RCVBUFFORCE = 33


def retry_on_enobufs(bus):
    send = bus.send

    def send_waiting_for_room(msg, timeout=None):
        deadline = time.monotonic() + 5
        while True:
            try:
                return send(msg, timeout)
            except can.CanOperationError as e:
                if e.error_code != errno.ENOBUFS or time.monotonic() > deadline:
                    raise
                time.sleep(0.0005)

    bus.send = send_waiting_for_room


def stack(channel, txid, rxid, fd):
    bus = can.Bus(interface="socketcan", channel=channel, fd=fd)
    bus.socket.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20)
    retry_on_enobufs(bus)
    params = {
        "stmin": 0,
        "blocksize": 0,
        "tx_data_length": 64 if fd else 8,
        "can_fd": fd,
        "bitrate_switch": fd,
        "max_frame_size": 1 << 20,
        "blocking_send": True,
    }
    address = isotp.Address(isotp.AddressingMode.Normal_11bits, txid=txid, rxid=rxid)
    s = isotp.CanStack(bus, address=address, params=params)
    s.start()
    return bus, s


def transfer(a, b, data):
    a.send(data, send_timeout=30)
    got = b.recv(block=True, timeout=30)
    if got != data:
        raise RuntimeError(f"a {len(data)}-byte payload {'came back wrong' if got else 'never arrived'}")


def run(case):
    size, fd = case["size"], case["fd"]
    bus_a, a = stack(case["channel"], 0x6E0, 0x6E8, fd)
    bus_b, b = stack(case["channel"], 0x6E8, 0x6E0, fd)
    try:
        data = bytes((i * 7 + size) & 0xFF for i in range(size))
        transfer(a, b, data[:256])  # warm-up
        transfers, start = 0, time.perf_counter()
        while True:
            transfer(a, b, data)
            transfers += 1
            elapsed = time.perf_counter() - start
            if elapsed >= case["seconds"]:
                break
        return {"transfers": transfers, "seconds": elapsed, "bytesPerSecond": transfers * size / elapsed}
    finally:
        for s, bus in ((a, bus_a), (b, bus_b)):
            s.stop()
            bus.shutdown()


for line in sys.stdin:
    try:
        answer = run(json.loads(line))
    except Exception as e:  # the bench records the failure and goes on
        answer = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(answer), flush=True)

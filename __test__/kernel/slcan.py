"""Makes a real can-dev CAN interface for the kernel tier: attaches the slcan
line discipline to a pseudo-terminal, prints the new interface's name, and
keeps it until stdin closes (the interface goes with the terminal).

It also plays the serial adapter's side of the terminal: it reads what the
driver writes there, so that bringing the link up (which writes slcan
commands: C, S<n>, O or L) completes. With --log-commands it prints each
command as a line `cmd <text>` (`cmd S6`, `cmd L`)."""
import fcntl
import os
import struct
import sys
import threading

N_SLCAN = 17
TIOCSETD = 0x5423

log_commands = "--log-commands" in sys.argv[1:]
before = set(os.listdir("/sys/class/net"))
master, slave = os.openpty()
fcntl.ioctl(slave, TIOCSETD, struct.pack("i", N_SLCAN))
# the interface the line discipline made (can0, can1, ... on Linux 6.x; slcanN before)
(name,) = set(os.listdir("/sys/class/net")) - before
print(name, flush=True)


def adapter():
    pending = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            return
        if not chunk:
            return
        pending += chunk
        *commands, pending = pending.split(b"\r")
        if log_commands:
            for command in commands:
                print("cmd", command.decode("ascii", "replace"), flush=True)


threading.Thread(target=adapter, daemon=True).start()
sys.stdin.read()

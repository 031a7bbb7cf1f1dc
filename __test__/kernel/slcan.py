"""Makes a real can-dev CAN interface for the kernel tier: attaches the slcan
line discipline to a pseudo-terminal, prints the new interface's name, and
keeps it until stdin closes (the interface goes with the terminal)."""
import fcntl
import os
import struct
import sys

N_SLCAN = 17
TIOCSETD = 0x5423

before = set(os.listdir("/sys/class/net"))
master, slave = os.openpty()
fcntl.ioctl(slave, TIOCSETD, struct.pack("i", N_SLCAN))
# the interface the line discipline made (can0, can1, ... on Linux 6.x; slcanN before)
(name,) = set(os.listdir("/sys/class/net")) - before
print(name, flush=True)
sys.stdin.read()

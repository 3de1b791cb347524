"""Runs a command in a pseudo-terminal of a given size, and resizes it when asked.

Usage: python3 _pty.py COLUMNS ROWS COMMAND [ARG...]

What the command writes to the terminal is copied to stdout as it comes. Each line
"COLUMNS ROWS" read on stdin resizes the terminal (the command gets SIGWINCH). Exits with
the command's exit code.
"""

import fcntl
import os
import pty
import select
import struct
import sys
import termios


def set_size(fd, columns, rows):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def main():
    columns, rows, command = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    pid, terminal = pty.fork()
    if pid == 0:
        # The child's stdin is the terminal: size it before the command can read its size.
        set_size(0, columns, rows)
        os.execvp(command[0], command)
    requests = b""
    inputs = [terminal, 0]
    while True:
        ready, _, _ = select.select(inputs, [], [])
        if 0 in ready:
            data = os.read(0, 4096)
            if not data:
                inputs.remove(0)
            requests += data
            while b"\n" in requests:
                line, requests = requests.split(b"\n", 1)
                new_columns, new_rows = (int(n) for n in line.split())
                set_size(terminal, new_columns, new_rows)
        if terminal in ready:
            try:
                data = os.read(terminal, 65536)
            except OSError:  # EIO: the command has exited and closed the terminal.
                data = b""
            if not data:
                break
            os.write(1, data)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


main()

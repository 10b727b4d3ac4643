#!/usr/bin/env python3
"""crash_writer.py - a Python program's save, for the crash test
(bats/crash.bats, driven by tests/helpers/crash_kill.c --format json).

    crash_writer.py [COUNT] FILE VERSION

Builds version VERSION of the json form of tests/helpers/crash_content.h (COUNT
items, default 10000: about 90 KiB) and saves it the usual way:
json.dump into open(FILE, "w"), which truncates the file and writes it
8 KiB at a time.

When CRASH_STATUS_FD names a descriptor, one byte is written there at each
step: 'o' just before the open, 'w' once json.dump returned (the last
buffer is written by the close), 'c' once the file is closed.
"""
import json
import os
import sys

STATUS_FD = int(os.environ.get("CRASH_STATUS_FD", "-1"))


def mark(byte):
    if STATUS_FD >= 0:
        os.write(STATUS_FD, byte)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: crash_writer.py [COUNT] FILE VERSION")
    count = int(sys.argv[1]) if len(sys.argv) == 4 else 10000
    path, version = sys.argv[-2], int(sys.argv[-1])
    doc = {
        "version": version,
        "count": count,
        "body": [version * 1000003 + i for i in range(count)],
        "end": version,
    }
    mark(b"o")
    with open(path, "w") as f:
        json.dump(doc, f)
        mark(b"w")
    mark(b"c")


main()

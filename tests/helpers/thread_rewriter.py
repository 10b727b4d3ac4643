# thread_rewriter.py FILE LETTER TIMES - 16 threads of one process each
# rewrite FILE TIMES times: open(O_TRUNC), one write of 64 lines of 1023
# LETTERs, close.  The session suites run 16 of these at once.
import os
import sys
import threading

path, letter, times = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = ((letter * 1023 + "\n") * 64).encode()


def rewrite():
    for _ in range(times):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, data)
        os.close(fd)


threads = [threading.Thread(target=rewrite) for _ in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()

"""peer_atomicwrites.py DIR COUNT SIZE - the small-files work of the
benchmark done by python3 with the atomicwrites module (Debian's
python3-atomicwrites): DIR/fNNNN.json, SIZE bytes each.  atomic_write
writes a temp beside the target, fsyncs it, renames it over the target and
fsyncs the directory: the same durability as the library's "full"."""
import sys

from atomicwrites import atomic_write

directory, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = b"x" * size
for i in range(count):
    with atomic_write("%s/f%04d.json" % (directory, i), mode="wb", overwrite=True) as f:
        f.write(data)

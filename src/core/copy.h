/* copy.h - file contents: copied and compared, by descriptor. */
#ifndef ATOMICALLY_COPY_H
#define ATOMICALLY_COPY_H

#include <sys/types.h>

/* Give TO the content of FROM (both regular files): a reflink where the
 * file system shares blocks, else the data extents one by one, so that
 * holes stay holes; TO ends at FROM's size.  Returns 0, or -1 with errno. */
int copy_contents(int from, int to);

/* The first LEN bytes of FROM into the same place in TO, which reads as
 * zeros there (a hole: see record.h, "appended"): only FROM's data is
 * copied, in the kernel where it can be; TO keeps what it has beyond LEN
 * and its size.  Returns 0, or -1 with errno. */
int copy_prefix(int from, int to, off_t len);

/* Do the files open as A and B hold the same bytes?  Reads both through
 * memory of our own (no allocator). */
int same_bytes(int a, int b);

#endif

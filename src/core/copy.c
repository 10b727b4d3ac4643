/* copy.c - file contents: copied (reflinked, extent by extent) and
 * compared. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "sys.h"

/* Copy LEN bytes at OFF of FROM to the same offset of TO: in the kernel
 * where it can, else by read and write. */
static int copy_range(int from, int to, off_t off, off_t len)
{
	char buf[16384];
	off_t in = off, out = off, end = off + len;
	ssize_t n;

	while (in < end) {
		n = sys_copy_file_range(from, &in, to, &out, (size_t)(end - in));
		if (n > 0)
			continue;
		if (n == 0)
			return 0;  /* the source is shorter than it was */
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
		    errno != EOPNOTSUPP && errno != EBADF)
			return -1;
		break;
	}
	while (in < end) {
		n = sys_pread(from, buf, sizeof(buf) < (size_t)(end - in) ? sizeof(buf) : (size_t)(end - in), in);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = sys_pwrite(to, buf + done, (size_t)(n - done), out);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			done += w;
			out += w;
		}
		in += n;
	}
	return 0;
}

/* The data extents of FROM in [POS, END) to the same offsets of TO, one
 * by one (SEEK_DATA, SEEK_HOLE): FROM's holes are left as TO has them. */
static int copy_extents(int from, int to, off_t pos, off_t end)
{
	off_t data, hole;

	while (pos < end) {
		data = sys_lseek(from, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;  /* only a hole is left */
		if (data < 0) {
			data = pos;  /* no SEEK_DATA here: the rest is data */
			hole = end;
		} else if ((hole = sys_lseek(from, data, SEEK_HOLE)) < 0) {
			return -1;
		}
		if (data >= end)
			break;
		if (hole > end)
			hole = end;
		if (copy_range(from, to, data, hole - data) < 0)
			return -1;
		pos = hole;
	}
	return 0;
}

/* Give TO the content of FROM: a reflink where the file system shares
 * blocks (btrfs, xfs); else the data extents one by one, so that a
 * sparse file stays sparse, each copied in the kernel where it can be. */
int copy_contents(int from, int to)
{
	off_t size;

	size = sys_lseek(from, 0, SEEK_END);
	if (size < 0)
		return -1;
	if (sys_ficlone(to, from) < 0 && copy_extents(from, to, 0, size) < 0)
		return -1;
	return sys_ftruncate(to, size);
}

int copy_prefix(int from, int to, off_t len)
{
	return copy_extents(from, to, 0, len);
}

/* Do the files open as A and B hold the same bytes?  Read and compared in
 * memory of our own. */
int same_bytes(int a, int b)
{
	const size_t chunk = 65536;
	struct stat sa, sb;
	off_t off = 0;
	ssize_t n = 0;
	char *buf;
	int same;

	if (sys_fstat(a, &sa) < 0 || sys_fstat(b, &sb) < 0 || !S_ISREG(sa.st_mode) ||
	    sa.st_size != sb.st_size)
		return 0;
	buf = sys_map(2 * chunk);
	if (!buf)
		return 0;
	same = 1;
	while (same && off < sa.st_size && (n = sys_pread(a, buf, chunk, off)) > 0) {
		same = sys_pread(b, buf + chunk, (size_t)n, off) == n &&
		       memcmp(buf, buf + chunk, (size_t)n) == 0;
		off += n;
	}
	sys_unmap(buf, 2 * chunk);
	return same && n >= 0 && off == sa.st_size;
}

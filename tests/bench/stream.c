/* stream.c - one large streaming write, for the streaming benchmark.
 *
 *   stream FILE MIB
 *
 * open(O_WRONLY|O_CREAT|O_TRUNC), MIB writes of 1 MiB each, close.  No
 * fsync: under the library the durability of the rule decides (the
 * benchmark uses "none", so that both sides measure the writes alone).
 * Exit status: 0; 1 when a call fails; 64 on bad usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1 << 20)

int main(int argc, char **argv)
{
	static char buf[CHUNK];
	long mib, i;
	int fd;

	if (argc != 3 || (mib = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: stream FILE MIB\n");
		return 64;
	}
	memset(buf, 's', sizeof(buf));
	if ((fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		perror(argv[1]);
		return 1;
	}
	for (i = 0; i < mib; i++) {
		size_t off = 0;
		while (off < sizeof(buf)) {
			ssize_t n = write(fd, buf + off, sizeof(buf) - off);
			if (n < 0) {
				perror(argv[1]);
				return 1;
			}
			off += (size_t)n;
		}
	}
	if (close(fd) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}

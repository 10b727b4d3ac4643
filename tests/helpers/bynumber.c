/* bynumber.c - a file written, looked at and closed by system calls that
 * a libc may have no function for (musl 1.2.3 has neither statx nor
 * close_range), made through syscall(), as Rust's standard library and
 * libuv make them, for bats/musl.bats.
 *
 *   bynumber FILE TEXT
 *
 * open(FILE, O_WRONLY|O_CREAT|O_TRUNC), write TEXT, then
 * syscall(SYS_statx) of FILE, printed as "statx: SIZE" (SIZE is what the
 * program wrote: the file as the program sees it), then
 * syscall(SYS_close_range) of the descriptor alone, printed as
 * "close_range: 0".  Exit status: 0, 1 when a call fails, 64 on bad usage.
 */
#include <fcntl.h>
#include <linux/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct statx sx;
	long r;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: bynumber FILE TEXT\n");
		return 64;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, argv[2], strlen(argv[2])) != (ssize_t)strlen(argv[2])) {
		perror(argv[1]);
		return 1;
	}
	r = syscall(SYS_statx, AT_FDCWD, argv[1], 0, STATX_BASIC_STATS, &sx);
	if (r != 0) {
		perror("statx");
		return 1;
	}
	printf("statx: %llu\n", (unsigned long long)sx.stx_size);
	r = syscall(SYS_close_range, (unsigned)fd, (unsigned)fd, 0);
	if (r != 0) {
		perror("close_range");
		return 1;
	}
	printf("close_range: %ld\n", r);
	return 0;
}

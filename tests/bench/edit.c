/* edit.c - change one byte of a file in place, for the in-place edit
 * benchmark, and say how long the edit took.
 *
 *   edit FILE
 *
 * open(O_RDWR) (no O_TRUNC: under the library the temp starts as a copy
 * of the target), pwrite one byte in the middle, close (under the
 * library: the commit).  Prints "TOTAL OPEN CLOSE": the seconds from just
 * before the open to just after the close, so that the figure is the
 * edit, not the start of the process; then those of the open alone (under
 * the library: the lock and the copy into the temp) and of the close
 * alone (the commit).  The byte written is the one there plus one, so
 * every run really changes the file.
 * Exit status: 0; 1 when a call fails; 64 on bad usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double secs(struct timespec a, struct timespec b)
{
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1, t2, t3;
	struct stat st;
	unsigned char c;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: edit FILE\n");
		return 64;
	}
	if (stat(argv[1], &st) != 0) {
		perror(argv[1]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((fd = open(argv[1], O_RDWR)) < 0) {
		perror(argv[1]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (pread(fd, &c, 1, st.st_size / 2) != 1) {
		perror(argv[1]);
		return 1;
	}
	c++;
	if (pwrite(fd, &c, 1, st.st_size / 2) != 1) {
		perror(argv[1]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	if (close(fd) != 0) {
		perror(argv[1]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t3);
	printf("%.6f %.6f %.6f\n", secs(t0, t3), secs(t0, t1), secs(t2, t3));
	return 0;
}

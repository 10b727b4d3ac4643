/* fopen_shared.c - a second open of a pending file that fails after the
 * library shared it (bats/library.bats, with failfdopen.so):
 *
 *   fopen_shared FILE TRIGGER OTHER
 *
 * opens FILE for writing and writes "one"; creates TRIGGER (fdopen fails
 * while it exists) and fopens FILE for appending, which must fail;
 * removes TRIGGER, opens OTHER and writes "other" into it, writes "two"
 * to FILE through the first descriptor, closes both.  Prints what fopen
 * returned; exits 1 when a call that must work fails. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd, other, t;
	FILE *f;

	if (argc != 4)
		return 64;
	if ((fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 || write(fd, "one\n", 4) != 4)
		return 1;
	if ((t = open(argv[2], O_WRONLY | O_CREAT, 0644)) < 0)
		return 1;
	close(t);
	f = fopen(argv[1], "a");
	printf("fopen: %s\n", f ? "a stream" : "NULL");
	unlink(argv[2]);
	if ((other = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    write(other, "other\n", 6) != 6)
		return 1;
	if (write(fd, "two\n", 4) != 4 || close(fd) < 0 || close(other) < 0)
		return 1;
	return f ? 1 : 0;
}

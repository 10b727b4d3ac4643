/* mapwriter.c - writes a file through a shared mapping, storing after
 * the descriptor is closed, as programs that map their output do.
 *
 *   mapwriter MODE FILE TEXT [DELAY_MS]
 *
 * MODE:
 *   new      open O_RDWR|O_CREAT|O_TRUNC, size it for TEXT, map it
 *            shared, close, wait DELAY_MS, store TEXT, wait DELAY_MS,
 *            munmap
 *   patch    open the existing FILE O_RDWR (no truncation), map it,
 *            close, wait, store TEXT over its start, wait, munmap
 *   nounmap  as new, but exit with the mapping still there
 *   child    as new, but the stores are a forked child's, after the
 *            parent has unmapped; the parent waits for the child
 * Exit status: 0, 1 when a call fails, 64 on bad usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int fail(const char *what)
{
	perror(what);
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode, *file, *text;
	int delay, fd, patch;
	size_t len;
	char *map;
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: mapwriter new|patch|nounmap|child FILE TEXT [DELAY_MS]\n");
		return 64;
	}
	mode = argv[1], file = argv[2], text = argv[3];
	delay = argc > 4 ? atoi(argv[4]) : 0;
	len = strlen(text);
	patch = !strcmp(mode, "patch");
	fd = patch ? open(file, O_RDWR) : open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail("open");
	if (!patch && ftruncate(fd, (off_t)len) < 0)
		return fail("ftruncate");
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return fail("mmap");
	if (close(fd) < 0)
		return fail("close");
	if (!strcmp(mode, "child")) {
		if ((pid = fork()) < 0)
			return fail("fork");
		if (pid == 0) {
			pause_ms(delay);
			memcpy(map, text, len);
			_exit(0);
		}
		munmap(map, len);
		return waitpid(pid, NULL, 0) == pid ? 0 : fail("waitpid");
	}
	pause_ms(delay);
	memcpy(map, text, len);
	pause_ms(delay);
	if (!strcmp(mode, "nounmap"))
		return 0;
	return munmap(map, len) < 0 ? fail("munmap") : 0;
}

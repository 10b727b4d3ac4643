/* show_lines.h - how the helpers print a file's content for the bats
 * suites: one line, "WHAT: CONTENT", the file's lines joined by spaces,
 * or "WHAT: (missing)"; show_on_disk reads it below the library first. */
#ifndef SHOW_LINES_H
#define SHOW_LINES_H

#include <stdio.h>

#include "raw_syscall.h"

/* BUF holds the N bytes read (N < 0: the file could not be read); it
 * has room for one more. */
static inline void show_lines(const char *what, char *buf, long n)
{
	if (n < 0) {
		printf("%s: (missing)\n", what);
		fflush(stdout);
		return;
	}
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	for (char *c = buf; *c; c++)
		if (*c == '\n')
			*c = ' ';
	printf("%s: %s\n", what, buf);
	fflush(stdout);
}

/* The file at PATH as it is on disk, what every other process sees: read
 * below the library (raw_syscall.h), then shown as above. */
static inline void show_on_disk(const char *what, const char *path)
{
	char buf[4096];
	int fd = raw_open(path);
	long n = fd >= 0 ? raw_read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		raw_close(fd);
	show_lines(what, buf, n);
}

#endif

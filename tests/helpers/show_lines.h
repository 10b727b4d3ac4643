/* show_lines.h - how the helpers print a file's content for the bats
 * suites: one line, "WHAT: CONTENT", the file's lines joined by spaces,
 * or "WHAT: (missing)". */
#ifndef SHOW_LINES_H
#define SHOW_LINES_H

#include <stdio.h>

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

#endif

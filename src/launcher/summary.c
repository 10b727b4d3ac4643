/* summary.c - the run's summary (summary.h), from the lines that every
 * process of the run appended to the tally file (core/tally.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "summary.h"
#include "core/lockdir.h"
#include "core/tally.h"

/* Paths listed by name for each kind that needs a look, at most. */
#define LISTED 5
/* Lock waits named, longest first. */
#define LONGEST 5

static char tally_path[PATH_MAX];

struct event {
	char kind;
	long ms;
	int pid;
	char *path;
};

int summary_begin(void)
{
	const char *dir = lockdir_user();
	int fd, n;

	if (!dir) {
		fprintf(stderr, "atomically: warning: no private directory for the run's tally: "
			"no summary\n");
		return -1;
	}
	n = snprintf(tally_path, sizeof(tally_path), "%s/tally.%d", dir, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(tally_path))
		goto fail;
	/* One left by a launcher of the same pid, killed: not ours to add up. */
	unlink(tally_path);
	fd = open(tally_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	close(fd);
	if (setenv(TALLY_ENV, tally_path, 1) == 0) {
		tally_setup(tally_path);  /* the supervisor's commits, in this process */
		return 0;
	}
	unlink(tally_path);
fail:
	fprintf(stderr, "atomically: warning: cannot make the run's tally file in %s: %s: "
		"no summary\n", dir, strerror(errno));
	tally_path[0] = '\0';
	return -1;
}

/* One line "KIND MS PID PATH"; 0, or -1 for a line that is not one. */
static int parse(char *line, struct event *e)
{
	char *end;

	if (line[0] == '\0' || !strchr("CUDXIWG", line[0]) || line[1] != ' ')
		return -1;
	e->kind = line[0];
	e->ms = strtol(line + 2, &end, 10);
	if (*end != ' ')
		return -1;
	e->pid = (int)strtol(end + 1, &end, 10);
	if (*end != ' ' || end[1] == '\0' || end[1] == '\n')
		return -1;
	e->path = end + 1;
	e->path[strcspn(e->path, "\n")] = '\0';
	return 0;
}

static int count(const struct event *ev, size_t n, char kind)
{
	int c = 0;

	for (size_t i = 0; i < n; i++)
		c += ev[i].kind == kind;
	return c;
}

/* The paths of KIND, each once, LISTED at most, then how many more. */
static void list(FILE *out, const struct event *ev, size_t n, char kind, const char *what)
{
	size_t shown = 0, distinct = 0;

	for (size_t i = 0; i < n; i++) {
		int seen = 0;

		if (ev[i].kind != kind)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = ev[j].kind == kind && strcmp(ev[j].path, ev[i].path) == 0;
		if (seen)
			continue;
		distinct++;
		if (shown++ >= LISTED)
			continue;
		if (ev[i].ms > 0)
			fprintf(out, "atomically: summary: %s: %s (pid %d, after %.2f s)\n", what,
				ev[i].path, ev[i].pid, ev[i].ms / 1000.0);
		else
			fprintf(out, "atomically: summary: %s: %s (pid %d)\n", what, ev[i].path,
				ev[i].pid);
	}
	if (distinct > LISTED)
		fprintf(out, "atomically: summary: %s: %zu more\n", what, distinct - LISTED);
}

/* The lock waits first, longest first; the other events after them, in
 * any order that is one. */
static int longer_first(const void *a, const void *b)
{
	const struct event *x = a, *y = b;
	int xw = x->kind == 'W', yw = y->kind == 'W';

	if (xw != yw)
		return yw - xw;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	return (y->ms > x->ms) - (y->ms < x->ms);
}

static void waits(FILE *out, struct event *ev, size_t n)
{
	int waited = count(ev, n, 'W');
	long total = 0;

	if (!waited)
		return;
	qsort(ev, n, sizeof(*ev), longer_first);
	for (int i = 0; i < waited; i++)
		total += ev[i].ms;
	fprintf(out, "atomically: summary: %d lock wait%s, %.2f s in all; the longest:\n", waited,
		waited == 1 ? "" : "s", total / 1000.0);
	for (int i = 0; i < waited && i < LONGEST; i++)
		fprintf(out, "atomically: summary:   %.2f s %s (pid %d)\n", ev[i].ms / 1000.0,
			ev[i].path, ev[i].pid);
}

static void report(FILE *out, struct event *ev, size_t n)
{
	fprintf(out, "atomically: summary: %d committed, %d unchanged, %d not committed "
		"(old content kept), %d deleted before their commit, %d written in place (fallback)\n",
		count(ev, n, 'C'), count(ev, n, 'U'), count(ev, n, 'D'), count(ev, n, 'X'),
		count(ev, n, 'I'));
	list(out, ev, n, 'D', "not committed");
	list(out, ev, n, 'I', "written in place");
	list(out, ev, n, 'G', "gave up waiting for its lock");
	waits(out, ev, n);
}

void summary_end(FILE *out)
{
	struct event *ev = NULL;
	size_t n = 0, cap = 0, len = 0;
	char *line = NULL;
	FILE *in;

	if (!tally_path[0])
		return;
	in = fopen(tally_path, "re");
	unlink(tally_path);
	tally_path[0] = '\0';
	if (!in) {
		fprintf(out, "atomically: summary: cannot read the run's tally: %s\n", strerror(errno));
		return;
	}
	while (getline(&line, &len, in) > 0) {
		struct event e;

		if (parse(line, &e) < 0)
			continue;
		if (n == cap) {
			struct event *more = realloc(ev, (cap = cap ? 2 * cap : 64) * sizeof(*ev));
			if (!more)
				break;
			ev = more;
		}
		if (!(e.path = strdup(e.path)))
			break;
		ev[n++] = e;
	}
	fclose(in);
	free(line);
	report(out, ev, n);
	for (size_t i = 0; i < n; i++)
		free(ev[i].path);
	free(ev);
}

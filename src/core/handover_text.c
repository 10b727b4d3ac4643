/* handover_text.c - the text of ATOMICALLY_PENDING, written and read. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "handover_text.h"
#include "record.h"
#include "sys.h"
#include "textout.h"

void handover_begin(struct handover_writer *w, char *buf, size_t size, pid_t pid)
{
	w->out = (struct textout){ buf, size, 0 };
	w->entries = 0;
	w->fds = 0;
	textout_num(&w->out, pid);
	textout_char(&w->out, ':');
}

void handover_entry(struct handover_writer *w, int watch)
{
	if (w->entries++)
		textout_char(&w->out, ';');
	if (watch)
		textout_char(&w->out, 'W');
	w->fds = 0;
}

void handover_marked(struct handover_writer *w)
{
	textout_char(&w->out, 'M');
}

void handover_fd(struct handover_writer *w, int fd)
{
	if (w->fds++)
		textout_char(&w->out, '.');
	textout_num(&w->out, fd);
}

void handover_record(struct handover_writer *w, const struct record *r,
		     const struct ruleset *rs)
{
	int slots[RECORD_SLOTS];
	struct textout *o = &w->out;
	size_t n;

	record_slots(r, slots);
	for (int k = 0; k < RECORD_SLOTS; k++) {
		textout_char(o, k ? '.' : '/');
		if (slots[k] < 0)
			textout_char(o, '-');
		else
			textout_num(o, slots[k]);
	}
	textout_char(o, '/');
	/* The record straight into the room left, measured by the same call
	 * (one encoding: a field another thread changes in between cannot
	 * make the two disagree). */
	n = record_encode(r, rs, o->len < o->size ? o->buf + o->len : NULL,
			  o->len < o->size ? o->size - o->len : 0, slots);
	o->len += n;
}

size_t handover_end(struct handover_writer *w)
{
	return textout_end(&w->out);
}

pid_t handover_pid(const char *value, const char **entries)
{
	const char *p = value;
	long pid = 0;

	for (; *p >= '0' && *p <= '9' && pid <= INT_MAX; p++)
		pid = pid * 10 + (*p - '0');
	if (p == value || *p != ':' || pid <= 0 || pid > INT_MAX)
		return 0;
	*entries = p + 1;
	return (pid_t)pid;
}

char *handover_next_entry(char **list)
{
	char *entry = *list, *end;

	if (!*entry)
		return NULL;
	if ((end = strchr(entry, ';'))) {
		*end = '\0';
		*list = end + 1;
	} else {
		*list = entry + strlen(entry);
	}
	return entry;
}

/* A descriptor's number at *S, moving past it; -1 when there is none. */
static int get_fd(const char **s)
{
	const char *p = *s;
	long v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (*p - '0')) > INT_MAX)
			return -1;
	*s = p;
	return (int)v;
}

int handover_next_fd(const char **fds)
{
	int fd = get_fd(fds);

	if (fd >= 0 && (*fds)[0] == '.' && (*fds)[1] >= '0' && (*fds)[1] <= '9')
		(*fds)++;
	return fd;
}

/* The slots "DFD.TFD.LFD" at *S into SLOTS, then the '/' after them. */
static int read_slots(const char **s, int slots[RECORD_SLOTS])
{
	for (int k = 0; k < RECORD_SLOTS; k++) {
		if (k && *(*s)++ != '.')
			return -1;
		if (**s == '-') {
			slots[k] = -1;
			(*s)++;
		} else if ((slots[k] = get_fd(s)) < 0) {
			return -1;
		}
	}
	return *(*s)++ == '/' ? 0 : -1;
}

int handover_parse(const char *entry, struct handover_entry *e)
{
	const char *p;

	memset(e, 0, sizeof(*e));
	e->watch = entry[0] == 'W';
	e->marked = entry[0] == 'M';
	e->fds = entry + (e->watch || e->marked);
	for (int k = 0; k < RECORD_SLOTS; k++)
		e->slots[k] = -1;
	/* The descriptors: digits and dots only, at least one. */
	p = e->fds;
	if (handover_next_fd(&p) < 0)
		return -1;
	while (handover_next_fd(&p) >= 0)
		;
	if (e->watch)
		return *p ? -1 : 0;
	if (*p++ != '/' || read_slots(&p, e->slots) < 0)
		return -1;
	e->record = p;
	return 0;
}

int handover_slots_plausible(const struct handover_entry *e)
{
	static const mode_t want[RECORD_SLOTS] = {
		[RECORD_SLOT_DIR] = S_IFDIR, [RECORD_SLOT_TEMP] = S_IFREG, [RECORD_SLOT_LOCK] = S_IFREG,
	};
	struct stat st;

	for (int k = 0; k < RECORD_SLOTS; k++) {
		if (e->slots[k] < 0) {
			if (k == RECORD_SLOT_DIR)
				return 0;
			continue;  /* no lock; no temp: written in place */
		}
		if (sys_fstat(e->slots[k], &st) < 0 || (st.st_mode & S_IFMT) != want[k])
			return 0;
		for (int j = 0; j < k; j++)
			if (e->slots[j] == e->slots[k])
				return 0;
	}
	return 1;
}

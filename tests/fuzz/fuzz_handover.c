/* fuzz_handover.c - libFuzzer target for the reading of ATOMICALLY_PENDING
 * (src/core/handover_text.c, and the records in it: src/core/record.c).
 *
 * The input is the variable's value, cut at its first NUL, copied into a
 * buffer of exactly its size, and read as the library's handover_adopt
 * and the launcher's adopt_handover read it: handover_pid, then each
 * entry of handover_next_entry through handover_parse, its descriptors
 * through handover_next_fd, and a held file's record through
 * record_decode (with its slots as the descriptors, and a ruleset of
 * RULES rules for it to name).  Nothing is opened, closed or looked at:
 * the descriptors are numbers only here.  Checked:
 *
 *  - the pid is the value's leading decimal digits, when a ':' follows
 *    them and they are a pid (1 to INT_MAX); none otherwise;
 *  - the entries are the list split at each ';' (a last empty one
 *    dropped): joined again, they are the list; there are no more of
 *    them than ';' plus one (what adopt.c allocates for);
 *  - a parsed entry's descriptors are decimal numbers up to INT_MAX;
 *  - a record that decodes is one the library can hold: a rule of the
 *    ruleset, a directory and (unless written in place) a temp among
 *    the slots, a name that is one file name (not "", ".", "..", no '/')
 *    and a temp name that is one or none; a record that does not decode
 *    leaves the record empty and takes no lock;
 *  - every entry that parses (and decodes) is written again with the
 *    writer the library uses (handover_begin, _entry, _fd, _record; the
 *    record keeps no lock: the harness adopts none), measured as
 *    written, a cut buffer holding a prefix; read back, that text gives
 *    the same entries: the same descriptors, the same records field for
 *    field, and written once more, the same text.
 *
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/handover_text.h"
#include "core/record.h"
#include "core/rules.h"

/* As many rules as the default config has, and a few more: the records
 * the library writes under it name them. */
#define RULES 32
/* Descriptors kept per entry (adopt.c keeps 64), and entries kept per
 * list: more are read and checked, but neither written nor compared. */
#define MAX_FDS 64
#define MAX_ENTRIES 16

static struct rule rules[RULES];
static struct ruleset rs = { .rules = rules, .nrules = RULES };

static void fail(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_handover: %s: \"%s\"\n", what, text ? text : "(null)");
	abort();
}

static void *alloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "fuzz_handover: out of memory\n");
		exit(2);
	}
	return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (int i = 0; i < RULES; i++)
		rule_set_defaults(&rules[i]);
	ruleset_set_defaults(&rs);
	rs.rules = rules;
	rs.nrules = RULES;
	return 0;
}

/* One entry read: its descriptors and, for a held file, its record. */
struct read_entry {
	int watch;
	int marked;
	int fds[MAX_FDS];
	int nfds;                  /* all of them; MAX_FDS kept */
	struct record rec;
	int decoded;
};

/* ---- reading ---- */

/* The pid as the description says it: leading digits, then ':'. */
static pid_t pid_of(const char *value, const char **rest)
{
	size_t n = strspn(value, "0123456789");
	long long pid = 0;

	if (n == 0 || value[n] != ':')
		return 0;
	for (size_t i = 0; i < n; i++)  /* held just above INT_MAX: no overflow */
		if ((pid = pid * 10 + (value[i] - '0')) > INT_MAX)
			pid = (long long)INT_MAX + 1;
	if (pid < 1 || pid > INT_MAX)
		return 0;
	*rest = value + n + 1;
	return (pid_t)pid;
}

static int one_name(const char *s)
{
	return s[0] && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

/* What the library needs of a record that decoded from E. */
static void check_record(const struct record *r, const struct handover_entry *e, int lfd,
			 const char *text)
{
	int dfd_ok = 0, tfd_ok = r->tfd < 0, lfd_ok = lfd < 0;

	if (!r->rule || r->rule < rs.rules || r->rule >= rs.rules + rs.nrules)
		fail("a record names no rule of the ruleset", text);
	for (int k = 0; k < RECORD_SLOTS; k++) {
		dfd_ok |= r->dfd >= 0 && r->dfd == e->slots[k];
		tfd_ok |= r->tfd == e->slots[k];
		lfd_ok |= lfd == e->slots[k];
	}
	if (!dfd_ok || !tfd_ok || !lfd_ok)
		fail("a record's descriptor is none of the slots", text);
	if (r->tfd < 0 && !r->inplace)
		fail("a record with no temp, not written in place", text);
	if (r->lock)
		fail("a record decoded with a lock", text);
	if (!one_name(r->name))
		fail("a record's name is not a file name", text);
	if (r->temp[0] && !one_name(r->temp))
		fail("a record's temp is not a file name", text);
}

static void check_refused(const struct record *r, int lfd, const char *text)
{
	if (r->rule || r->lock || r->dfd != -1 || r->tfd != -1 || lfd != -1 || r->name[0] ||
	    r->temp[0] || r->path[0])
		fail("a refused record leaves something behind", text);
}

/* Read ENTRY into OUT: 0, or -1 when it is not one to adopt. */
static int read_one(const char *entry, struct read_entry *out, const char *text)
{
	struct handover_entry e;
	const char *fds;
	int fd, lfd;

	if (handover_parse(entry, &e) < 0)
		return -1;
	out->watch = e.watch;
	out->marked = e.marked;
	out->nfds = 0;
	out->decoded = 0;
	if (e.watch != (e.record == NULL))
		fail("a watch entry with a record, or a held one without", entry);
	if (e.watch && e.marked)
		fail("an entry both watched and marked", entry);
	for (fds = e.fds; (fd = handover_next_fd(&fds)) >= 0; out->nfds++)
		if (out->nfds < MAX_FDS)
			out->fds[out->nfds] = fd;
	if (out->nfds == 0)
		fail("an entry parsed without a descriptor", entry);
	if (e.watch)
		return 0;
	if (record_decode(e.record, &rs, e.slots, RECORD_SLOTS, &out->rec, &lfd) < 0) {
		check_refused(&out->rec, lfd, text);
		return -1;
	}
	check_record(&out->rec, &e, lfd, text);
	out->decoded = 1;
	return 0;
}

/* Split the list LIST (modified) into its entries, and read each; the
 * first MAX that read are kept in OUT (room for MAX + 1: the others are
 * read into the last); returns how many are kept.  Checks the split
 * against the list as it was (ORIG). */
static int read_list(char *list, const char *orig, struct read_entry *out, int max)
{
	size_t len = strlen(orig), at = 0;
	const char *semi = orig;
	int n = 0, entries = 0, bound = 1;
	char *entry;

	while ((semi = strchr(semi, ';')))
		bound++, semi++;
	while ((entry = handover_next_entry(&list))) {
		size_t elen = strlen(entry);

		/* The entry is the list's next piece, ended by ';' or the end. */
		if (at + elen > len || memcmp(orig + at, entry, elen) != 0 ||
		    (orig[at + elen] != ';' && orig[at + elen] != '\0'))
			fail("an entry is not the next piece of the list", orig);
		at += elen + (orig[at + elen] == ';');
		if (++entries > bound)
			fail("more entries than ';' plus one", orig);
		if (read_one(entry, &out[n < max ? n : max], orig) == 0 && n < max)
			n++;
	}
	if (at != len)
		fail("the entries end before the list", orig);
	return n;
}

/* ---- writing ---- */

/* The N entries IN for PID, written by the library's writer into BUF
 * (SIZE bytes; none: measured).  Returns the length. */
static int kept(const struct read_entry *e)
{
	return e->nfds < MAX_FDS ? e->nfds : MAX_FDS;
}

static size_t write_list(char *buf, size_t size, pid_t pid, const struct read_entry *in, int n)
{
	struct handover_writer w;

	handover_begin(&w, buf, size, pid);
	for (int i = 0; i < n; i++) {
		handover_entry(&w, in[i].watch);
		if (in[i].marked)
			handover_marked(&w);
		for (int k = 0; k < kept(&in[i]); k++)
			handover_fd(&w, in[i].fds[k]);
		if (!in[i].watch)
			handover_record(&w, &in[i].rec, &rs);
	}
	return handover_end(&w);
}

/* Written, checked as a line: malloc'd. */
static char *write_checked(pid_t pid, const struct read_entry *in, int n)
{
	size_t len = write_list(NULL, 0, pid, in, n), cut = len / 2;
	char *text = alloc(len + 1), *part = alloc(cut + 1);

	if (write_list(text, len + 1, pid, in, n) != len || strlen(text) != len)
		fail("the writer: the length it returns is not the text's", text);
	if (write_list(part, cut + 1, pid, in, n) != len || strncmp(part, text, cut) || part[cut])
		fail("the writer: a short buffer does not hold a prefix", part);
	free(part);
	return text;
}

/* A record as its text says it, for comparing two: malloc'd. */
static char *record_text(const struct record *r)
{
	int fds[RECORD_SLOTS];
	size_t len = record_encode(r, &rs, NULL, 0, fds);
	char *text = alloc(len + 1);

	if (record_encode(r, &rs, text, len + 1, fds) != len)
		fail("record_encode: the length it returns is not the text's", text);
	return text;
}

static void same_entry(const struct read_entry *a, const struct read_entry *b, const char *text)
{
	char *x, *y;

	if (a->watch != b->watch || a->marked != b->marked || kept(a) != b->nfds ||
	    a->decoded != b->decoded)
		fail("an entry read back differs", text);
	for (int k = 0; k < b->nfds; k++)
		if (a->fds[k] != b->fds[k])
			fail("an entry's descriptors read back differ", text);
	if (!a->decoded)
		return;
	if (a->rec.rule != b->rec.rule || a->rec.dfd != b->rec.dfd || a->rec.tfd != b->rec.tfd)
		fail("a record's rule or descriptors read back differ", text);
	x = record_text(&a->rec);
	y = record_text(&b->rec);
	if (strcmp(x, y) != 0)
		fail("a record read back differs", y);
	free(x);
	free(y);
}

/* The entries IN (N of them) for PID, written, read back and compared;
 * written again from what was read, the same text. */
static void round_trip(pid_t pid, const struct read_entry *in, int n)
{
	struct read_entry *back = alloc((size_t)(n + 2) * sizeof(*back));
	char *text = write_checked(pid, in, n), *copy = alloc(strlen(text) + 1), *again;
	const char *entries;
	int m;

	strcpy(copy, text);
	if (handover_pid(copy, &entries) != pid)
		fail("the pid written is not read back", text);
	m = read_list(copy + (entries - copy), text + (entries - copy), back, n + 1);
	if (m != n)
		fail("not as many entries read back as written", text);
	for (int i = 0; i < n; i++)
		same_entry(&in[i], &back[i], text);
	again = write_checked(pid, back, m);
	if (strcmp(text, again) != 0)
		fail("written again, another text", again);
	free(again);
	free(copy);
	free(text);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t len = nul ? (size_t)(nul - data) : size;
	char *value = alloc(len + 1), *orig = alloc(len + 1);
	const char *entries = NULL, *want_entries = NULL;
	struct read_entry *got;
	pid_t pid, want;
	int n;

	memcpy(value, data, len);
	value[len] = '\0';
	memcpy(orig, value, len + 1);
	pid = handover_pid(value, &entries);
	want = pid_of(value, &want_entries);
	if (pid != want || (pid && entries != want_entries))
		fail("handover_pid is not the value's leading number", orig);
	if (pid) {
		/* One more: where the entries past the last kept are read. */
		got = alloc((MAX_ENTRIES + 1) * sizeof(*got));
		n = read_list(value + (entries - value), orig + (entries - value), got, MAX_ENTRIES);
		round_trip(pid, got, n);
		free(got);
	}
	free(orig);
	free(value);
	return 0;
}

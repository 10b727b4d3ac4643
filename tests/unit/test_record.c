/* test_record.c - the serialized form of a pending file (src/core/record.c)
 * round-trips every field, names its descriptors as slots, and refuses a
 * line that is not whole: one of another version, one with a field
 * missing, doubled or unknown, a rule or a slot out of range, a name that
 * is not hex.  A record that loses a field on its way across an exec (or
 * the supervisor's socket) commits what it should not: the write error
 * that is forgotten, the untouched file replaced.
 *
 * Links the core in a plain process (core/sys_libc.c); the lock slot is a
 * real lock, taken in a directory of the test's own.  Prints each failure
 * and a last line "N passed, M failed"; exits 1 when anything failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/actor.h"
#include "core/handover_text.h"
#include "core/lock.h"
#include "core/record.h"
#include "core/rules.h"

static int passed, failed;

#define CHECK(cond, ...) do { \
	if (cond) { passed++; } else { failed++; \
		printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
} while (0)

static struct rule rules[3];
static struct ruleset rs = { .rules = rules, .nrules = 3 };

static void fill_stat(struct stat *st, long base)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = (dev_t)(base + 1);
	st->st_ino = (ino_t)(base + 2);
	st->st_mode = S_IFREG | 0640;
	st->st_nlink = (nlink_t)(base % 7 + 1);
	st->st_uid = (uid_t)(base + 4);
	st->st_gid = (gid_t)(base + 5);
	st->st_size = (off_t)(base * 1000 + 6);
	st->st_mtim.tv_sec = base + 7;
	st->st_mtim.tv_nsec = 999999999;
	st->st_ctim.tv_sec = base + 9;
	st->st_ctim.tv_nsec = 1;
}

/* A record with a distinct value in every field; its descriptors are
 * the numbers DFD and TFD (nothing is opened: only numbers travel). */
static void fill(struct record *r, int dfd, int tfd)
{
	char *p;

	record_init(r);
	r->rule = &rules[2];
	r->dfd = dfd;
	r->tfd = tfd;
	r->existed = 1;
	r->inplace = 1;
	r->copied = 1;
	fill_stat(&r->target_st, 100);
	fill_stat(&r->copy_st, 200);
	r->temp_mode = S_IFREG | 0604;
	r->temp_uid = 4000000000u;   /* beyond INT_MAX: unsigned all the way */
	r->temp_gid = 7;
	snprintf(r->name, sizeof(r->name), "a b,c;d=e%%\xff\x01.yaml");
	snprintf(r->temp, sizeof(r->temp), ".x.atomically.123.abcdef");
	/* The longest path there is. */
	p = r->path;
	*p++ = '/';
	while (p < r->path + sizeof(r->path) - 1)
		*p++ = 'p';
	*p = '\0';
	atomic_store(&r->error, ENOSPC);
	atomic_store(&r->written, 1);
	atomic_store(&r->unlinked, 1);
}

static int same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_mode == b->st_mode &&
	       a->st_nlink == b->st_nlink && a->st_uid == b->st_uid && a->st_gid == b->st_gid &&
	       a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Every field of IN came through into OUT, whose descriptors are WANT_DFD
 * and WANT_TFD. */
static void check_fields(const struct record *in, const struct record *out, int want_dfd,
			 int want_tfd, const char *what)
{
	CHECK(out->rule == in->rule, "%s: rule %ld", what, (long)(out->rule - rules));
	CHECK(out->dfd == want_dfd, "%s: dfd %d, want %d", what, out->dfd, want_dfd);
	CHECK(out->tfd == want_tfd, "%s: tfd %d, want %d", what, out->tfd, want_tfd);
	CHECK(out->existed == in->existed, "%s: existed", what);
	CHECK(out->inplace == in->inplace, "%s: inplace", what);
	CHECK(out->copied == in->copied, "%s: copied", what);
	CHECK(same_stat(&out->target_st, &in->target_st), "%s: target_st", what);
	CHECK(same_stat(&out->copy_st, &in->copy_st), "%s: copy_st", what);
	CHECK(out->temp_mode == in->temp_mode, "%s: temp_mode %o", what, (unsigned)out->temp_mode);
	CHECK(out->temp_uid == in->temp_uid, "%s: temp_uid %u", what, (unsigned)out->temp_uid);
	CHECK(out->temp_gid == in->temp_gid, "%s: temp_gid %u", what, (unsigned)out->temp_gid);
	CHECK(strcmp(out->name, in->name) == 0, "%s: name %s", what, out->name);
	CHECK(strcmp(out->temp, in->temp) == 0, "%s: temp %s", what, out->temp);
	CHECK(strcmp(out->path, in->path) == 0, "%s: path (%zu bytes)", what, strlen(out->path));
	CHECK(atomic_load(&out->error) == atomic_load(&in->error), "%s: error %d", what,
	      atomic_load(&out->error));
	CHECK(atomic_load(&out->written) == atomic_load(&in->written), "%s: written", what);
	CHECK(atomic_load(&out->unlinked) == atomic_load(&in->unlinked), "%s: unlinked", what);
}

/* Encode IN; the text in *TEXT (freed by the caller), the slots in FDS. */
static size_t encode(const struct record *in, char **text, int fds[RECORD_SLOTS])
{
	size_t n = record_encode(in, &rs, NULL, 0, fds);

	*text = malloc(n + 1);
	CHECK(record_encode(in, &rs, *text, n + 1, fds) == n && strlen(*text) == n,
	      "the length measured is the length written");
	return n;
}

/* Every field, and the slots as the receiver numbers them. */
static void test_roundtrip(void)
{
	struct record in, out;
	int fds[RECORD_SLOTS], received[RECORD_SLOTS] = { 21, 22, 23 }, lfd;
	char *text, small[16];
	size_t n;

	fill(&in, 5, 6);
	n = encode(&in, &text, fds);
	CHECK(strspn(text, "0123456789abcdefghijklmnopqrstuvwxyz=,.-") == n,
	      "only characters safe in the environment: %s", text);
	CHECK(fds[RECORD_SLOT_DIR] == 5 && fds[RECORD_SLOT_TEMP] == 6 && fds[RECORD_SLOT_LOCK] == -1,
	      "the slots hold the descriptors: %d %d %d", fds[0], fds[1], fds[2]);
	/* A short buffer: cut, terminated, the whole length still told. */
	CHECK(record_encode(&in, &rs, small, sizeof(small), fds) == n &&
	      strlen(small) == sizeof(small) - 1, "a short buffer is cut and terminated");

	/* Across exec: the same numbers. */
	CHECK(record_decode(text, &rs, fds, RECORD_SLOTS, &out, &lfd) == 0, "decodes: %.100s...", text);
	check_fields(&in, &out, 5, 6, "same numbers");
	CHECK(lfd == -1, "no lock: lock fd %d", lfd);
	/* Over a socket: the receiver's numbers, by slot. */
	CHECK(record_decode(text, &rs, received, RECORD_SLOTS, &out, &lfd) == 0, "decodes again");
	check_fields(&in, &out, 21, 22, "other numbers");
	free(text);

	/* An in-place record (a fallback, hardlinks = "inplace") has no
	 * temp: no temp slot, and it still decodes. */
	fill(&in, 5, -1);
	in.temp[0] = '\0';
	encode(&in, &text, fds);
	CHECK(fds[RECORD_SLOT_TEMP] == -1 && strstr(text, ",t=-,") != NULL,
	      "no temp slot: %.60s...", text);
	CHECK(record_decode(text, &rs, fds, RECORD_SLOTS, &out, &lfd) == 0, "an in-place record decodes");
	check_fields(&in, &out, 5, -1, "in place");
	free(text);
	in.inplace = 0;
	encode(&in, &text, fds);
	CHECK(record_decode(text, &rs, fds, RECORD_SLOTS, &out, &lfd) < 0,
	      "a record neither in place nor with a temp is refused");
	free(text);

	/* Zeros and empties come through as such too. */
	record_init(&in);
	in.rule = &rules[0];
	in.dfd = 3;
	in.tfd = 4;
	snprintf(in.name, sizeof(in.name), "f");
	snprintf(in.path, sizeof(in.path), "f");
	encode(&in, &text, fds);
	CHECK(record_decode(text, &rs, fds, RECORD_SLOTS, &out, &lfd) == 0, "decodes: %.100s...", text);
	check_fields(&in, &out, 3, 4, "zeros");
	free(text);
}

/* The lock slot is a real lock: its descriptor travels in its slot, and
 * the receiver takes the lock over (record_adopt). */
static void test_lock_slot(const char *dir)
{
	struct actor a = { .pid = getpid(), .lock_dir = dir };
	struct record in, out;
	struct stat dir_st;
	int fds[RECORD_SLOTS], lfd, dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *text;

	CHECK(dfd >= 0 && fstat(dfd, &dir_st) == 0, "open %s: %s", dir, strerror(errno));
	fill(&in, dfd, dfd);
	snprintf(in.name, sizeof(in.name), "locked.yaml");
	in.temp[0] = '\0';
	CHECK(lock_take(&a, &rules[2], dfd, &dir_st, in.name, in.path, 0, &in.lock) == 0 && in.lock,
	      "lock_take: %s", strerror(errno));
	encode(&in, &text, fds);
	CHECK(fds[RECORD_SLOT_LOCK] == lock_fd(in.lock) && fds[RECORD_SLOT_LOCK] >= 0,
	      "the lock slot holds the lock file: %d", fds[RECORD_SLOT_LOCK]);
	CHECK(strstr(text, ",l=2,") != NULL, "the text names the lock by its slot: %s", text);
	CHECK(record_decode(text, &rs, fds, RECORD_SLOTS, &out, &lfd) == 0, "decodes");
	CHECK(lfd == lock_fd(in.lock), "the lock's descriptor comes out: %d", lfd);
	/* The receiver adopts a duplicate (its own description), as a new
	 * image or the supervisor would hold its own descriptor. */
	lfd = dup(lfd);
	out.dfd = dup(dfd);
	out.tfd = dup(dfd);
	CHECK(record_adopt(&out, lfd) == 0 && out.lock != NULL, "record_adopt takes the lock over");
	CHECK(out.lock == in.lock, "one lock, counted twice (same directory and name)");
	record_release(&out);
	CHECK(out.lock == NULL && out.dfd == -1 && out.tfd == -1, "record_release lets go of it all");
	in.dfd = in.tfd = -1;
	record_release(&in);
	close(dfd);
	free(text);
}

/* A line that is not whole is refused, and nothing comes out of it. */
static void test_refused(void)
{
	struct record in, out;
	int fds[RECORD_SLOTS], lfd, two[2] = { 5, 6 };
	char *text, *bad;
	size_t n;
	static const char *const keys[] = {
		"v", "r", "d", "t", "l", "x", "i", "c", "e", "w", "u", "ts", "cs", "tm", "n", "m", "p",
	};

	fill(&in, 5, 6);
	n = encode(&in, &text, fds);
	bad = malloc(2 * n + 64);

	/* Each field left out in turn: the encoder writes every one, and the
	 * decoder wants every one. */
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char key[8];
		const char *at, *end;

		snprintf(key, sizeof(key), "%s%s=", k ? "," : "", keys[k]);
		at = k ? strstr(text, key) : text;
		CHECK(at != NULL, "the text has the field %s", keys[k]);
		if (!at)
			continue;
		end = strchr(at + 1, ',');
		snprintf(bad, 2 * n + 64, "%.*s%s", (int)(at - text), text,
			 end ? end + (k ? 0 : 1) : "");
		CHECK(record_decode(bad, &rs, fds, RECORD_SLOTS, &out, &lfd) < 0 && errno == EINVAL,
		      "without %s: refused", keys[k]);
		CHECK(out.dfd == -1 && out.tfd == -1 && lfd == -1 && !out.name[0],
		      "without %s: nothing comes out", keys[k]);
	}

#define REFUSED(line, why) do { \
	CHECK(record_decode(line, &rs, fds, RECORD_SLOTS, &out, &lfd) < 0, "refused: %s", why); \
} while (0)
	snprintf(bad, 2 * n + 64, "%s,x=1", text);
	REFUSED(bad, "a field twice");
	snprintf(bad, 2 * n + 64, "%s,zz=1", text);
	REFUSED(bad, "an unknown field");
	snprintf(bad, 2 * n + 64, "%s,", text);
	REFUSED(bad, "an empty field");
	snprintf(bad, 2 * n + 64, "v=2%s", text + 3);
	REFUSED(bad, "another version");
	snprintf(bad, 2 * n + 64, "v=1,r=3%s", strstr(text, ",d="));
	REFUSED(bad, "a rule the ruleset does not have");
	CHECK(record_decode(text, &rs, two, 1, &out, &lfd) < 0, "a slot beyond the descriptors given");
	snprintf(bad, 2 * n + 64, "%s", text);
	*strstr(bad, ",x=1") = '\0';
	strcat(bad, ",x=2");
	strcat(bad, strstr(text, ",i="));
	REFUSED(bad, "a flag that is not 0 or 1");
	snprintf(bad, 2 * n + 64, "%s", text);
	{
		char *name = strstr(bad, ",n=") + 3;
		name[0] = '0';
		name[1] = '0';
	}
	REFUSED(bad, "a NUL inside a name");
	snprintf(bad, 2 * n + 64, "%s", text);
	strstr(bad, ",n=")[3] = 'g';
	REFUSED(bad, "a name that is not hex");
	snprintf(bad, 2 * n + 64, "%s", text);
	strstr(bad, ",e=")[3] = '-';
	REFUSED(bad, "a negative error");
	/* Names that reach out of the directory: "../x", "a/b", "..". */
	{
		static const char *const names[][2] = {
			{ "n", "2e2e2f78" }, { "n", "612f62" }, { "n", "2e2e" }, { "n", "2e" },
			{ "m", "2e2e2f78" }, { "m", "2e2e" },
		};
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			char key[8];
			const char *at, *end;

			snprintf(key, sizeof(key), ",%s=", names[i][0]);
			at = strstr(text, key);
			end = strchr(at + 1, ',');
			snprintf(bad, 2 * n + 64, "%.*s%s%s", (int)(at - text) + 3, text, names[i][1],
				 end ? end : "");
			REFUSED(bad, "a name that is not a file name");
		}
	}
	{
		struct ruleset none = { .rules = rules, .nrules = 0 };
		CHECK(record_decode(text, &none, fds, RECORD_SLOTS, &out, &lfd) < 0,
		      "any rule, against a ruleset without rules");
		CHECK(record_decode(text, &rs, fds, 0, &out, &lfd) < 0, "any slot, without descriptors");
	}
	REFUSED("", "an empty line");
	REFUSED("v=1", "the version alone");
	/* A path longer than PATH_MAX: refused, not cut. */
	{
		const char *p = strstr(text, ",p=");
		size_t head = (size_t)(p - text) + 3, len = head + 2 * PATH_MAX + 1;
		char *longer = malloc(len);

		memcpy(longer, text, head);
		for (size_t i = head; i + 1 < len; i += 2)
			memcpy(longer + i, "70", 2);
		longer[len - 1] = '\0';
		CHECK(record_decode(longer, &rs, fds, RECORD_SLOTS, &out, &lfd) < 0,
		      "a path too long for PATH_MAX");
		free(longer);
	}
#undef REFUSED
	free(bad);
	free(text);
}

/* The envelope of ATOMICALLY_PENDING (core/handover_text.h): entries of
 * held and watched files, their descriptors and slots, written and read
 * back; a malformed one refused. */
static void test_handover_text(void)
{
	struct handover_writer w;
	struct handover_entry e;
	struct record in, out;
	char buf[16384], *list, *entry;
	const char *entries, *fds;
	int lfd;
	size_t n;

	fill(&in, 800, 801);
	handover_begin(&w, NULL, 0, 4242);
	handover_entry(&w, 0);
	handover_fd(&w, 1);
	handover_fd(&w, 17);
	handover_record(&w, &in, &rs);
	handover_entry(&w, 1);
	handover_fd(&w, 3);
	n = handover_end(&w);
	handover_begin(&w, buf, sizeof(buf), 4242);
	handover_entry(&w, 0);
	handover_fd(&w, 1);
	handover_fd(&w, 17);
	handover_record(&w, &in, &rs);
	handover_entry(&w, 1);
	handover_fd(&w, 3);
	CHECK(handover_end(&w) == n && strlen(buf) == n, "measured as written: %zu", n);
	CHECK(strncmp(buf, "4242:1.17/800.801.-/v=1,", 24) == 0, "the text: %.40s", buf);
	CHECK(strcmp(buf + n - 3, ";W3") == 0, "ends with the watch entry: %s", buf + n - 3);

	CHECK(handover_pid(buf, &entries) == 4242, "the pid");
	list = buf + (entries - buf);
	entry = handover_next_entry(&list);
	CHECK(entry && handover_parse(entry, &e) == 0 && !e.watch, "a held file's entry");
	fds = e.fds;
	CHECK(handover_next_fd(&fds) == 1 && handover_next_fd(&fds) == 17 &&
	      handover_next_fd(&fds) == -1, "its descriptors, 1 and 17");
	CHECK(e.slots[0] == 800 && e.slots[1] == 801 && e.slots[2] == -1, "its slots");
	CHECK(record_decode(e.record, &rs, e.slots, RECORD_SLOTS, &out, &lfd) == 0,
	      "its record decodes");
	check_fields(&in, &out, 800, 801, "through the envelope");
	entry = handover_next_entry(&list);
	CHECK(entry && handover_parse(entry, &e) == 0 && e.watch && !e.record, "a watch entry");
	fds = e.fds;
	CHECK(handover_next_fd(&fds) == 3 && handover_next_fd(&fds) == -1, "its descriptor, 3");
	CHECK(handover_next_entry(&list) == NULL, "no third entry");

	CHECK(handover_pid("x:1", &entries) == 0 && handover_pid("12", &entries) == 0 &&
	      handover_pid("0:", &entries) == 0 && handover_pid("99999999999:", &entries) == 0,
	      "a pid that is not one");
	static const char *const bad[] = {
		"", "W", "W3/", "3", "3/1.2/", "3/1.2.3", "3/1..3/v=1", "3/a.2.3/v=1", "/1.2.3/v=1",
		"3.x/1.2.3/v=1", "W3.", "99999999999/1.2.3/v=1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(handover_parse(bad[i], &e) < 0, "malformed entry refused: \"%s\"", bad[i]);
}

int main(void)
{
	char dir[] = "/tmp/test_record.XXXXXX";

	for (int i = 0; i < 3; i++)
		rule_set_defaults(&rules[i]);
	rules[2].lock_timeout = 0;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_roundtrip();
	test_lock_slot(dir);
	test_refused();
	test_handover_text();
	{
		char cmd[64];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("could not remove %s\n", dir);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

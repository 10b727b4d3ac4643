/* journal.c - the journals of a session's commit. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "log.h"
#include "tempfile.h"
#include "tempname.h"
#include "trust.h"
#include "sys.h"

static const char prefix[] = ".atomically-journal.";
#define PREFIX_LEN (sizeof(prefix) - 1)
#define RANDOM_HEX 16
/* A journal larger than this is none of ours. */
#define JOURNAL_MAX (64 << 20)

int journal_owner(const char *entry)
{
	const char *p = entry + PREFIX_LEN;
	long pid = 0;
	size_t digits = 0;

	if (strncmp(entry, prefix, PREFIX_LEN) != 0)
		return -1;
	for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
		pid = pid * 10 + (*p - '0');
	if (!digits || *p != '.' || pid <= 0 || pid > INT32_MAX)
		return -1;
	p++;
	for (size_t i = 0; i < RANDOM_HEX; i++, p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -1;
	return *p ? -1 : (int)pid;
}

/* ---- the text ---- */

/* Names and paths go in hex: any byte but NUL, on one line. */
static size_t put_hex(char *out, size_t size, size_t at, const char *s)
{
	static const char digits[] = "0123456789abcdef";

	for (; *s; s++, at += 2)
		if (at + 2 < size) {
			out[at] = digits[(unsigned char)*s >> 4];
			out[at + 1] = digits[(unsigned char)*s & 15];
		}
	return at;
}

static size_t put_text(char *out, size_t size, size_t at, const char *s)
{
	for (; *s; s++, at++)
		if (at + 1 < size)
			out[at] = *s;
	return at;
}

static int hex_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The hex word at *P (up to a space or newline) into OUT; *P past it.
 * -1 when it is not hex, is empty, or does not fit. */
static int get_hex(const char **p, char *out, size_t size)
{
	size_t n = 0;

	while (**p && **p != ' ' && **p != '\n') {
		int hi = hex_value((*p)[0]), lo = hex_value((*p)[1]);
		if (hi < 0 || lo < 0 || n + 1 >= size)
			return -1;
		out[n++] = (char)(hi << 4 | lo);
		*p += 2;
	}
	out[n] = '\0';
	return n ? 0 : -1;
}

/* The primary's text: "atomically-journal 1 primary", a line "f DIR TEMP
 * NAME" per file replaced and "u DIR NAME" per file removed, "s DIR" per
 * directory holding a secondary, "end".
 * Returns its length (written whole only when less than SIZE). */
static size_t primary_text(char *out, size_t size, const struct journal_file *files, size_t n)
{
	size_t at = put_text(out, size, 0, "atomically-journal 1 primary\n");

	for (size_t i = 0; i < n; i++) {
		at = put_text(out, size, at, files[i].temp ? "f " : "u ");
		at = put_hex(out, size, at, files[i].dir);
		if (files[i].temp) {
			at = put_text(out, size, at, " ");
			at = put_hex(out, size, at, files[i].temp);
		}
		at = put_text(out, size, at, " ");
		at = put_hex(out, size, at, files[i].name);
		at = put_text(out, size, at, "\n");
	}
	for (size_t i = 1; i < n; i++) {
		int seen = strcmp(files[i].dir, files[0].dir) == 0;
		for (size_t k = 1; k < i && !seen; k++)
			seen = strcmp(files[i].dir, files[k].dir) == 0;
		if (seen)
			continue;
		at = put_text(out, size, at, "s ");
		at = put_hex(out, size, at, files[i].dir);
		at = put_text(out, size, at, "\n");
	}
	at = put_text(out, size, at, "end\n");
	if (at < size)
		out[at] = '\0';
	return at;
}

/* ---- writing ---- */

/* Write LEN bytes of TEXT as the journal NAME in DFD: into a temp of its
 * own (a dead writer's leftover, if we die now, for the usual sweep),
 * synced when DURABLE, then renamed into place, and the directory
 * synced.  0, or -1 with errno. */
static int put_journal(pid_t owner, int dfd, const char *name, const char *text, size_t len,
		       int durable)
{
	char temp[NAME_MAX + 1];
	int fd = temp_open(owner, dfd, "atomically-journal", O_WRONLY, 0600, temp);
	size_t done = 0;
	int err;

	if (fd < 0)
		return -1;
	if (!temp[0] && temp_link(owner, fd, dfd, "atomically-journal", temp) < 0)
		goto fail;
	while (done < len) {
		ssize_t w = sys_write(fd, text + done, len - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		done += (size_t)w;
	}
	if ((durable && sys_fsync(fd) < 0) || sys_renameat2(dfd, temp, dfd, name, 0) < 0)
		goto fail;
	sys_close(fd);
	if (durable && sys_fsync(dfd) < 0)
		return -1;
	return 0;
fail:
	err = errno;
	if (temp[0])
		sys_unlinkat(dfd, temp, 0);
	sys_close(fd);
	errno = err;
	return -1;
}

/* The first file of FILES in the directory of FILES[I]: its index. */
static size_t first_in_dir(const struct journal_file *files, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (strcmp(files[k].dir, files[i].dir) == 0)
			return k;
	return i;
}

/* Remove the journal NAME from every directory of FILES. */
static void remove_journals(const struct journal_file *files, size_t n, const char *name)
{
	for (size_t i = n; i-- > 0;)
		if (first_in_dir(files, i) == i)
			sys_unlinkat(files[i].dfd, name, 0);
}

int journal_commit(pid_t owner, const struct journal_file *files, size_t n, int durable)
{
	char name[NAME_MAX + 1], head[PATH_MAX * 2 + 64];
	size_t len, at;
	uint64_t random;
	char *text;
	int failures = 0;

	if (n == 0)
		return 0;
	/* By number, as the calls below that only a session makes: a
	 * function the library calls costs every process a binding at its
	 * start (docs/PERFORMANCE.md, section 8). */
	if (sys_raw(SYS_getrandom, (long)&random, sizeof(random), 0, 0) != sizeof(random))
		return -1;
	snprintf(name, sizeof(name), "%s%d.%016" PRIx64, prefix, (int)owner, random);
	/* 1. The temps' names, durable before anything names them. */
	for (size_t i = 0; i < n; i++)
		if (durable && first_in_dir(files, i) == i && sys_fsync(files[i].dfd) < 0)
			return -1;
	/* 2. The secondaries. */
	at = put_text(head, sizeof(head), 0, "atomically-journal 1 secondary ");
	at = put_hex(head, sizeof(head), at, files[0].dir);
	at = put_text(head, sizeof(head), at, "\nend\n");
	if (at >= sizeof(head)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (size_t i = 1; i < n; i++)
		if (first_in_dir(files, i) == i &&
		    put_journal(owner, files[i].dfd, name, head, at, durable) < 0)
			goto undo;
	/* 3. The primary: the commit point. */
	len = primary_text(NULL, 0, files, n);
	if (!(text = sys_map(len + 1)))
		goto undo;
	primary_text(text, len + 1, files, n);
	if (put_journal(owner, files[0].dfd, name, text, len, durable) < 0) {
		int err = errno;
		sys_unmap(text, len + 1);
		errno = err;
		goto undo;
	}
	sys_unmap(text, len + 1);
	/* 4. The renames (and removals). */
	for (size_t i = 0; i < n; i++) {
		if (!files[i].temp) {
			if (sys_unlinkat(files[i].dfd, files[i].name, 0) < 0 && errno != ENOENT) {
				log_error("%s/%s: cannot remove it (%s); the session's commit stays "
					  "recorded in %s/%s", files[i].dir, files[i].name,
					  strerror(errno), files[0].dir, name);
				failures++;
			}
			continue;
		}
		if (sys_renameat2(files[i].dfd, files[i].temp, files[i].dfd, files[i].name, 0) < 0) {
			log_error("%s/%s: cannot rename its temp %s into place (%s); the session's "
				  "commit stays recorded in %s/%s", files[i].dir, files[i].name,
				  files[i].temp, strerror(errno), files[0].dir, name);
			failures++;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (durable && first_in_dir(files, i) == i && sys_fsync(files[i].dfd) < 0)
			failures++;
	if (failures)
		return 1;
	/* 5. Done: the journals go, the primary last. */
	remove_journals(files, n, name);
	return 0;
undo:
	{
		int err = errno;
		remove_journals(files, n, name);
		errno = err;
	}
	return -1;
}

/* ---- settling what a dead committer left ---- */

/* The journal NAME in DFD, read whole into memory of its own (*SIZE:
 * its mapping's size), when it is a regular file of ours with one name;
 * else NULL. */
static char *read_journal(int dfd, const char *name, size_t *size)
{
	int fd = sys_openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
	struct stat st;
	char *text = NULL;

	if (fd < 0)
		return NULL;
	if (sys_fstat(fd, &st) == 0 && trust_own_file(&st, sys_geteuid()) &&
	    st.st_size > 0 && st.st_size < JOURNAL_MAX &&
	    (text = sys_map((size_t)st.st_size + 1))) {
		*size = (size_t)st.st_size + 1;
		if (sys_pread(fd, text, (size_t)st.st_size, 0) != st.st_size) {
			sys_unmap(text, *size);
			text = NULL;
		}
	}
	sys_close(fd);
	return text;
}

/* Is TEXT whole: its last line "end"? */
static int complete(const char *text)
{
	size_t len = strlen(text);

	return len >= 4 && strcmp(text + len - 4, "end\n") == 0;
}

/* One "f DIR TEMP NAME" of a primary, done again: the temp renamed over
 * its target if it is still there (the renames before the crash took
 * theirs away). */
static void redo_rename(const char **p)
{
	char dir[PATH_MAX], temp[NAME_MAX + 1], name[NAME_MAX + 1];
	struct stat st;
	int dfd;

	if (get_hex(p, dir, sizeof(dir)) < 0 || *(*p)++ != ' ' ||
	    get_hex(p, temp, sizeof(temp)) < 0 || *(*p)++ != ' ' ||
	    get_hex(p, name, sizeof(name)) < 0 || temp_owner(temp, name) < 0)
		return;
	dfd = sys_openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dfd < 0)
		return;
	if (sys_fstatat(dfd, temp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    trust_own_file(&st, sys_geteuid())) {
		if (sys_renameat2(dfd, temp, dfd, name, 0) == 0)
			log_info("%s/%s: committed (a session's commit, completed)", dir, name);
		else
			log_warn("%s/%s: cannot complete a session's commit: %s", dir, name,
				 strerror(errno));
	}
	sys_fsync(dfd);
	sys_close(dfd);
}

/* One "u DIR NAME" of a primary, done again: the file the program
 * deleted removed, if it is there (and a file of ours). */
static void redo_unlink(const char **p)
{
	char dir[PATH_MAX], name[NAME_MAX + 1];
	struct stat st;
	int dfd;

	if (get_hex(p, dir, sizeof(dir)) < 0 || *(*p)++ != ' ' ||
	    get_hex(p, name, sizeof(name)) < 0 || strchr(name, '/'))
		return;
	dfd = sys_openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dfd < 0)
		return;
	if (sys_fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_uid == sys_geteuid() || st.st_uid == 0) && sys_unlinkat(dfd, name, 0) == 0)
		log_info("%s/%s: removed (a session's commit, completed)", dir, name);
	sys_fsync(dfd);
	sys_close(dfd);
}

/* Remove the journal NAME from the directory DIR (an absolute path). */
static void remove_at(const char *dir, const char *name)
{
	int dfd = sys_openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

	if (dfd >= 0) {
		sys_unlinkat(dfd, name, 0);
		sys_close(dfd);
	}
}

/* The primary TEXT (NAME in DFD): every rename done, then the journals
 * removed, the primary last. */
static void complete_primary(int dfd, const char *name, const char *text)
{
	const char *p = strchr(text, '\n');
	char dir[PATH_MAX];

	for (; p && *++p; p = strchr(p, '\n')) {
		if (p[0] == 'f' && p[1] == ' ') {
			p += 2;
			redo_rename(&p);
		} else if (p[0] == 'u' && p[1] == ' ') {
			p += 2;
			redo_unlink(&p);
		}
	}
	for (p = strchr(text, '\n'); p && *++p; p = strchr(p, '\n')) {
		if (p[0] == 's' && p[1] == ' ') {
			p += 2;
			if (get_hex(&p, dir, sizeof(dir)) == 0)
				remove_at(dir, name);
		}
	}
	sys_fsync(dfd);
	sys_unlinkat(dfd, name, 0);
}

/* A primary journal found whole: its directory and its text. */
struct primary {
	int dfd;              /* the caller's, or opened here (OWN) */
	int own;
	char *text;
	size_t size;
};

static void primary_release(struct primary *p)
{
	if (p->text)
		sys_unmap(p->text, p->size);
	if (p->own)
		sys_close(p->dfd);
}

/* Did the journal NAME in DFD reach the commit point?  1: yes, and *P is
 * the primary it stands for (itself, or the one a secondary names), to
 * be completed; 0: no, and *ORPHAN says whether NAME is a secondary whose
 * primary never came (to be removed; its temps go as any dead writer's);
 * -1: NAME cannot be read as a journal of ours.  *P is released by the
 * caller either way. */
static int commit_point(int dfd, const char *name, struct primary *p, int *orphan)
{
	static const char primary_head[] = "atomically-journal 1 primary\n";
	static const char secondary_head[] = "atomically-journal 1 secondary ";
	char dir[PATH_MAX];
	const char *at;
	size_t size = 0;
	char *text = read_journal(dfd, name, &size);
	int r = 0;

	*p = (struct primary){ dfd, 0, NULL, 0 };
	*orphan = 0;
	if (!text)
		return -1;
	if (!complete(text)) {
		/* Never written whole: its rename came after the sync. */
	} else if (strncmp(text, primary_head, sizeof(primary_head) - 1) == 0) {
		*p = (struct primary){ dfd, 0, text, size };
		return 1;
	} else if (strncmp(text, secondary_head, sizeof(secondary_head) - 1) == 0) {
		at = text + sizeof(secondary_head) - 1;
		p->dfd = get_hex(&at, dir, sizeof(dir)) == 0 ?
			sys_openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) : -1;
		p->own = p->dfd >= 0;
		if (p->own)
			p->text = read_journal(p->dfd, name, &p->size);
		r = p->text && complete(p->text) &&
		    strncmp(p->text, primary_head, sizeof(primary_head) - 1) == 0;
		*orphan = !r;
	}
	sys_unmap(text, size);
	return r;
}

/* The journal NAME in DFD, left by a dead committer. */
static void settle_one(int dfd, const char *name)
{
	struct primary p;
	int orphan;

	if (commit_point(dfd, name, &p, &orphan) > 0)
		complete_primary(p.dfd, name, p.text);
	else if (orphan)
		sys_unlinkat(dfd, name, 0);  /* no commit point: the temps go */
	primary_release(&p);
}

int journal_reached(int dfd, const char *name)
{
	struct primary p;
	int orphan, r = commit_point(dfd, name, &p, &orphan);

	primary_release(&p);
	return r;
}

int journal_settle(int dfd, int pid)
{
	_Alignas(8) char buf[4096];
	int dir = sys_openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), found = 0;
	long n;

	if (dir < 0)
		return -1;
	while ((n = sys_getdents64(dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			const struct sys_dirent *d = (const void *)(buf + off);
			int owner = journal_owner(d->name);

			off += d->reclen;
			if (owner < 0 || (pid ? owner != pid : !temp_owner_dead(owner)))
				continue;
			settle_one(dfd, d->name);
			found++;
		}
	}
	sys_close(dir);
	return n < 0 ? -1 : found;
}

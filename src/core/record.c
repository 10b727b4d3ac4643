/* record.c - a pending file's state and its serialized form.
 *
 * The text form is a line of KEY=VALUE fields separated by ',', the
 * version first:
 *
 *   v=1,r=RULE,d=SLOT,t=SLOT,l=SLOT,x=EXISTED,i=INPLACE,c=COPIED,
 *   e=ERROR,w=WRITTEN,u=UNLINKED,ts=STAT,cs=STAT,tm=MODE.UID.GID,
 *   n=NAME,m=TEMP,p=PATH
 *
 * RULE is an index into the ruleset both sides hold; SLOT an index into
 * the array of descriptors that travels beside the text ("-": none);
 * STAT is DEV.INO.MODE.NLINK.UID.GID.SIZE.MTIME.MTIME_NS.CTIME.CTIME_NS
 * (the target at the open, ts; the temp just after its copy, cs); the
 * three strings are in lowercase hex, as they may hold anything (TEMP is
 * empty while the temp is anonymous); every number is decimal.  Every
 * field must be there, once: a line of another version, or a forged one,
 * is refused whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hole.h"
#include "lock.h"
#include "log.h"
#include "metadata.h"
#include "mutex.h"
#include "record.h"
#include "rules.h"
#include "sys.h"
#include "textout.h"

void record_init(struct record *r)
{
	memset(r, 0, offsetof(struct record, name));
	r->name[0] = r->temp[0] = r->path[0] = '\0';
	r->dfd = -1;
	r->tfd = -1;
}

void record_written(struct record *r)
{
	if (!atomic_load_explicit(&r->written, memory_order_relaxed))
		atomic_store_explicit(&r->written, 1, memory_order_relaxed);
}

void record_view(const struct record *r, struct stat *st, int fresh)
{
	const struct stat *old = &r->target_st;

	if (st->st_nlink == 0 && !atomic_load(&r->unlinked))
		st->st_nlink = 1;
	if (!r->existed || fresh)
		return;
	st->st_dev = old->st_dev;
	st->st_ino = old->st_ino;
	/* The old file's owner, whom the program believes it writes for
	 * (the checks of hook_meta.c are made against it), even where the
	 * commit cannot give the file back to that owner. */
	if (st->st_uid == r->temp_uid && st->st_gid == r->temp_gid) {
		st->st_uid = old->st_uid;
		st->st_gid = old->st_gid;
	}
	if (st->st_mode == r->temp_mode)
		st->st_mode = (st->st_mode & ~(mode_t)07777) | (old->st_mode & 07777);
}

void record_fail(struct record *r, int err)
{
	int none = 0;

	atomic_compare_exchange_strong(&r->error, &none, err);
}

void record_mark_failed(int fd, int err)
{
	int saved = errno, n;
	char v[16];
	struct stat st;

	n = snprintf(v, sizeof(v), "%d", err);
	/* A full file system may have no room for the attribute: the
	 * sticky bit, meaningless on a file, needs none. */
	if (sys_fsetxattr(fd, RECORD_FAILED_XATTR, v, (size_t)n, 0) < 0 && sys_fstat(fd, &st) == 0)
		sys_fchmod(fd, (st.st_mode & 07777) | S_ISVTX);
	errno = saved;
}

int record_reopen_temp(const struct record *r, int flags)
{
	char proc[32];
	int fd;

	/* Through our own descriptor of it first: the temp's name, when it
	 * has one, changes during a commit (named, then renamed away), but
	 * the descriptor stays until the record is let go of. */
	if (r->tfd >= 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", r->tfd);
		fd = sys_openat(AT_FDCWD, proc, flags | O_NOCTTY, 0);
		if (fd >= 0 || !r->temp[0])
			return fd;
	}
	return sys_openat(r->dfd, r->temp, flags | O_NOFOLLOW | O_NOCTTY, 0);
}

int record_open_temp(const struct record *r, int flags)
{
	/* One that only appends reads nothing and writes past the hole. */
	if ((flags & (O_ACCMODE | O_APPEND | O_TRUNC)) != (O_WRONLY | O_APPEND) && record_fill(r) < 0)
		return -1;
	return record_reopen_temp(r, flags);
}

int record_has_hole(const struct record *r, const char *names, ssize_t listed)
{
	if (r->append_base <= 0 || r->inplace || r->tfd < 0)
		return 0;
	if (listed >= 0)
		return xattr_listed(names, listed, HOLE_XATTR);
	return hole_marked(r->tfd) == 1;
}

int record_fill(const struct record *r)
{
	int err;

	if (r->append_base <= 0 || r->inplace || r->tfd < 0 || hole_fill(r->tfd, r->dfd, r->name) == 0)
		return 0;
	/* The temp is not the file the program writes: no commit of it
	 * (the mark is in the temp, for whichever process holds the record). */
	err = errno;
	log_warn("%s: cannot copy its old content in before the appended bytes: %s",
		 r->path, strerror(err));
	record_mark_failed(r->tfd, err);
	errno = err;
	return -1;
}

void record_discard(struct record *r)
{
	if (!r->temp[0])
		return;
	sys_unlinkat(r->dfd, r->temp, 0);
	r->temp[0] = '\0';
	if (!r->temp_counted)
		lock_count_temps(r->lock, -1);
}

void record_release_nosig(struct record *r)
{
	int *const fds[2] = { &r->dfd, &r->tfd };
	int saved = errno;

	lock_release(r->lock, r->temp_counted, fds, 2);
	r->lock = NULL;
	errno = saved;
}

void record_release(struct record *r)
{
	sigset_t old;

	signals_block(&old);
	record_release_nosig(r);
	signals_restore(&old);
}

/* ---- encoding ---- */

static void put_key(struct textout *o, const char *key)
{
	if (o->len)
		textout_char(o, ',');
	textout_str(o, key);
	textout_char(o, '=');
}

static void put_field(struct textout *o, const char *key, int64_t v)
{
	put_key(o, key);
	textout_num(o, v);
}

static void put_hex(struct textout *o, const char *key, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	put_key(o, key);
	for (; *s; s++) {
		textout_char(o, hex[(unsigned char)*s >> 4]);
		textout_char(o, hex[(unsigned char)*s & 15]);
	}
}

void record_slots(const struct record *r, int fds[RECORD_SLOTS])
{
	fds[RECORD_SLOT_DIR] = r->dfd;
	fds[RECORD_SLOT_TEMP] = r->tfd;
	fds[RECORD_SLOT_LOCK] = lock_fd(r->lock);
}

/* The slot SLOT of FDS, as the text names it: its number, or "-" when it
 * holds no descriptor. */
static void put_slot(struct textout *o, const char *key, int slot, const int fds[RECORD_SLOTS])
{
	put_key(o, key);
	if (fds[slot] < 0)
		textout_char(o, '-');
	else
		textout_num(o, slot);
}

static void put_stat(struct textout *o, const char *key, const struct stat *st)
{
	const int64_t v[] = {
		(int64_t)st->st_dev, (int64_t)st->st_ino, st->st_mode, (int64_t)st->st_nlink,
		st->st_uid, st->st_gid, st->st_size, st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
	};

	put_key(o, key);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (i)
			textout_char(o, '.');
		textout_num(o, v[i]);
	}
}

size_t record_encode(const struct record *r, const struct ruleset *rs, char *buf, size_t size,
		     int fds[RECORD_SLOTS])
{
	struct textout o = { buf, size, 0 };

	record_slots(r, fds);
	put_field(&o, "v", 1);
	put_field(&o, "r", r->rule - rs->rules);
	put_slot(&o, "d", RECORD_SLOT_DIR, fds);
	put_slot(&o, "t", RECORD_SLOT_TEMP, fds);
	put_slot(&o, "l", RECORD_SLOT_LOCK, fds);
	put_field(&o, "x", r->existed);
	put_field(&o, "i", r->inplace);
	put_field(&o, "c", r->copied);
	put_field(&o, "e", atomic_load(&r->error));
	put_field(&o, "w", atomic_load(&r->written));
	put_field(&o, "u", atomic_load(&r->unlinked));
	put_stat(&o, "ts", &r->target_st);
	put_stat(&o, "cs", &r->copy_st);
	put_key(&o, "tm");
	textout_num(&o, r->temp_mode);
	textout_char(&o, '.');
	textout_num(&o, r->temp_uid);
	textout_char(&o, '.');
	textout_num(&o, r->temp_gid);
	put_field(&o, "ab", r->append_base);
	put_hex(&o, "n", r->name);
	put_hex(&o, "m", r->temp);
	put_hex(&o, "p", r->path);
	return textout_end(&o);
}

/* ---- decoding ---- */

/* A decimal number at *S ('-' first for a negative one) within [MIN,
 * MAX]: *S moves past it.  -1 when there is none, it overflows, or it is
 * out of range (an empty range, MAX < MIN, holds nothing). */
static int get_num(const char **s, int64_t min, int64_t max, int64_t *out)
{
	const char *p = *s;
	int neg = *p == '-';
	uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	int64_t n;

	p += neg;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (limit - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	n = neg ? (int64_t)(0 - v) : (int64_t)v;
	if (n < min || n > max)
		return -1;
	*out = n;
	*s = p;
	return 0;
}

/* The whole of one field's value is a number in [MIN, MAX]. */
static int get_field(const char *v, int64_t min, int64_t max, int64_t *out)
{
	return get_num(&v, min, max, out) < 0 || (*v && *v != ',') ? -1 : 0;
}

static int get_flag(const char *v, unsigned char *out)
{
	int64_t n;

	if (get_field(v, 0, 1, &n) < 0)
		return -1;
	*out = (unsigned char)n;
	return 0;
}

/* N numbers separated by '.', each in [MIN, MAX], into OUT. */
static int get_dotted(const char *v, int n, int64_t min, int64_t max, int64_t *out)
{
	for (int i = 0; i < n; i++) {
		if (i && *v++ != '.')
			return -1;
		if (get_num(&v, min, max, &out[i]) < 0)
			return -1;
	}
	return *v && *v != ',' ? -1 : 0;
}

static int get_stat(const char *v, struct stat *st)
{
	int64_t n[11];

	if (get_dotted(v, 11, INT64_MIN, INT64_MAX, n) < 0)
		return -1;
	st->st_dev = (dev_t)n[0];
	st->st_ino = (ino_t)n[1];
	st->st_mode = (mode_t)n[2];
	st->st_nlink = (nlink_t)n[3];
	st->st_uid = (uid_t)n[4];
	st->st_gid = (gid_t)n[5];
	st->st_size = (off_t)n[6];
	st->st_mtim.tv_sec = (time_t)n[7];
	st->st_mtim.tv_nsec = (long)n[8];
	st->st_ctim.tv_sec = (time_t)n[9];
	st->st_ctim.tv_nsec = (long)n[10];
	return 0;
}

static int unhex_digit(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A hex string into OUT (SIZE bytes, NUL included); no NUL inside. */
static int get_hex(const char *v, char *out, size_t size)
{
	size_t n = 0;

	for (; *v && *v != ','; v += 2) {
		int hi = unhex_digit(v[0]), lo = hi < 0 ? -1 : unhex_digit(v[1]);
		if (lo < 0 || n + 1 >= size || (hi | lo) == 0)
			return -1;
		out[n++] = (char)(hi << 4 | lo);
	}
	out[n] = '\0';
	return 0;
}

/* A slot ("-", or an index below NFDS) into the descriptor *FD. */
static int get_slot(const char *v, const int *fds, int nfds, int *fd)
{
	int64_t slot;

	if (v[0] == '-' && (!v[1] || v[1] == ',')) {
		*fd = -1;
		return 0;
	}
	if (get_field(v, 0, nfds - 1, &slot) < 0 || fds[slot] < 0)
		return -1;
	*fd = fds[slot];
	return 0;
}

static const char *const keys[] = {
	"v", "r", "d", "t", "l", "x", "i", "c", "e", "w", "u", "ts", "cs", "tm", "n", "m", "p", "ab",
};
enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };

/* Which key FIELD starts with ("KEY="), or -1; *V: its value. */
static int key_of(const char *field, const char **v)
{
	for (int k = 0; k < NKEYS; k++) {
		size_t n = strlen(keys[k]);
		if (strncmp(field, keys[k], n) == 0 && field[n] == '=') {
			*v = field + n + 1;
			return k;
		}
	}
	return -1;
}

/* Field K of value V into R. */
static int get_one(int k, const char *v, const struct ruleset *rs, const int *fds, int nfds,
		   struct record *r, int *lfd)
{
	int64_t n, tm[3];

	switch (k) {
	case 0: return get_field(v, 1, 1, &n);
	case 1:
		if (get_field(v, 0, (int64_t)rs->nrules - 1, &n) < 0)
			return -1;
		r->rule = &rs->rules[n];
		return 0;
	case 2: return get_slot(v, fds, nfds, &r->dfd);
	case 3: return get_slot(v, fds, nfds, &r->tfd);
	case 4: return get_slot(v, fds, nfds, lfd);
	case 5: return get_flag(v, &r->existed);
	case 6: return get_flag(v, &r->inplace);
	case 7: return get_flag(v, &r->copied);
	case 8:
		if (get_field(v, 0, INT32_MAX, &n) < 0)
			return -1;
		atomic_store(&r->error, (int)n);
		return 0;
	case 9:
		if (get_field(v, 0, 1, &n) < 0)
			return -1;
		atomic_store(&r->written, (int)n);
		return 0;
	case 10:
		if (get_field(v, 0, 1, &n) < 0)
			return -1;
		atomic_store(&r->unlinked, (int)n);
		return 0;
	case 11: return get_stat(v, &r->target_st);
	case 12: return get_stat(v, &r->copy_st);
	case 13:
		if (get_dotted(v, 3, 0, UINT32_MAX, tm) < 0)
			return -1;
		r->temp_mode = (mode_t)tm[0];
		r->temp_uid = (uid_t)tm[1];
		r->temp_gid = (gid_t)tm[2];
		return 0;
	case 14: return get_hex(v, r->name, sizeof(r->name));
	case 15: return get_hex(v, r->temp, sizeof(r->temp));
	case 16: return get_hex(v, r->path, sizeof(r->path));
	default:
		if (get_field(v, 0, INT64_MAX, &n) < 0)
			return -1;
		r->append_base = (off_t)n;
		return 0;
	}
}

/* Is S one file name, as a record's name and temp are: names in its
 * directory?  One with a '/', or "." or "..", reaches out of it: a
 * forged record's commit would rename its temp over, and its discard
 * unlink, a file elsewhere. */
static int file_name(const char *s)
{
	return s[0] && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int record_decode(const char *text, const struct ruleset *rs, const int *fds, int nfds,
		  struct record *r, int *lfd)
{
	unsigned seen = 0;
	const char *f, *v;
	int k;

	record_init(r);
	*lfd = -1;
	/* The version first: a line of another version is not read on. */
	if (strncmp(text, "v=1", 3) != 0 || (text[3] && text[3] != ','))
		goto bad;
	for (f = text;; f++) {
		if ((k = key_of(f, &v)) < 0 || (seen & 1u << k) ||
		    get_one(k, v, rs, fds, nfds, r, lfd) < 0)
			goto bad;
		seen |= 1u << k;
		if (!(f = strchr(v, ',')))
			break;
	}
	/* Every field, and a name: a record without one names nothing; a
	 * directory; a temp, unless the program writes the target in place;
	 * names that are names in that directory. */
	if (seen != (1u << NKEYS) - 1 || !file_name(r->name) || (r->temp[0] && !file_name(r->temp)) ||
	    r->dfd < 0 || (r->tfd < 0 && !r->inplace))
		goto bad;
	return 0;
bad:
	record_init(r);
	*lfd = -1;
	errno = EINVAL;
	return -1;
}

int record_adopt(struct record *r, int lfd)
{
	struct stat dir_st;

	sys_fd_adopt(r->dfd, &r->dfd);
	sys_fd_adopt(r->tfd, &r->tfd);
	if (lfd < 0)
		return 0;
	if (sys_fstat(r->dfd, &dir_st) == 0)
		r->lock = lock_adopt(lfd, &dir_st, r->name);
	if (!r->lock) {
		sys_close(lfd);
		return -1;
	}
	/* Another record took over the same lock first, on a descriptor of
	 * its own: this one is not needed.  (Across exec, two files of one
	 * target share one descriptor: the same number, kept.) */
	if (lock_fd(r->lock) != lfd)
		sys_close(lfd);
	/* The holder before counted its named temp with the lock; this one
	 * counts it anew (see lock_count_temps). */
	if (r->temp[0])
		lock_count_temps(r->lock, 1);
	return 0;
}

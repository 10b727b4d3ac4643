/* sessionlist.c - the session's view of a directory listing. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/session_wire.h"
#include "session.h"
#include "sessionlist.h"
#include "state.h"
#include "core/sys.h"

/* One name the session adds to a directory or hides from it. */
struct name {
	uint64_t ino;               /* added: its temp's inode */
	uint32_t at;                /* the name, in the view's strings */
	unsigned char added;        /* 1: shown; 0: hidden */
	atomic_uchar seen;          /* added, and listed by the disk in this pass */
};

/* A stream's view: its names, a hash table of them, and the entry
 * readdir returns for an added one.  One mapping of our own (sys_map),
 * never the program's allocator. */
struct view {
	size_t size;                /* of the mapping */
	uint32_t count;             /* names */
	uint32_t mask;              /* the table's slots, less one */
	atomic_uint next;           /* the next name to consider after the disk */
	struct name *names;
	uint32_t *slots;            /* a name's index plus one; 0: empty */
	char *strings;
	struct dirent out;
};

/* The streams that have a view, keyed by their DIR.  No lock: a thread
 * looks only at the key it owns (its own DIR), so a slot is claimed with
 * a compare-and-swap and published by its key, and fork finds no lock
 * held.  A stream that finds the table full lists the disk. */
#define VIEWS_MAX 256
#define RESERVED ((DIR *)1)
static _Atomic(DIR *) keys[VIEWS_MAX];
static _Atomic(struct view *) values[VIEWS_MAX];
static atomic_int high;         /* slots at and above it were never used */
atomic_int sessionlist_count;

static int slot_of(DIR *d)
{
	int n = atomic_load_explicit(&high, memory_order_acquire);

	for (int i = 0; i < n; i++)
		if (atomic_load_explicit(&keys[i], memory_order_acquire) == d)
			return i;
	return -1;
}

static struct view *view_of(DIR *d)
{
	int i = sessionlist_any() ? slot_of(d) : -1;

	return i < 0 ? NULL : atomic_load_explicit(&values[i], memory_order_relaxed);
}

static int insert(DIR *d, struct view *v)
{
	for (int i = 0; i < VIEWS_MAX; i++) {
		DIR *none = NULL;
		int h = atomic_load(&high);

		if (!atomic_compare_exchange_strong(&keys[i], &none, RESERVED))
			continue;
		atomic_store_explicit(&values[i], v, memory_order_relaxed);
		while (h < i + 1 && !atomic_compare_exchange_weak(&high, &h, i + 1))
			;
		atomic_fetch_add(&sessionlist_count, 1);
		atomic_store_explicit(&keys[i], d, memory_order_release);
		return 0;
	}
	return -1;
}

/* ---- a view made from the supervisor's replies ---- */

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;  /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The index of NAME in V, or -1. */
static long find(const struct view *v, const char *name)
{
	for (uint32_t h = hash(name) & v->mask; v->slots[h]; h = (h + 1) & v->mask) {
		uint32_t i = v->slots[h] - 1;

		if (strcmp(v->strings + v->names[i].at, name) == 0)
			return i;
	}
	return -1;
}

/* A name as the supervisor sends it ("+INO NAME" or "-NAME") into N
 * (its text copied to V's strings at *AT).  0, or -1 when it is none. */
static int parse(struct view *v, const char *s, struct name *n, uint32_t *at)
{
	const char *name = s + 1;
	size_t len;

	n->ino = 0;
	n->added = s[0] == '+';
	if (s[0] != '+' && s[0] != '-')
		return -1;
	if (n->added) {
		for (; *name >= '0' && *name <= '9'; name++)
			n->ino = n->ino * 10 + (uint64_t)(*name - '0');
		if (*name++ != ' ')
			return -1;
	}
	len = strlen(name);
	if (len == 0 || len > NAME_MAX || memchr(name, '/', len))
		return -1;
	memcpy(v->strings + *at, name, len + 1);
	n->at = *at;
	*at += (uint32_t)len + 1;
	return 0;
}

/* The memory of views: a view's mapping, once let go of, is kept for the
 * next one that fits (a fresh mapping costs a page fault a page, and a
 * listing of a session is a handful of them).  One kept, taken by one
 * thread at a time. */
static _Atomic(struct view *) kept;

static struct view *view_alloc(size_t size)
{
	struct view *v = atomic_exchange(&kept, NULL);

	if (v && v->size >= size) {
		size = v->size;
		memset(v, 0, size);
		v->size = size;
		return v;
	}
	if (v)
		sys_unmap(v, v->size);
	if ((v = sys_map(size)))
		v->size = size;
	return v;
}

static void view_free(struct view *v)
{
	if ((v = atomic_exchange(&kept, v)))
		sys_unmap(v, v->size);
}

/* The view of the COUNT names packed in RAW (LEN bytes, each ended by a
 * NUL), or NULL when none of them is one. */
static struct view *build(const char *raw, size_t len, uint32_t count)
{
	uint32_t slots = 8, at = 0;
	size_t size;
	struct view *v;

	while (slots < 2 * (size_t)count)
		slots *= 2;
	size = sizeof(*v) + count * sizeof(struct name) + slots * sizeof(uint32_t) + len;
	if (!(v = view_alloc(size)))
		return NULL;
	v->mask = slots - 1;
	v->names = (struct name *)(v + 1);
	v->slots = (uint32_t *)(v->names + count);
	v->strings = (char *)(v->slots + slots);
	for (const char *s = raw; s < raw + len; s += strlen(s) + 1) {
		struct name *n = &v->names[v->count];
		uint32_t h;

		if (parse(v, s, n, &at) < 0 || find(v, v->strings + n->at) >= 0)
			continue;
		for (h = hash(v->strings + n->at) & v->mask; v->slots[h]; h = (h + 1) & v->mask)
			;
		v->slots[h] = ++v->count;
	}
	if (v->count == 0) {
		view_free(v);
		return NULL;
	}
	return v;
}

/* The bytes REP's names take: each ended by a NUL inside the reply; 0
 * when they are not. */
static size_t reply_bytes(const struct session_list_reply *rep)
{
	size_t at = 0;

	for (uint32_t i = 0; i < rep->count; i++) {
		const char *end = memchr(rep->names + at, '\0', sizeof(rep->names) - at);

		if (!end)
			return 0;
		at = (size_t)(end - rep->names) + 1;
	}
	return at;
}

/* The growing buffer of the names of every reply. */
struct raw {
	char *buf;
	size_t len, cap;
	uint32_t count;
};

static int append(struct raw *r, const struct session_list_reply *rep, size_t bytes)
{
	if (r->len + bytes > r->cap) {
		size_t cap = r->cap * 2 > r->len + bytes ? r->cap * 2 : r->len + bytes;
		char *buf = sys_map(cap);

		if (!buf)
			return -1;
		if (r->buf) {
			memcpy(buf, r->buf, r->len);
			sys_unmap(r->buf, r->cap);
		}
		r->buf = buf;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, rep->names, bytes);
	r->len += bytes;
	r->count += rep->count;
	return 0;
}

/* Every name the session adds to or hides from the directory FD, into
 * R, asked reply by reply; a directory whose names fit in one reply (the
 * common case) leaves R empty and its names in REP.  0, or -1 (the disk
 * is listed). */
static int ask_all(int fd, struct raw *r, struct session_list_reply *rep)
{
	for (;;) {
		size_t bytes;

		if (session_list(fd, r->count, rep) != 0)
			return -1;
		bytes = reply_bytes(rep);
		if (rep->count && !bytes)
			return -1;
		if (!r->count && (!rep->more || !rep->count))
			return 0;
		if (rep->count && append(r, rep, bytes) < 0)
			return -1;
		/* An empty reply that says "more" would ask for ever. */
		if (!rep->more || !rep->count)
			return 0;
	}
}

/* The memory a reply is received into: 16 KiB, too much for the stack
 * of a thread of the program's, and a fresh mapping costs a page fault a
 * page (20 to 40 us each on a guest) at every opendir of a session.  So
 * one of the library's, reused, which the first user takes; a thread
 * that finds it taken (or a child forked while it was) maps its own. */
static struct session_list_reply shared_reply;
static atomic_flag shared_taken = ATOMIC_FLAG_INIT;

static struct session_list_reply *reply_take(void)
{
	if (!atomic_flag_test_and_set_explicit(&shared_taken, memory_order_acquire))
		return &shared_reply;
	return sys_map(sizeof(shared_reply));
}

static void reply_give(struct session_list_reply *rep)
{
	if (rep == &shared_reply)
		atomic_flag_clear_explicit(&shared_taken, memory_order_release);
	else
		sys_unmap(rep, sizeof(*rep));
}

/* The view of the directory FD, or NULL when the session shows it as on
 * disk (or cannot be asked). */
static struct view *view_make(int fd)
{
	struct session_list_reply *rep = reply_take();
	struct raw r = { NULL, 0, 0, 0 };
	struct view *v = NULL;

	if (!rep)
		return NULL;
	if (ask_all(fd, &r, rep) == 0) {
		if (r.count)
			v = build(r.buf, r.len, r.count);
		else if (rep->count)
			v = build(rep->names, reply_bytes(rep), rep->count);
	}
	if (r.buf)
		sys_unmap(r.buf, r.cap);
	reply_give(rep);
	return v;
}

/* ---- the streams ---- */

int sessionlist_wanted(void)
{
	const char *value;

	if (!lib.session_files || !lib_should_act())
		return 0;
	/* Named, and not "none": asking would say "no session" otherwise,
	 * in a process that only lists. */
	value = sys_getenv(SESSION_ENV);
	return value && strcmp(value, SESSION_NONE) != 0;
}

void sessionlist_opened(DIR *d)
{
	static atomic_int said;
	int saved = errno, fd;
	struct view *v;

	if (!sessionlist_wanted() || (fd = dirfd(d)) < 0)
		return;
	/* A view left at this address by a stream closed where no hook saw
	 * it is not this one's. */
	sessionlist_closing(d);
	if ((v = view_make(fd)) && insert(d, v) < 0) {
		if (!atomic_exchange(&said, 1))
			log_warn("%d directories listed at once: the later ones are listed as on disk, "
				 "without the session's files", VIEWS_MAX);
		view_free(v);
	}
	errno = saved;
}

void sessionlist_closing(DIR *d)
{
	int i = sessionlist_any() ? slot_of(d) : -1;
	struct view *v;

	if (i < 0)
		return;
	v = atomic_load_explicit(&values[i], memory_order_relaxed);
	atomic_fetch_sub(&sessionlist_count, 1);
	atomic_store_explicit(&keys[i], NULL, memory_order_release);
	view_free(v);
}

void sessionlist_rewound(DIR *d)
{
	struct view *v = view_of(d);

	if (!v)
		return;
	for (uint32_t i = 0; i < v->count; i++)
		atomic_store_explicit(&v->names[i].seen, 0, memory_order_relaxed);
	atomic_store(&v->next, 0);
}

/* A name the disk lists: shown (1), or hidden (0).  An added one is
 * noted, not to be added again. */
static int shown(struct view *v, const char *name)
{
	long i = find(v, name);

	if (i < 0)
		return 1;
	if (!v->names[i].added)
		return 0;
	atomic_store_explicit(&v->names[i].seen, 1, memory_order_relaxed);
	return 1;
}

/* After the disk's last entry: the next added name it did not list, or
 * NULL.  Threads reading one stream at once each take another name. */
static struct dirent *added_next(struct view *v)
{
	unsigned i = atomic_load(&v->next);

	for (;;) {
		const struct name *n;
		size_t len;

		if (i >= v->count)
			return NULL;
		if (!atomic_compare_exchange_weak(&v->next, &i, i + 1))
			continue;
		n = &v->names[i++];
		if (!n->added || atomic_load_explicit(&n->seen, memory_order_relaxed))
			continue;
		/* Every name fits: d_name holds NAME_MAX bytes, and no name
		 * the session keeps is longer. */
		len = strlen(v->strings + n->at);
		memset(&v->out, 0, offsetof(struct dirent, d_name));
		v->out.d_ino = n->ino;
		v->out.d_type = DT_REG;
		v->out.d_reclen = (unsigned short)((offsetof(struct dirent, d_name) + len + 8) & ~(size_t)7);
		memcpy(v->out.d_name, v->strings + n->at, len + 1);
		return &v->out;
	}
}

struct dirent *sessionlist_read(DIR *d, struct dirent *(*next)(DIR *))
{
	struct view *v = view_of(d);
	struct dirent *e;
	int saved = errno;

	if (!v)
		return next(d);
	do {
		errno = 0;
		e = next(d);
	} while (e && !shown(v, e->d_name));
	/* The disk's error is the program's, as readdir gives it. */
	if (!e && errno)
		return NULL;
	errno = saved;
	return e ? e : added_next(v);
}

int sessionlist_read_r(DIR *d, struct dirent *entry, struct dirent **result,
		       int (*next)(DIR *, struct dirent *, struct dirent **))
{
	struct view *v = view_of(d);
	struct dirent *added;
	int r;

	if (!v)
		return next(d, entry, result);
	while ((r = next(d, entry, result)) == 0 && *result && !shown(v, entry->d_name))
		;
	if (r != 0 || *result)
		return r;
	if ((added = added_next(v))) {
		memcpy(entry, added, sizeof(*entry));
		*result = entry;
	}
	return 0;
}

/* ---- scandir ---- */

static void free_list(struct dirent **list, size_t n)
{
	while (n)
		free(list[--n]);
	free(list);
}

/* A copy of E in memory of malloc's (the program frees it), or NULL. */
static struct dirent *copy_entry(const struct dirent *e)
{
	size_t size = offsetof(struct dirent, d_name) + strlen(e->d_name) + 1;
	struct dirent *c = malloc(size);

	if (c)
		memcpy(c, e, size);
	return c;
}

/* One more entry C into *LIST (N used, *CAP allocated).  0, or -1. */
static int push(struct dirent ***list, size_t n, size_t *cap, struct dirent *c)
{
	if (n >= INT_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	if (n == *cap) {
		size_t more = *cap ? *cap * 2 : 16;
		struct dirent **grown = realloc(*list, more * sizeof(**list));

		if (!grown)
			return -1;
		*list = grown;
		*cap = more;
	}
	(*list)[n] = c;
	return 0;
}

int sessionlist_scandir(DIR *d, struct dirent ***list, int (*filter)(const struct dirent *),
			int (*cmp)(const struct dirent **, const struct dirent **),
			struct dirent *(*next)(DIR *))
{
	struct dirent **v = NULL, *e, *c;
	size_t n = 0, cap = 0;
	int saved = errno, err;

	for (;;) {
		errno = 0;
		if (!(e = next(d)))
			break;
		if (filter) {
			int selected = filter(e);

			/* The filter may leave errno set, and selected. */
			errno = 0;
			if (!selected)
				continue;
		}
		if (!(c = copy_entry(e)) || push(&v, n, &cap, c) < 0) {
			free(c);
			break;
		}
		n++;
	}
	if (errno) {
		err = errno;
		free_list(v, n);
		errno = err;
		return -1;
	}
	if (cmp && n > 1)
		qsort(v, n, sizeof(*v), (int (*)(const void *, const void *))cmp);
	*list = v;
	errno = saved;
	return (int)n;
}

/* real.c - find the functions the library interposes, one at a time, the
 * first time each is called.
 *
 * dlsym(RTLD_NEXT) costs about 850 instructions a name (error catching,
 * a lock, the scope walk) and may free() a pending dlerror string, which
 * a hook entered from a signal handler must not do.  So the library looks
 * the names up itself, as dlsym would: in the objects after it in the
 * process's list of loaded objects (libc, or a preload after this one),
 * through their GNU hash tables, without a lock or an allocation.  Only
 * what that cannot decide goes to dlsym: a library loaded by dlopen or in
 * another namespace, an object without a GNU hash table, an IFUNC. */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "real.h"

extern ElfW(Dyn) _DYNAMIC[] __attribute__((visibility("hidden")));

/* The dynamic symbol table of one loaded object. */
struct symtab {
	const ElfW(Sym) *sym;
	const char *str;
	const ElfW(Half) *versym;  /* NULL: the object has no versions */
	const uint32_t *gnu_hash;
};

/* glibc relocates the addresses of a dynamic section in place at load,
 * except in a read-only one (the vDSO's), where they stay offsets. */
static const void *dyn_addr(const struct link_map *l, ElfW(Addr) v)
{
	return (const void *)(v < l->l_addr ? l->l_addr + v : v);
}

static int symtab_of(const struct link_map *l, struct symtab *t)
{
	*t = (struct symtab){ 0 };
	for (const ElfW(Dyn) *d = l->l_ld; d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_SYMTAB: t->sym = dyn_addr(l, d->d_un.d_ptr); break;
		case DT_STRTAB: t->str = dyn_addr(l, d->d_un.d_ptr); break;
		case DT_VERSYM: t->versym = dyn_addr(l, d->d_un.d_ptr); break;
		case DT_GNU_HASH: t->gnu_hash = dyn_addr(l, d->d_un.d_ptr); break;
		}
	}
	return t->sym && t->str && t->gnu_hash ? 0 : -1;
}

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static int same_name(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* A definition a lookup may return: not an undefined reference, not a
 * thread-local variable. */
static int defines(const ElfW(Sym) *s)
{
	return s->st_shndx != SHN_UNDEF && s->st_value != 0 &&
	       ELF64_ST_TYPE(s->st_info) != STT_TLS;
}

/* NAME (of GNU hash H) in T, chosen as dlsym chooses among the versions of
 * a name: an unversioned definition, else the only version that is not
 * hidden (the default one: open@@GLIBC_2.2.5, not a compatibility
 * symbol). */
static const ElfW(Sym) *lookup(const struct symtab *t, const char *name, uint32_t h)
{
	const uint32_t *g = t->gnu_hash;
	uint32_t nbuckets = g[0], symoffset = g[1], nbloom = g[2], shift = g[3];
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)(g + 4);
	const uint32_t *buckets = (const uint32_t *)(bloom + nbloom);
	const uint32_t *chain = buckets + nbuckets;  /* of symbol symoffset on */
	const unsigned bits = sizeof(ElfW(Addr)) * 8;
	ElfW(Addr) mask = (ElfW(Addr))1 << (h % bits) | (ElfW(Addr))1 << ((h >> shift) % bits);
	const ElfW(Sym) *versioned = NULL;
	int nversioned = 0;
	uint32_t i;

	if (nbuckets == 0 || (bloom[(h / bits) & (nbloom - 1)] & mask) != mask)
		return NULL;
	i = buckets[h % nbuckets];
	if (i < symoffset)
		return NULL;
	for (;; i++) {
		uint32_t hi = chain[i - symoffset];
		const ElfW(Sym) *s = &t->sym[i];

		if ((hi | 1) == (h | 1) && defines(s) && same_name(t->str + s->st_name, name)) {
			ElfW(Half) v = t->versym ? t->versym[i] : 1;

			if ((v & 0x7fff) < 2)
				return s;
			if (!(v & 0x8000) && nversioned++ == 0)
				versioned = s;
		}
		if (hi & 1)
			break;
	}
	return nversioned == 1 ? versioned : NULL;
}

/* NAME in the objects after this library, or NULL for dlsym to decide.
 * The list starts at the dynamic linker's r_debug: glibc's _r_debug, or
 * musl's under the same name (src/preload/musl.h), whose objects are
 * laid out alike (the link_map fields, addresses in the dynamic section
 * left as offsets: dyn_addr). */
static void *find_next(const char *name)
{
	const struct link_map *l = _r_debug.r_map;
	uint32_t h = gnu_hash(name);

	while (l && l->l_ld != _DYNAMIC)
		l = l->l_next;
	if (!l)
		return NULL;  /* not in the first namespace's list */
	for (l = l->l_next; l; l = l->l_next) {
		struct symtab t;
		const ElfW(Sym) *s;

		if (symtab_of(l, &t) < 0)
			return NULL;
		if ((s = lookup(&t, name, h)) == NULL)
			continue;
		if (ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC)
			return NULL;
		return (void *)(l->l_addr + s->st_value);
	}
	return NULL;
}

/* The functions a libc may lack although the kernel has their system
 * calls (musl 1.2.3 has none of these; glibc before 2.34 no close_range
 * nor closefrom): the hooks that syscall() reaches by number, and the
 * core's sys_renameat2, call them all the same, and get the system call.
 * real.syscall is libc's syscall(), which no hook of ours stands in. */
static int kernel_statx(int d, const char *p, int f, unsigned int m, struct statx *s)
{
	return (int)real.syscall(SYS_statx, d, p, f, m, s);
}

static int kernel_renameat2(int ad, const char *a, int bd, const char *b, unsigned int f)
{
	return (int)real.syscall(SYS_renameat2, ad, a, bd, b, f);
}

static int kernel_close_range(unsigned int first, unsigned int last, int flags)
{
	return (int)real.syscall(SYS_close_range, first, last, flags);
}

static void kernel_closefrom(int fd)
{
	real.syscall(SYS_close_range, fd, ~0U, 0);
}

static void *by_kernel(const char *name)
{
	static const struct {
		const char *name;
		void *f;
	} calls[] = {
		{ "statx", (void *)kernel_statx },
		{ "renameat2", (void *)kernel_renameat2 },
		{ "close_range", (void *)kernel_close_range },
		{ "closefrom", (void *)kernel_closefrom },
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (same_name(calls[i].name, name))
			return calls[i].f;
	return NULL;
}

static void *find(const char *name)
{
	void *f = find_next(name);

	if (!f)
		f = dlsym(RTLD_NEXT, name);
	if (!f)
		f = by_kernel(name);
	if (!f) {
		/* Only a call of the program can get here, so the function
		 * exists where the program was linked; not in this libc. */
		dprintf(2, "atomically: %s: no such function after the library\n", name);
		abort();
	}
	return f;
}

void *real_next(const char *name)
{
	return find(name);
}

void *real_first(const char *name)
{
	uint32_t h = gnu_hash(name);

	for (const struct link_map *l = _r_debug.r_map; l; l = l->l_next) {
		struct symtab t;
		const ElfW(Sym) *s;

		if (l->l_ld == _DYNAMIC)
			return find(name);  /* ours comes first: the next one */
		if (symtab_of(l, &t) < 0 || (s = lookup(&t, name, h)) == NULL)
			continue;
		if (ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC)
			return find(name);
		return (void *)(l->l_addr + s->st_value);
	}
	return find(name);
}

/* A stub finds the real function, puts it in its own place, and calls
 * it.  Threads (or a signal handler) racing here store the same value. */
#define STUB(field, symbol, ret, params, args)                                 \
	static ret stub_##field params                                         \
	{                                                                      \
		ret(*found) params = (ret(*) params)find(symbol);             \
		atomic_store_explicit(&real.field, found, memory_order_relaxed); \
		return found args;                                             \
	}
REAL_FUNCTIONS(STUB)
#undef STUB

/* The open family passes the mode only when the flags need one, as glibc
 * reads it; fcntl's third argument is an int or a pointer, passed on in
 * a register of either's size, as glibc does. */
#define NEEDS_MODE(flags) (((flags) & O_CREAT) || ((flags) & __O_TMPFILE) == __O_TMPFILE)
#define OPEN_STUB(field, symbol, params, args)                                 \
	static int stub_##field params                                         \
	{                                                                      \
		int (*f)params = (int (*)params)find(symbol);                 \
		mode_t mode = 0;                                               \
		va_list ap;                                                    \
		atomic_store_explicit(&real.field, f, memory_order_relaxed);   \
		if (NEEDS_MODE(flags)) {                                       \
			va_start(ap, flags);                                   \
			mode = (mode_t)va_arg(ap, int);                        \
			va_end(ap);                                            \
		}                                                              \
		return f args;                                                 \
	}
OPEN_STUB(open, "open", (const char *path, int flags, ...), (path, flags, mode))
OPEN_STUB(open64, "open64", (const char *path, int flags, ...), (path, flags, mode))
OPEN_STUB(openat, "openat", (int dirfd, const char *path, int flags, ...),
	  (dirfd, path, flags, mode))
OPEN_STUB(openat64, "openat64", (int dirfd, const char *path, int flags, ...),
	  (dirfd, path, flags, mode))

#define FCNTL_STUB(field, symbol)                                              \
	static int stub_##field(int fd, int cmd, ...)                          \
	{                                                                      \
		int (*f)(int, int, ...) = (int (*)(int, int, ...))find(symbol); \
		void *arg;                                                     \
		va_list ap;                                                    \
		atomic_store_explicit(&real.field, f, memory_order_relaxed);   \
		va_start(ap, cmd);                                             \
		arg = va_arg(ap, void *);                                      \
		va_end(ap);                                                    \
		return f(fd, cmd, arg);                                        \
	}
FCNTL_STUB(fcntl, "fcntl")
FCNTL_STUB(fcntl64, "fcntl64")

/* syscall() takes the number and up to six arguments, which it reads
 * from the registers whether they were passed or not: so do we. */
static long stub_syscall(long number, ...)
{
	long (*f)(long, ...) = (long (*)(long, ...))find("syscall");
	long a[6];
	va_list ap;

	atomic_store_explicit(&real.syscall, f, memory_order_relaxed);
	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return f(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

#define INIT(field, ...) .field = stub_##field,
struct real_functions real = {
	REAL_FUNCTIONS(INIT)
	REAL_VARIADIC(INIT)
};
#undef INIT

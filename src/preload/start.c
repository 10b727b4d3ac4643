/* start.c - the library's start in every process: whether to act here
 * at all, the rules it acts on, and what a previous image of this
 * process handed over across exec. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/covered.h"
#include "core/log.h"
#include "core/rules.h"
#include "core/tally.h"
#include "core/sys.h"
#include "env.h"
#include "handover.h"
#include "session.h"
#include "state.h"

/* Three quarters of the way to the descriptor limit (at most 1024):
 * high enough that programs do not pick these numbers, low enough that
 * the kernel's descriptor table does not grow large for them. */
static int fd_base(void)
{
	struct rlimit rl;
	rlim_t limit = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < limit)
		limit = rl.rlim_cur;
	return (int)(limit * 3 / 4);
}

#ifdef __GLIBC__
#define CONFIG_MODULE 1
#else
#define CONFIG_MODULE 0  /* musl: see no_config_module */
#endif

/* The encoded rules of the config this process finds itself, from
 * libatomically-conf.so beside this library, which links libconfuse.
 * Only a process started with a bare LD_PRELOAD gets here: the launcher
 * and `atomically --env` hand the rules down ready-made. */
static char *compile_config(char *err, size_t errsize)
{
	char path[PATH_MAX];
	Dl_info info;
	char *(*compile)(char *, size_t);
	char *text = NULL;
	void *h;
	const char *slash;

	if (!dladdr((void *)compile_config, &info) || !info.dli_fname ||
	    !(slash = strrchr(info.dli_fname, '/'))) {
		snprintf(err, errsize, "cannot find where libatomically.so is");
		return NULL;
	}
	snprintf(path, sizeof(path), "%.*s/libatomically-conf.so",
		 (int)(slash - info.dli_fname), info.dli_fname);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, errsize, "cannot load %s: %s", path, dlerror());
		return NULL;
	}
	compile = (char *(*)(char *, size_t))dlsym(h, "atomically_conf_compile");
	if (compile)
		text = compile(err, errsize);
	else
		snprintf(err, errsize, "%s has no atomically_conf_compile", path);
	dlclose(h);
	return text;
}

/* Room for the rules of a usual config (the embedded default's take 2.2
 * KB) in the library's data, next to the state every start writes: no
 * mmap, and no page of their own, in every process. */
static char rules_room[3072] __attribute__((aligned(16)));

/* Copy TEXT into memory of our own (a program may change its environment
 * strings) and decode it there: the text, then the rule array.  A line
 * too long for rules_room gets memory of its own: mmap, not malloc, as
 * this runs before the program's allocator may be ready. */
static int adopt_rules(const char *text)
{
	char *mem = rules_room;
	size_t len, n = 0, at, size;

	/* One pass copies what fits, measures the line and counts its
	 * rules (";R" starts each, as rules_count counts them): no libc
	 * calls, whose pages /bin/true would not otherwise touch. */
	for (len = 0; text[len]; len++) {
		if (len < sizeof(rules_room))
			rules_room[len] = text[len];
		n += text[len] == ';' && text[len + 1] == 'R';
	}
	at = (len + 1 + _Alignof(struct rule) - 1) / _Alignof(struct rule) * _Alignof(struct rule);
	size = at + n * sizeof(struct rule);
	if (size > sizeof(rules_room)) {
		mem = sys_map(size);
		if (!mem)
			return -1;
		memcpy(mem, text, len);
	}
	mem[len] = '\0';
	if (rules_decode(mem, &lib.rs, (struct rule *)(mem + at)) < 0) {
		if (mem != rules_room)
			sys_unmap(mem, size);
		return -1;
	}
	return 0;
}

static void print_errors(const char *err)
{
	/* One message per line of ERR, each with our prefix. */
	while (*err) {
		const char *nl = strchr(err, '\n');
		int len = nl ? (int)(nl - err) : (int)strlen(err);
		if (len > 0)
			log_error("%.*s", len, err);
		err += len + (nl ? 1 : 0);
	}
	log_error("the config is bad: this program runs without atomic writes");
}

/* strcmp(A, B) == 0, by hand: strcmp would be the start's only libc
 * string function, and a page of libc that /bin/true does not touch. */
static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* No config module beside the musl build of the library (libconfuse is
 * built for glibc): a musl program finds no config itself, and is
 * wrapped only with the rules the launcher hands down.  Said at each
 * start without them, and nothing exported: a glibc program below it
 * may still find the config. */
static void no_config_module(void)
{
	log_warn("%s is not set, and the library built for musl reads no config: "
		 "this program runs without atomic writes (run it under atomically, "
		 "or export what `atomically --env` prints)", RULES_ENV);
}

static void load_rules(void)
{
	const char *env = env_get(RULES_ENV);
	char err[4096] = "";
	char *text;

	if (env && same(env, RULES_INERT))
		return;  /* a bad config, reported once by whoever found it */
	if (env) {
		if (adopt_rules(env) < 0) {
			log_error("%s is malformed: this program runs without atomic writes", RULES_ENV);
			return;
		}
	} else if (!CONFIG_MODULE) {
		no_config_module();
		return;
	} else {
		text = compile_config(err, sizeof(err));
		if (!text) {
			print_errors(err);
			env_set(RULES_ENV, RULES_INERT);
			return;
		}
		/* Children find the rules ready-made, as under the launcher. */
		env_set(RULES_ENV, text);
		if (adopt_rules(text) < 0) {
			free(text);
			log_error("cannot load the compiled rules: this program runs without atomic writes");
			return;
		}
		free(text);
	}
	lib.actor.lock_dir = lib.rs.lock_dir;
	lib.actor.session_hold = session_hold;
	lib.actor.session_alive = session_alive;
	lib.actor.sparse_appends = 1;  /* the hooks fill an append's hole (hook_write.c) */
	lib.writes_only = 1;
	for (size_t i = 0; i < lib.rs.nrules; i++)
		if (lib.rs.rules[i].lock >= SCOPE_PROCESS)
			lib.writes_only = 0;
	for (size_t i = 0; i < lib.rs.nrules; i++)
		if (lib.rs.rules[i].commit == COMMIT_SESSION)
			lib.session_files = 1;
	log_setup(lib.rs.log_level, lib.rs.log_file);
	tally_setup(env_get(TALLY_ENV));
	atomic_store_explicit(&lib.active, 1, memory_order_release);
}

/* Who acts in this process: the first definition of this exported name
 * in the process's lookup order.  Two kinds of definer:
 *
 *   - a copy of the library (another path in LD_PRELOAD: a build tree's
 *     beside an installed one).  Two active copies would each take the
 *     lock of a file on a description of its own, and the inner one
 *     would wait for the outer: only the first copy acts.  Its value is
 *     the address of a static of that copy, a NUL byte;
 *   - a plain process that runs the core itself: the launcher (and with
 *     it the supervisor), into which a CI job that injected the library
 *     into every step (atomically --env) preloads it too.  There the
 *     library stays inert, so that the core's calls (core/sys_libc.c)
 *     reach the kernel, not its hooks: the core's own renames would
 *     otherwise wait for their locks through our rename hook.  Its value
 *     points to the words "plain process".
 *
 * One name for both, because the dynamic linker resolves it at every
 * load anyway: a second name would cost every wrapped program another
 * symbol lookup (some 1,200 instructions a start, measured). */
static const char this_copy;
__attribute__((visibility("default"))) const char *const atomically_library_copy = &this_copy;

/* The value of the first definition.  The name is exported, so this copy
 * reaches it through its GOT, where the dynamic linker put it at load:
 * what dlsym(RTLD_DEFAULT) would say, without a lookup at run time. */
static const char *first_definer(void)
{
	/* volatile: the compiler knows this copy's initializer and would
	 * otherwise fold the comparison away. */
	const char *const volatile *first = &atomically_library_copy;

	return *first;
}

__attribute__((constructor)) static void lib_init(void)
{
	const char *first = first_definer();

	lib_set_pid(getpid());
	lib.fd_base = fd_base();
	if (first != &this_copy && !*first)
		return;  /* another copy acts: every hook passes through to it */
	if (first != &this_copy) {
		/* A plain process.  Said at debug level only: a test's proof
		 * that the library was loaded here and chose to stay out. */
		lib_guard++;
		log_setup(LEVEL_WARN, "");
		log_debug("inert in pid %d (%s): it runs the core itself", (int)lib.pid,
			  program_invocation_short_name);
		lib_guard--;
		return;
	}
	/* Secure-execution mode (a set-user-ID or set-group-ID program, or
	 * one that gains capabilities): its environment is its caller's,
	 * who may be another user.  The library takes nothing from it, not
	 * even where to log, and stays out: the program runs unwrapped. */
	if (getauxval(AT_SECURE))
		return;
	/* The seccomp supervisor covers this process (a Go program built
	 * with cgo): it sees every call, and acts for it alone. */
	if (covered_is_self(env_get(COVERED_ENV))) {
		lib_guard++;
		log_setup(LEVEL_WARN, "");
		log_debug("inert in pid %d (%s): the supervisor covers it", (int)lib.pid,
			  program_invocation_short_name);
		lib_guard--;
		return;
	}
	lib_guard++;
	log_setup(LEVEL_WARN, "");
	load_rules();
	lib_guard--;
	if (!atomic_load(&lib.active))
		return;
	log_debug("active in pid %d (%s), %zu rules", (int)lib.pid,
		  program_invocation_short_name, lib.rs.nrules);
	lib_register_quick_exit();
	lib_guard++;
	handover_adopt();
	lib_guard--;
}

/* rules.h - the compiled rules: what the config says, in the form the
 * library uses at run time.
 *
 * The launcher (or the config module the library loads when started with
 * a bare LD_PRELOAD) parses the config once into a struct ruleset, encodes
 * it as one line of text, and hands that line to every process it starts
 * in the environment variable ATOMICALLY_RULES.  A process start then only
 * decodes that line: it neither links nor runs the config parser.
 */
#ifndef ATOMICALLY_RULES_H
#define ATOMICALLY_RULES_H

#include <stddef.h>

#define RULES_ENV "ATOMICALLY_RULES"
/* The value that tells a process tree the config was bad and reported
 * already: every process stays inert and silent. */
#define RULES_INERT "inert"

enum durability { DUR_FULL, DUR_FILE, DUR_DATA, DUR_NONE };
enum lock_scope { SCOPE_NONE, SCOPE_WRITE, SCOPE_PROCESS, SCOPE_SESSION };
enum commit_mode { COMMIT_CLOSE, COMMIT_EXIT, COMMIT_SESSION };
enum append_mode { APPEND_ATOMIC, APPEND_PASSTHROUGH };
enum hardlinks_mode { HARDLINKS_BREAK, HARDLINKS_INPLACE, HARDLINKS_FAIL };
enum fallback_mode { FALLBACK_INPLACE, FALLBACK_FAIL };
/* What a program's own fsync of a pending file does (DESIGN.md). */
enum fsync_mode { FSYNC_COMMIT, FSYNC_TEMP };
enum log_level { LEVEL_ERROR, LEVEL_WARN, LEVEL_INFO, LEVEL_DEBUG };

struct rule {
	/* An absolute pattern (it starts with a slash), or, when basename is
	 * set, a pattern for the file name alone ("*.yaml").  Patterns
	 * relative to a config file's directory and "~/" patterns are made
	 * absolute when the config is loaded. */
	const char *pattern;
	const char *backup;      /* "" = no backup */
	int lock_timeout;        /* seconds; 0 = try once; -1 = forever */
	unsigned char basename;  /* pattern has no '/' */
	unsigned char enabled;
	unsigned char durability;
	unsigned char lock;
	unsigned char commit;
	unsigned char append;
	unsigned char hardlinks;
	unsigned char fallback;
	unsigned char skip_unchanged;
	unsigned char on_fsync;    /* what the program's fsync does */
	/* Where the rule came from, for --explain; not encoded. */
	const char *source_file; /* NULL for -p and the embedded default */
	int source_line;
};

struct ruleset {
	int log_level;
	const char *log_file;    /* "" = stderr, "syslog", or a path */
	const char *lock_dir;    /* "" = per-user runtime dir, "sidecar", or a dir */
	int failure_exit_code;
	size_t nrules;
	struct rule *rules;
};

/* The defaults of SPEC section 2. */
void rule_set_defaults(struct rule *r);
void ruleset_set_defaults(struct ruleset *rs);

/* Encode RS into BUF as one NUL-terminated line of characters that need
 * no quoting inside single quotes and no escaping in a $GITHUB_ENV file.
 * Returns the length the line needs (without the NUL); the line was
 * written only if that is less than SIZE. */
size_t rules_encode(const struct ruleset *rs, char *buf, size_t size);

/* How many rules the encoded line TEXT holds: size a rule array with it. */
size_t rules_count(const char *text);

/* Decode TEXT in place (it is modified: fields are unescaped and
 * NUL-terminated where they lie) into RS, whose rules point into TEXT and
 * into RULES, an array of at least rules_count(TEXT) entries.  Returns 0,
 * or -1 when TEXT is malformed.  Allocates nothing. */
int rules_decode(char *text, struct ruleset *rs, struct rule *rules);

/* Names of the enumerated values, for the config parser and --explain. */
const char *durability_name(int v);
const char *lock_scope_name(int v);
const char *commit_mode_name(int v);
const char *append_mode_name(int v);
const char *hardlinks_mode_name(int v);
const char *fallback_mode_name(int v);
const char *fsync_mode_name(int v);
const char *log_level_name(int v);
/* The value named NAME among the names of NAMEF, or -1. */
int enum_value(const char *(*namef)(int), const char *name);

#endif

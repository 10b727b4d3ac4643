/* config.h - the config file (libconfuse) to compiled rules.
 *
 * Linked into the launcher and into libatomically-conf.so, which the
 * library loads only when it was started without ATOMICALLY_RULES (a bare
 * LD_PRELOAD).  Never linked into libatomically.so itself.
 */
#ifndef ATOMICALLY_CONFIG_H
#define ATOMICALLY_CONFIG_H

#include <stddef.h>
#include "core/rules.h"

/* A loaded config.  Owns every string its rules point to. */
struct config {
	struct ruleset rs;
	char *path;        /* the file it came from; NULL for the embedded default */
	void *storage;     /* private */
};

/* Where a config was found. */
enum config_origin {
	ORIGIN_OPTION,     /* -c FILE */
	ORIGIN_ENV,        /* ATOMICALLY_CONF */
	ORIGIN_XDG,        /* $XDG_CONFIG_HOME/atomically/atomically.conf */
	ORIGIN_ETC,        /* /etc/atomically.conf */
	ORIGIN_NONE,       /* nothing found: -p rules only, or the embedded default */
};

/* Find the config per SPEC section 2: EXPLICIT (-c, may be NULL), then
 * $ATOMICALLY_CONF (when not empty), then XDG ($XDG_CONFIG_HOME, when
 * absolute, else ~/.config), then /etc.  Writes the path into BUF (give
 * it PATH_MAX bytes) and returns the origin; ORIGIN_NONE, with BUF empty,
 * when no file exists.  An explicit path (-c, ATOMICALLY_CONF) is returned
 * whether or not it exists (config_load then reports it), and is left
 * empty when it does not fit in BUF.  A discovered file (XDG, /etc) that
 * another non-root user can write is skipped with a warning on stderr
 * ("atomically: ignoring FILE: why"); an explicit one is returned and
 * refused by config_load. */
enum config_origin config_find(const char *explicit, char *buf, size_t size);

/* Load a config into CFG:
 *
 *   PATH != NULL              the rules of the file PATH, then the -p ones;
 *   PATH == NULL, NEXTRA > 0  the -p rules alone (no file was found:
 *                             "atomically -p state.yaml tool" matches
 *                             state.yaml and nothing else);
 *   PATH == NULL, NEXTRA == 0 the embedded default (conf/atomically.conf).
 *
 * Each of the NEXTRA patterns of EXTRA (-p) becomes one rule with default
 * settings, after those of the file, so that it wins; a relative one is
 * taken relative to the current directory.  A file that another non-root
 * user can write is refused.
 *
 * Returns 0 on success.  On error returns -1, leaves CFG empty (calling
 * config_free on it is harmless), and writes into ERR (always
 * NUL-terminated, truncated to ERRSIZE) one message per error, separated
 * by '\n' with no newline after the last: "FILE:LINE: what is wrong",
 * "FILE: what is wrong" for what has no line (cannot read, refused),
 * "-p PATTERN: what is wrong" for a -p pattern.  libconfuse stops at the
 * first syntax error or bad value; bad patterns are all reported.
 *
 * Patterns (SPEC section 2) must be quoted in a file.  One without '/'
 * is a basename rule, kept as written; "/..." is normalised lexically;
 * "~/..." is $HOME/...; any other is made absolute against the directory
 * of the file that holds it (the current directory for -p and the
 * embedded default), with the glob characters of that directory (and of
 * $HOME) escaped.  log_file and lock_dir other than "", "syslog" and
 * "sidecar" are made absolute the same way, without escaping.
 *
 * Rules of a file have source_file = CFG->path and source_line = the line
 * of their "path" keyword; -p rules and those of the embedded default
 * have NULL and 0 (messages about the embedded default call it
 * "(embedded default)").  Not thread-safe: libconfuse's parser is not. */
int config_load(struct config *cfg, const char *path,
		const char *const *extra, size_t nextra,
		char *err, size_t errsize);

/* Free what config_load allocated. */
void config_free(struct config *cfg);

/* For the library: discover and load the config the way the launcher
 * does without options, and return it encoded (see rules_encode) in a
 * string the caller frees with free().  Returns NULL with messages in ERR
 * when the config is bad.  Exported from libatomically-conf.so under this
 * name; the library calls it through dlsym. */
char *atomically_conf_compile(char *err, size_t errsize);

/* The text of conf/atomically.conf, compiled in. */
extern const char config_default_text[];

#endif

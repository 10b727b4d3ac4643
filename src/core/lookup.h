/* lookup.h - which rule decides for a path, as a program names it. */
#ifndef ATOMICALLY_LOOKUP_H
#define ATOMICALLY_LOOKUP_H

#include <stddef.h>

struct rule;
struct ruleset;

/* The rule of RS that decides for PATH, relative to DIRFD (AT_FDCWD: the
 * calling process's cwd; a supervisor passes a descriptor of another
 * process's cwd or dirfd): the last rule that matches, which may exclude
 * it (enabled = false: the caller checks); NULL when none does, or when
 * PATH names a directory (it ends in '/', "." or "..").  Basename rules are tried on the name
 * first; the normalised absolute path is made into ABS (SIZE bytes) only
 * when a rule needs it, and ABS is "" otherwise.  When a rule needs it
 * and it cannot be had (longer than the kernel hands out, a cwd removed),
 * NULL with errno set; a NULL of no rule leaves errno alone.  Allocates
 * nothing. */
const struct rule *rule_for(const struct ruleset *rs, int dirfd, const char *path,
			    char *abs, size_t size);

#endif

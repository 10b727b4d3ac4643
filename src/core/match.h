/* match.h - glob patterns and lexical path normalisation (SPEC section 2).
 *
 * Pure string functions: no system calls, no allocation, safe to call from
 * any hook.  Shared by the library and the launcher's --explain.
 */
#ifndef ATOMICALLY_MATCH_H
#define ATOMICALLY_MATCH_H

#include <stdbool.h>
#include <stddef.h>

struct ruleset;
struct rule;

/* Does PATTERN match the whole of S?
 *   '*'    any run of characters other than '/'
 *   '?'    one character other than '/'
 *   '**'   any run of characters, '/' included; three or more '*' in a
 *          row count as two.  Writing D for "**" (a C comment cannot hold
 *          it next to a '/'): a D that is a whole component and followed
 *          by '/' also matches no directory at all, so "a/D/b" matches
 *          "a/b" as well as "a/x/b" and "a/x/y/b", and "D/b" matches "b"
 *          and "x/y/b".  A trailing "/D" matches everything below the
 *          directory but not the directory itself ("a/D" matches "a/x/y",
 *          not "a").  Any other D is just any run: "/srv/D.yaml" matches
 *          every .yaml file below /srv, "aD/b" does not match "ab".
 *   [...]  one character of a class: ranges "a-z", negation "[!...]" or
 *          "[^...]", a ']' first in the class (after any '!' or '^') is
 *          literal, a '-' first or last is literal, '\' escapes inside a
 *          class too; never '/', even negated
 *   '\c'   the character c itself
 * A leading '.' in a component is matched by '*' and '?' like any other
 * character (as .gitignore does).  Matching is by bytes: no locale, no
 * case folding.  A pattern glob_check rejects still gets an answer: an
 * unterminated '[' is a literal '[', a trailing '\' a literal '\'.
 * Iterative, no allocation; polynomial time on any input. */
bool glob_match(const char *pattern, const char *s);

/* NULL when PATTERN is well formed, else a short static reason: "empty
 * pattern", "trailing backslash", "unterminated character class", "empty
 * character class" ("[]" or "[!]" never closed), "reversed range in
 * character class" ("[z-a]"), "'/' in character class" (it could never
 * match), "character class names ([:alpha:]) are not supported", or a
 * trailing '/', escaped or not (a path never ends with '/'; "DIR/D" is
 * what is below DIR, see above). */
const char *glob_check(const char *pattern);

/* Join PATH to BASE (an absolute directory; ignored when PATH is absolute;
 * NULL is "/") and normalise lexically: "//" and "/./" collapse, ".."
 * removes the component before it (never above "/"), a trailing '/' is
 * dropped (but "/" stays "/").  Writes the result to OUT; returns its
 * length, or -1 when it does not fit in SIZE bytes (NUL included); only
 * the final result counts ("/a/LONG/.." fits where "/a" does).  OUT may
 * not overlap PATH or BASE. */
int path_normalise(const char *base, const char *path, char *out, size_t size);

/* The last component of the normalised absolute path P ("" for "/"). */
const char *path_basename(const char *p);

/* The rule that decides for the file NAME, the last component of its
 * path, whose normalised absolute path is ABS: the last rule whose
 * pattern matches (basename rules match NAME, the others ABS).  NULL
 * when none does.  A rule with enabled = 0 is returned too: the caller
 * treats it as "excluded".
 *
 * ABS may be NULL while it is not known, since making a path absolute
 * costs system calls and most rules need only the name: the lookup then
 * decides on NAME as far as it can, and returns RULES_NEED_PATH when it
 * reaches a rule that needs ABS; the caller makes it and asks again
 * (rule_for in lookup.h does).  This is the one lookup of the project:
 * the library, the launcher's --explain and the supervisor all decide
 * with it. */
extern const struct rule rules_need_path;
#define RULES_NEED_PATH (&rules_need_path)
const struct rule *rules_find(const struct ruleset *rs, const char *name, const char *abs);

#endif

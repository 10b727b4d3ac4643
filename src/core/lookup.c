/* lookup.c - the rule that decides for a path: the name first, the
 * absolute path only when a rule needs it. */
#include <string.h>

#include "lookup.h"
#include "match.h"
#include "path.h"
#include "rules.h"
#include "sys.h"

const struct rule *rule_for(const struct ruleset *rs, int dirfd, const char *path,
			    char *abs, size_t size)
{
	const char *name = strrchr(path, '/');
	const struct rule *r;

	abs[0] = '\0';
	name = name ? name + 1 : path;
	/* A path ending in '/', "." or ".." names a directory: never ours. */
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return NULL;
	r = rules_find(rs, name, NULL);
	if (r == RULES_NEED_PATH) {
		if (path_absolute(dirfd, path, abs, size) < 0) {
			abs[0] = '\0';
			return NULL;
		}
		r = rules_find(rs, name, abs);
	}
	return r;
}

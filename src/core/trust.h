/* trust.h - may a file or directory that others could reach be trusted?
 *
 * The library keeps its lock files where other users may be able to put
 * things first (a sticky /tmp, a shared project directory).  A lock file
 * or a lock directory is used only when no one but the user it runs as
 * (and root, who can do anything anyway) can have made it, swapped it or
 * renamed it away.
 */
#ifndef ATOMICALLY_TRUST_H
#define ATOMICALLY_TRUST_H

#include <sys/stat.h>
#include <sys/types.h>

/* Is ST (an fstat of a descriptor opened without following a link) a
 * file only UID and root can have made: a regular file of UID or root
 * with no other name (or none left)?  A hard link planted under the lock file's name
 * has two names; a file of another user could be held locked by them for
 * ever, or carry a pid of their choosing. */
int trust_own_file(const struct stat *st, uid_t uid);

/* Is ST a directory of UID (or root) that nobody else can add to or
 * take from: not writable by group or others, unless sticky (then each
 * entry is its owner's). */
int trust_own_dir(const struct stat *st, uid_t uid);

/* Can nobody but UID and root rename DIRFD's directory away, or any
 * directory above it: each, up to /, owned by UID or root and not
 * writable by group or others unless sticky?  DIRFD itself is not
 * judged (its caller knows what it needs of it).  Returns 1 or 0; 0 also
 * when the way up cannot be walked. */
int trust_dir_chain(int dirfd, uid_t uid);

#endif

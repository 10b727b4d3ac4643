/* metadata.h - what a replacement keeps of the file it replaces. */
#ifndef ATOMICALLY_METADATA_H
#define ATOMICALLY_METADATA_H

#include <sys/stat.h>
#include <sys/types.h>

struct record;

#define XATTR_ACL_ACCESS "system.posix_acl_access"

/* Give the temp FD of R (whose stat is NOW) the old file's owner and
 * group (as far as the process may), its extended attributes (POSIX ACLs,
 * the SELinux label) and its mode, unless the program set the mode
 * itself.  TEMP_ACL: does the temp have an access ACL of its own (from a
 * default ACL of the directory)?  -1 when unknown.  Returns 0, or -1 with
 * errno. */
int metadata_copy(const struct record *r, int fd, const struct stat *now, int temp_acl);

/* Is NAME among the LEN bytes of NAMES, a list as listxattr gives it? */
int xattr_listed(const char *names, ssize_t len, const char *name);

#endif

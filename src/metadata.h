/* metadata.h - what a replacement keeps of the file it replaces. */
#ifndef ATOMICALLY_METADATA_H
#define ATOMICALLY_METADATA_H

struct pending;

/* Give the temp FD of P the old file's owner and group (as far as the
 * process may), its extended attributes (POSIX ACLs, the SELinux label)
 * and its mode, unless the program set the mode itself.  Returns 0, or
 * -1 with errno. */
int metadata_copy(const struct pending *p, int fd);

#endif

/* hook_map.c - shared mappings of a pending file: its file description
 * lives on in the mapping, and the program's stores after the close are
 * writes too.  The mapping marks the file (held.h), so that the
 * last close holds it back while the mapping lives; munmap lets it go.
 * The library's own memory does not come through here (sys_map). */
#include <errno.h>
#include <sys/mman.h>

#include "held.h"
#include "hooks.h"
#include "pending.h"
#include "real.h"
#include "state.h"

/* Only a shared mapping of a file can concern a pending file. */
void hook_mapping(int fd, int flags)
{
	if (fd >= 0 && !(flags & MAP_ANONYMOUS) && (flags & MAP_TYPE) != MAP_PRIVATE &&
	    lib_active())
		held_mapped(fd, flags);
}

void hook_unmapped(void)
{
	if (lib_active())
		pending_settle_held();
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	hook_mapping(fd, flags);
	return real.mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	hook_mapping(fd, flags);
	return real.mmap64(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
	int r = real.munmap(addr, len);

	if (r == 0)
		hook_unmapped();
	return r;
}

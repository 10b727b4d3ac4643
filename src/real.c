/* real.c - find the functions the library interposes. */
#include <dlfcn.h>
#include <stdatomic.h>

#include "real.h"

struct real_functions real;

void real_resolve(void)
{
	static atomic_int done;

	if (atomic_load_explicit(&done, memory_order_acquire))
		return;
	/* Two threads may race here; both store the same values.  A symbol
	 * this libc lacks (say __xstat on a newer one) stays NULL, and its
	 * hook is then never reached: nobody calls what libc does not have. */
#define RESOLVE(field, symbol, ret, params) real.field = (ret(*) params)dlsym(RTLD_NEXT, symbol);
	REAL_FUNCTIONS(RESOLVE)
#undef RESOLVE
	atomic_store_explicit(&done, 1, memory_order_release);
}

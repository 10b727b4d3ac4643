/* empty.c - the baseline preload of the process-start benchmark: a shared
 * object with nothing in it, so that what is measured against it is the
 * library's own cost, not the cost of loading some library at all. */
typedef int empty_translation_unit_is_not_iso_c;

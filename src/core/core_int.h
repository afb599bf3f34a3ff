/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the core module: helpers shared between its files.
 * Nothing outside src/core (and tests/unit/core) includes this header.
 */
#ifndef MV_CORE_INT_H
#define MV_CORE_INT_H

#include <stdbool.h>

/* Whether s (NUL-terminated) is exactly one RFC 8259 number; when it is and
 * out_is_int is not NULL, *out_is_int tells whether it has neither fraction
 * nor exponent. Defined in json.c. */
bool mv__json_is_number(const char *s, bool *out_is_int);

#endif

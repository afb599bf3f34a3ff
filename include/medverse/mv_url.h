/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Percent-decoding and query-string lookup (RFC 3986 §2.1; '+' as space in
 * query strings, as HTML forms send them). Used by the HTTP router and by
 * anything that parses request parameters (e.g. FHIR search).
 */
#ifndef MV_URL_H
#define MV_URL_H

#include "mv_arena.h"

/* Percent-decode n bytes of s into dst, which must have room for n + 1
 * bytes; '+' becomes a space when plus_space. Invalid or truncated escapes
 * are kept literally. Returns the decoded length; dst is NUL-terminated (a
 * decoded %00 ends the C string early: use the returned length). */
MV_API size_t mv_url_decode(char *dst, const char *s, size_t n,
                            bool plus_space);

/* The first value of `name` in a raw query string ("a=1&b=x%20y"), keys and
 * values decoded, copied into arena a (borrowed until the arena is freed).
 * A key without '=' has the value "". NULL if absent or the arena is full. */
MV_API const char *mv_url_query_get(struct mv_arena *a, const char *query,
                                    const char *name);

#endif

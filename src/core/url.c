/* SPDX-License-Identifier: Apache-2.0 */
/*
 * URL pieces every front door needs: percent-decoding (RFC 3986 §2.1, with
 * the form-encoding '+' as space for query strings) and lookup of a query
 * parameter. Pure functions over bounded input; fuzzed by fuzz/fuzz_query.c.
 */
#include <string.h>

#include "mv_url.h"

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

size_t mv_url_decode(char *dst, const char *s, size_t n, bool plus_space) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    int hi, lo;
    if (s[i] == '%' && i + 2 < n &&
        (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
        (lo = hexval((unsigned char)s[i + 2])) >= 0) {
      dst[o++] = (char)(hi * 16 + lo);
      i += 2;
    } else if (s[i] == '+' && plus_space) {
      dst[o++] = ' ';
    } else {
      dst[o++] = s[i];
    }
  }
  dst[o] = '\0';
  return o;
}

const char *mv_url_query_get(struct mv_arena *a, const char *query,
                             const char *name) {
  size_t name_len = strlen(name);
  const char *p = query;

  while (p && *p) {
    const char *amp = strchr(p, '&');
    size_t seg = amp ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', seg);
    size_t klen = eq ? (size_t)(eq - p) : seg;
    char *key = mv_arena_alloc(a, klen + 1);
    if (!key)
      return NULL;
    size_t kdec = mv_url_decode(key, p, klen, true);
    if (kdec == name_len && memcmp(key, name, name_len) == 0) {
      const char *v = eq ? eq + 1 : p + seg;
      size_t vlen = (size_t)(p + seg - v);
      char *val = mv_arena_alloc(a, vlen + 1);
      if (!val)
        return NULL;
      mv_url_decode(val, v, vlen, true);
      return val;
    }
    p = amp ? amp + 1 : NULL;
  }
  return NULL;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for URL decoding and query lookup (mv_url.h). The input
 * is "NAME\nQUERY". Checks: decoding never grows the text and always
 * terminates it; decoding text without '%' and '+' is the identity; a value
 * found for NAME is never longer than the query; lookups never read past
 * the query (ASan) and fail cleanly when the arena is full.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1u << 16)
    return 0;
  char *text = malloc(size + 1), *out = malloc(size + 1);
  struct mv_arena *big = mv_arena_new(1u << 20), *tiny = mv_arena_new(32);
  if (!text || !out || !big || !tiny)
    abort();
  memcpy(text, data, size);
  text[size] = '\0';

  size_t n = mv_url_decode(out, text, size, true);
  if (n > size || out[n] != '\0')
    abort();
  if (!memchr(text, '%', size) && !memchr(text, '+', size) &&
      (n != size || memcmp(out, text, size) != 0))
    abort();

  /* Lookups work on C strings: split at the first newline or NUL. */
  char *nl = memchr(text, '\n', size);
  const char *name = text, *query = "";
  if (nl) {
    *nl = '\0';
    query = nl + 1;
  }
  const char *v = mv_url_query_get(big, query, name);
  if (v && strlen(v) > strlen(query))
    abort();
  (void)mv_url_query_get(tiny, query, name); /* may be NULL: arena full */

  mv_arena_free(tiny);
  mv_arena_free(big);
  free(out);
  free(text);
  return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the JSON layer. Anything mv_json_parse accepts must
 * serialise, re-parse, and serialise to the very same bytes (numbers keep
 * their text, so the round trip is exact); the typed getters are run over
 * the top-level members to check their contracts. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Contracts of the getters on one member: exactly one kind matches, and an
 * int64 accepted is also a number whose text has no fraction or exponent. */
static void check_getters(struct json_object *obj, const char *key) {
  struct mv_diag d;
  const char *s = NULL, *text = NULL;
  struct json_object *sub = NULL;
  double v = 0;
  int64_t n = 0;
  bool b = false;
  int ok = 0;
  mv_diag_clear(&d);
  ok += mv_json_get_string(obj, "fuzz", key, true, &s, &d) == MV_OK;
  ok += mv_json_get_object(obj, "fuzz", key, true, &sub, &d) == MV_OK;
  ok += mv_json_get_array(obj, "fuzz", key, true, &sub, &d) == MV_OK;
  ok += mv_json_get_bool(obj, "fuzz", key, true, &b, &d) == MV_OK;
  int num_rc = mv_json_get_number(obj, "fuzz", key, true, &v, &text, &d);
  ok += num_rc == MV_OK;
  if (ok > 1)
    abort();
  if (mv_json_get_int64(obj, "fuzz", key, true, &n, &d) == MV_OK &&
      (num_rc != MV_OK || strpbrk(text, ".eE") != NULL))
    abort();
  if (mv_json_get_string(obj, "fuzz", "\x01no such key", true, &s, &d) !=
      MV_ENOTFOUND)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct json_object *obj = NULL, *again = NULL;
  struct mv_buf first, second;
  struct mv_diag d;
  mv_buf_init(&first, 64u * 1024u * 1024u);
  mv_buf_init(&second, 64u * 1024u * 1024u);
  if (mv_json_parse((const char *)data, size, &obj, &d) != MV_OK)
    goto out;
  if (mv_json_write(&first, obj) != MV_OK)
    abort();
  if (mv_json_parse(first.data, first.len, &again, &d) != MV_OK)
    abort();
  if (mv_json_write(&second, again) != MV_OK)
    abort();
  if (first.len != second.len || memcmp(first.data, second.data, first.len))
    abort();
  if (json_object_is_type(obj, json_type_object)) {
    json_object_object_foreach(obj, key, val) {
      (void)val;
      check_getters(obj, key);
    }
  }
out:
  json_object_put(obj);
  json_object_put(again);
  mv_buf_release(&first);
  mv_buf_release(&second);
  return 0;
}

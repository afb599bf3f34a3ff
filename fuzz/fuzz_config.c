/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the configuration file parser. Whatever the text, the
 * parser must answer OK or an error with a line number inside the text and
 * leave the configuration untouched on error; a configuration it accepts
 * must survive a round trip through mv_config_each and mv_config_set (the
 * listing is a faithful dump). Any violation aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct replay {
  struct mv_config *into;
  bool failed;
};

static void set_back(void *ctx, const char *key, const char *value,
                     const char *help) {
  struct replay *r = ctx;
  (void)help;
  if (mv_config_set(r->into, key, value, NULL) != MV_OK)
    r->failed = true;
}

/* The listing as one string: compares configurations by value (a byte
 * compare would see stale bytes after a shorter path's NUL). */
struct listing {
  char text[4 * MV_LIMIT_PATH_MAX + 1024];
  size_t len;
};

static void append(void *ctx, const char *key, const char *value,
                   const char *help) {
  struct listing *l = ctx;
  (void)help;
  size_t room = sizeof(l->text) - l->len;
  int n = snprintf(l->text + l->len, room, "%s=%s\n", key, value);
  if (n > 0 && (size_t)n < room)
    l->len += (size_t)n;
  else
    abort(); /* the buffer is sized for every key at its longest */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mv_config c, before, back;
  struct mv_diag d;
  mv_config_init(&c);
  before = c;
  mv_diag_clear(&d);
  int rc = mv_config_load_text(&c, "fuzz.conf", (const char *)data, size, &d);
  if (rc != MV_OK) {
    if (memcmp(&c, &before, sizeof(c)) != 0)
      abort(); /* a failed load changed the configuration */
    if (d.err == MV_OK && rc != MV_ENOMEM)
      abort(); /* an error without a diagnostic */
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
      lines += data[i] == '\n';
    if (d.line < 0 || (size_t)d.line > lines)
      abort(); /* the line named is not in the text */
    return 0;
  }
  /* Accepted: every value as listed must parse back to the same config. */
  mv_config_init(&back);
  struct replay r = {&back, false};
  mv_config_each(&c, set_back, &r);
  if (r.failed)
    abort();
  static struct listing a, b;
  a.len = b.len = 0;
  mv_config_each(&c, append, &a);
  mv_config_each(&back, append, &b);
  if (a.len != b.len || memcmp(a.text, b.text, a.len) != 0)
    abort();
  return 0;
}

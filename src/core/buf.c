/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded dynamic buffer. Growth doubles capacity but never lets len pass
 * max, so a peer feeding us bytes hits MV_ETOOBIG instead of exhausting
 * memory (the idea of curl's dynbuf). Always NUL-terminated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_buf.h"
#include "mv_err.h"

void mv_buf_init(struct mv_buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

void mv_buf_release(struct mv_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void mv_buf_reset(struct mv_buf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

/* Make room for n more bytes plus the terminating NUL. */
static int reserve(struct mv_buf *b, size_t n) {
  /* len + n must also leave room for the NUL: with max == SIZE_MAX the
   * first test alone lets len + n + 1 wrap to 0. */
  if (n > b->max || b->len > b->max - n || b->len + n == SIZE_MAX)
    return MV_ETOOBIG;
  size_t need = b->len + n + 1;
  if (need <= b->cap)
    return MV_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  if (b->max < SIZE_MAX && cap > b->max + 1) /* max + 1 would wrap to 0 */
    cap = b->max + 1;
  char *p = realloc(b->data, cap);
  if (!p)
    return MV_ENOMEM;
  b->data = p;
  b->cap = cap;
  return MV_OK;
}

int mv_buf_append(struct mv_buf *b, const void *p, size_t n) {
  int rc = reserve(b, n);
  if (rc)
    return rc;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return MV_OK;
}

int mv_buf_appends(struct mv_buf *b, const char *s) {
  return mv_buf_append(b, s, strlen(s));
}

int mv_buf_vappendf(struct mv_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return MV_EINVAL;
  int rc = reserve(b, (size_t)n);
  if (rc)
    return rc;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return MV_OK;
}

int mv_buf_appendf(struct mv_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = mv_buf_vappendf(b, fmt, ap);
  va_end(ap);
  return rc;
}

int mv_buf_append_json_str(struct mv_buf *b, const char *s, size_t n) {
  size_t start = b->len;
  int rc = MV_OK;
  for (size_t i = 0; i < n && rc == MV_OK; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"':
      rc = mv_buf_append(b, "\\\"", 2);
      break;
    case '\\':
      rc = mv_buf_append(b, "\\\\", 2);
      break;
    case '\n':
      rc = mv_buf_append(b, "\\n", 2);
      break;
    case '\r':
      rc = mv_buf_append(b, "\\r", 2);
      break;
    case '\t':
      rc = mv_buf_append(b, "\\t", 2);
      break;
    default:
      if (c < 0x20 || c == 0x7f)
        rc = mv_buf_appendf(b, "\\u%04x", c);
      else
        rc = mv_buf_append(b, &s[i], 1);
    }
  }
  if (rc != MV_OK) { /* leave the buffer as it was */
    b->len = start;
    if (b->data)
      b->data[start] = '\0';
  }
  return rc;
}

const char *mv_buf_cstr(const struct mv_buf *b) {
  return b->data ? b->data : "";
}

char *mv_buf_detach(struct mv_buf *b, size_t *out_len) {
  char *p = b->data;
  if (out_len)
    *out_len = b->len;
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  return p;
}

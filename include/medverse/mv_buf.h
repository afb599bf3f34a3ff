/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded dynamic byte buffer (after curl's dynbuf and git's strbuf). A buffer
 * is created with a maximum size and fails with MV_ETOOBIG rather than grow
 * past it, so input from outside can never make it unbounded. The contents are
 * always NUL-terminated (the NUL is not counted in len).
 */
#ifndef MV_BUF_H
#define MV_BUF_H

#include <stdarg.h>

#include "mv_common.h"

/* Fields are readable; change them only through the functions below.
 * data is NULL until the first append (mv_buf_cstr() returns "" then). */
struct mv_buf {
  char *data;
  size_t len;
  size_t cap;
  size_t max; /* largest len allowed */
};

/* Embedded-struct lifecycle: init (no allocation), release (frees, reusable). */
MV_API void mv_buf_init(struct mv_buf *b, size_t max);
MV_API void mv_buf_release(struct mv_buf *b);
/* Keep the allocation, set len to 0. */
MV_API void mv_buf_reset(struct mv_buf *b);
/* Append n bytes (copied). MV_ETOOBIG if len would pass max, MV_ENOMEM;
 * on error the buffer is unchanged. */
MV_API MV_NODISCARD int mv_buf_append(struct mv_buf *b, const void *p,
                                      size_t n);
MV_API MV_NODISCARD int mv_buf_appends(struct mv_buf *b, const char *s);
MV_API MV_NODISCARD int mv_buf_appendf(struct mv_buf *b, const char *fmt, ...)
    MV_PRINTF(2, 3);
MV_API MV_NODISCARD int mv_buf_vappendf(struct mv_buf *b, const char *fmt,
                                        va_list ap) MV_PRINTF(2, 0);
/* Append s as the inside of a JSON string (escaped, without quotes). */
MV_API MV_NODISCARD int mv_buf_append_json_str(struct mv_buf *b, const char *s,
                                               size_t n);
/* Borrowed view, valid until the next change; never NULL. */
MV_API const char *mv_buf_cstr(const struct mv_buf *b);
/* Hand the allocation to the caller (returned, caller frees with free());
 * the buffer is left empty. Returns NULL for an empty buffer never written. */
MV_API char *mv_buf_detach(struct mv_buf *b, size_t *out_len);

#endif

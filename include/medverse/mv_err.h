/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one error model of medverse. Every fallible function returns an int
 * that is MV_OK (0) or one of the negative codes below, generated from one
 * X-macro table together with their names, messages and HTTP statuses.
 * An optional struct mv_diag carries a human-readable detail: what failed and
 * where (a JSON path, a file line and column). Diagnostics never contain
 * patient data: they name paths and positions, not values.
 */
#ifndef MV_ERR_H
#define MV_ERR_H

#include "mv_common.h"

/* X(NAME, code, message, http_status) */
#define MV_ERR_MAP(X)                                                          \
  X(OK, 0, "success", 200)                                                     \
  X(NOMEM, -1, "out of memory", 503)                                           \
  X(INVAL, -2, "invalid argument", 400)                                        \
  X(TOOBIG, -3, "input exceeds a configured limit", 413)                       \
  X(PARSE, -4, "malformed input", 400)                                         \
  X(NOTFOUND, -5, "not found", 404)                                            \
  X(EXISTS, -6, "already exists", 409)                                         \
  X(CONFLICT, -7, "version conflict", 412)                                     \
  X(GONE, -8, "gone", 410)                                                     \
  X(IO, -9, "input/output error", 500)                                         \
  X(DB, -10, "database error", 500)                                            \
  X(BUSY, -11, "resource busy, try again", 503)                                \
  X(CLOSED, -12, "closed or shutting down", 503)                               \
  X(TIMEOUT, -13, "timed out", 504)                                            \
  X(AUTH, -14, "authentication required", 401)                                 \
  X(PERM, -15, "permission denied", 403)                                       \
  X(UNSUPPORTED, -16, "unsupported media type or feature", 415)                \
  X(RANGE, -17, "value out of range", 400)                                     \
  X(CONFIG, -18, "invalid configuration", 400)                                 \
  X(CRYPTO, -19, "cryptographic failure", 500)                                 \
  X(CORRUPT, -20, "stored data is corrupt", 500)                               \
  X(METHOD, -21, "method not allowed", 405)                                    \
  X(INTERNAL, -22, "internal error", 500)                                      \
  X(RATE, -23, "too many requests, slow down", 429)                            \
  X(INVALID, -24, "well-formed but invalid content", 422)

enum mv_err {
#define MV__ERR_ENUM(name, code, msg, http) MV_E##name = (code),
  MV_ERR_MAP(MV__ERR_ENUM)
#undef MV__ERR_ENUM
};
#define MV_OK MV_EOK

/* Static English message for an error code; "unknown error" for others. */
MV_API const char *mv_strerror(int err);
/* Static symbolic name, e.g. "MV_ETOOBIG"; "MV_E?" for unknown codes. */
MV_API const char *mv_err_name(int err);
/* The HTTP status an error maps to (500 for unknown codes). */
MV_API int mv_err_http_status(int err);

/*
 * Human-readable detail for a failure. Caller-owned, fixed size, embedded in
 * the caller's frame. Functions taking a `struct mv_diag *` accept NULL.
 * path: a JSON path ("Observation.valueQuantity.code"), a flag name or a file
 * name; line/col: 1-based, 0 when unknown; offset: byte offset, or -1.
 */
struct mv_diag {
  int err;
  char msg[256];
  char path[192];
  int line;
  int col;
  long offset;
};

/* Reset to "no error". Accepts NULL. */
MV_API void mv_diag_clear(struct mv_diag *d);
/* Record an error with a formatted message (truncated to fit); returns err
 * so callers can `return mv_diag_set(d, MV_EPARSE, "...")`. Accepts d NULL. */
MV_API int mv_diag_set(struct mv_diag *d, int err, const char *fmt, ...)
    MV_PRINTF(3, 4);
/* Set the path (copied, truncated) of an already-recorded error. */
MV_API void mv_diag_set_path(struct mv_diag *d, const char *path);
/* Formats "path:line:col: msg" (parts present only) into buf (bounded). */
MV_API const char *mv_diag_format(const struct mv_diag *d, char *buf,
                                  size_t buf_len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private helpers shared by the WFDB files of src/sig: bounded whole-file
 * reading, atomic file replacement, and diagnostics that name a file and a
 * line. Not part of the public API.
 */
#ifndef MV_SIG_WFDB_INT_H
#define MV_SIG_WFDB_INT_H

#include <stdio.h>

#include "mv_sig_wfdb.h"

/* Record a diagnostic "path:line: message" (line 0: none); returns err. */
int mv__wfdb_err(struct mv_diag *d, int err, const char *path, int line,
                 const char *fmt, ...) MV_PRINTF(5, 6);

/* Read at most max bytes of path into a fresh buffer (returned, caller
 * frees with free(); NUL-terminated, the NUL not counted). A longer file is
 * MV_ETOOBIG; a missing one MV_ENOTFOUND. */
int mv__wfdb_slurp(const char *path, size_t max, char **out, size_t *out_len,
                   struct mv_diag *d);

/* Write len bytes to path through "path.tmp" and rename (atomic replace). */
int mv__wfdb_write_atomic(const char *path, const void *buf, size_t len,
                          struct mv_diag *d);

#endif

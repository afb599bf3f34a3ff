/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounded RFC 4180 CSV reader: comma-separated fields, optional double
 * quotes ("" inside a quoted field is one quote; quoted fields may hold
 * commas and newlines), LF or CRLF line ends, an optional UTF-8 byte-order
 * mark. Used by the CLI for case counts, serial intervals, triage corpora.
 *
 * Ownership: mv_csv_open_mem borrows the text for the reader's life;
 * mv_csv_open_file reads the file into memory the reader owns. Fields
 * returned by mv_csv_next are borrowed and valid until the next call.
 */
#ifndef MV_CSV_H
#define MV_CSV_H

#include <stdio.h>

#include "mv_err.h"

#define MV_CSV_FIELDS_MAX 4096u                 /* fields in one record */
#define MV_CSV_FILE_MAX (1024u * 1024u * 1024u) /* bytes read from one file */

struct mv_csv;

/* A reader over len bytes of text (borrowed; need not be NUL-terminated). */
MV_API MV_NODISCARD int mv_csv_open_mem(const char *text, size_t len,
                                        struct mv_csv **out);
/* Read path ("-" = stdin) whole, at most MV_CSV_FILE_MAX bytes. Errors:
 * MV_EIO (diag names the file and errno text), MV_ETOOBIG, MV_ENOMEM. */
MV_API MV_NODISCARD int mv_csv_open_file(const char *path, struct mv_csv **out,
                                         struct mv_diag *diag);
/* Accepts NULL. */
MV_API void mv_csv_free(struct mv_csv *c);

/* The next record. MV_OK with *out_fields (n borrowed NUL-terminated
 * strings); MV_ENOTFOUND at the end; MV_EPARSE (diag->line set) for an
 * unterminated quote, text after a closing quote, or more than
 * MV_CSV_FIELDS_MAX fields. Blank lines are skipped. */
MV_API MV_NODISCARD int mv_csv_next(struct mv_csv *c, char ***out_fields,
                                    size_t *out_n, struct mv_diag *diag);
/* The 1-based line on which the last record returned started. */
MV_API size_t mv_csv_line(const struct mv_csv *c);
/* The index of the field equal to name in a header record, or -1. */
MV_API long mv_csv_find(char *const *fields, size_t n, const char *name);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 4180 CSV reader. Each record is unescaped into one growing scratch
 * buffer (bounded by the input size) with NUL-terminated fields; the field
 * pointers are set once the record is complete, so growth never leaves a
 * dangling pointer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mv_buf.h"
#include "mv_csv.h"

struct mv_csv {
  const char *p, *end;
  char *owned; /* file contents (mv_csv_open_file) */
  size_t line; /* line of the next byte */
  size_t rec_line;
  struct mv_buf scratch;
  size_t offs[MV_CSV_FIELDS_MAX];
  char *fields[MV_CSV_FIELDS_MAX];
};

int mv_csv_open_mem(const char *text, size_t len, struct mv_csv **out) {
  struct mv_csv *c;
  if (!out || (!text && len))
    return MV_EINVAL;
  if (!(c = calloc(1, sizeof(*c))))
    return MV_ENOMEM;
  c->p = text ? text : "";
  c->end = c->p + len;
  if (len >= 3 && memcmp(c->p, "\xEF\xBB\xBF", 3) == 0)
    c->p += 3;
  c->line = 1;
  mv_buf_init(&c->scratch, len + MV_CSV_FIELDS_MAX + 1);
  *out = c;
  return MV_OK;
}

int mv_csv_open_file(const char *path, struct mv_csv **out,
                     struct mv_diag *diag) {
  FILE *f = NULL;
  struct mv_buf b;
  char chunk[65536];
  size_t n;
  int rc = MV_EIO;
  mv_buf_init(&b, MV_CSV_FILE_MAX);
  if (!path || !out)
    return MV_EINVAL;
  bool is_stdin = strcmp(path, "-") == 0;
  if (!(f = is_stdin ? stdin : fopen(path, "rb"))) {
    rc = mv_diag_set(diag, MV_EIO, "cannot open: %s", strerror(errno));
    mv_diag_set_path(diag, path);
    goto out;
  }
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    if ((rc = mv_buf_append(&b, chunk, n)) != MV_OK) {
      mv_diag_set(diag, rc, "file too large or out of memory");
      mv_diag_set_path(diag, path);
      goto out;
    }
  if (ferror(f)) {
    rc = mv_diag_set(diag, MV_EIO, "read error: %s", strerror(errno));
    mv_diag_set_path(diag, path);
    goto out;
  }
  size_t len = b.len;
  char *text = mv_buf_detach(&b, NULL);
  if ((rc = mv_csv_open_mem(text, len, out)) != MV_OK) {
    free(text);
    goto out;
  }
  (*out)->owned = text;
out:
  if (f && !is_stdin)
    fclose(f);
  mv_buf_release(&b);
  return rc;
}

void mv_csv_free(struct mv_csv *c) {
  if (!c)
    return;
  mv_buf_release(&c->scratch);
  free(c->owned);
  free(c);
}

size_t mv_csv_line(const struct mv_csv *c) {
  return c ? c->rec_line : 0;
}

long mv_csv_find(char *const *fields, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(fields[i], name) == 0)
      return (long)i;
  return -1;
}

static int fail(struct mv_csv *c, struct mv_diag *d, const char *msg) {
  mv_diag_set(d, MV_EPARSE, "%s", msg);
  if (d)
    d->line = (int)c->rec_line;
  c->p = c->end; /* stop: later calls report the end */
  return MV_EPARSE;
}

int mv_csv_next(struct mv_csv *c, char ***out_fields, size_t *out_n,
                struct mv_diag *diag) {
  size_t nf = 0;
  int rc;
  if (!c || !out_fields || !out_n)
    return MV_EINVAL;
  /* Skip blank lines. */
  while (c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
    if (*c->p == '\n')
      c->line++;
    c->p++;
  }
  if (c->p >= c->end)
    return MV_ENOTFOUND;
  c->rec_line = c->line;
  mv_buf_reset(&c->scratch);
  for (;;) { /* one field per iteration */
    if (nf >= MV_CSV_FIELDS_MAX)
      return fail(c, diag, "too many fields in one record");
    c->offs[nf++] = c->scratch.len;
    if (c->p < c->end && *c->p == '"') {
      c->p++;
      for (;;) {
        if (c->p >= c->end)
          return fail(c, diag, "unterminated quoted field");
        if (*c->p == '"') {
          if (c->p + 1 < c->end && c->p[1] == '"') {
            if ((rc = mv_buf_append(&c->scratch, "\"", 1)) != MV_OK)
              return rc;
            c->p += 2;
            continue;
          }
          c->p++;
          break;
        }
        if (*c->p == '\n')
          c->line++;
        if ((rc = mv_buf_append(&c->scratch, c->p, 1)) != MV_OK)
          return rc;
        c->p++;
      }
      if (c->p < c->end && *c->p == '\r' && c->p + 1 < c->end &&
          c->p[1] == '\n')
        c->p++;
      if (c->p < c->end && *c->p != ',' && *c->p != '\n')
        return fail(c, diag, "text after a closing quote");
    } else {
      const char *s = c->p;
      while (c->p < c->end && *c->p != ',' && *c->p != '\n')
        c->p++;
      size_t n = (size_t)(c->p - s);
      if (n && s[n - 1] == '\r')
        n--;
      if (memchr(s, '"', n))
        return fail(c, diag, "quote inside an unquoted field");
      if ((rc = mv_buf_append(&c->scratch, s, n)) != MV_OK)
        return rc;
    }
    if ((rc = mv_buf_append(&c->scratch, "", 1)) != MV_OK) /* the NUL */
      return rc;
    if (c->p >= c->end)
      break;
    if (*c->p == '\n') {
      c->p++;
      c->line++;
      break;
    }
    c->p++; /* the comma */
  }
  for (size_t i = 0; i < nf; i++)
    c->fields[i] = c->scratch.data + c->offs[i];
  *out_fields = c->fields;
  *out_n = nf;
  return MV_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a labelled corpus (id,label,text CSV) for training, evaluation and
 * the benchmarks: one bounded reader, so the CLI, the tests and the benches
 * agree on what a valid corpus is and name the failing line the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_clf.h"
#include "mv_csv.h"
#include "mv_limits.h"

void mv_clf_corpus_release(struct mv_clf_corpus *c) {
  if (!c)
    return;
  for (size_t i = 0; i < c->n; i++) {
    free(c->text[i]);
    free(c->label[i]);
  }
  free(c->text);
  free(c->label);
  memset(c, 0, sizeof *c);
}

static int at_line(struct mv_diag *d, int err, size_t line, const char *path,
                   const char *msg) {
  mv_diag_set(d, err, "%s", msg);
  mv_diag_set_path(d, path);
  if (d)
    d->line = (int)line;
  return err;
}

static int push(struct mv_clf_corpus *c, const char *text, const char *label) {
  if (c->n == c->cap) {
    size_t nc = c->cap ? c->cap * 2 : 256;
    char **t = realloc(c->text, nc * sizeof *t);
    if (!t)
      return MV_ENOMEM;
    c->text = t;
    char **l = realloc(c->label, nc * sizeof *l);
    if (!l)
      return MV_ENOMEM;
    c->label = l;
    c->cap = nc;
  }
  char *t = strdup(text), *l = strdup(label);
  if (!t || !l) {
    free(t);
    free(l);
    return MV_ENOMEM;
  }
  c->text[c->n] = t;
  c->label[c->n++] = l;
  return MV_OK;
}

int mv_clf_corpus_read(const char *path, struct mv_clf_corpus *out,
                       struct mv_diag *diag) {
  struct mv_csv *csv = NULL;
  char **f;
  size_t nf;
  char msg[160];
  if (!path || !out)
    return MV_EINVAL;
  memset(out, 0, sizeof *out);
  int rc = mv_csv_open_file(path, &csv, diag);
  if (rc != MV_OK)
    return rc;
  rc = mv_csv_next(csv, &f, &nf, diag);
  if (rc == MV_ENOTFOUND) {
    rc = at_line(diag, MV_EPARSE, 1, path,
                 "empty file, expected a header id,label,text");
    goto out;
  }
  if (rc != MV_OK) {
    mv_diag_set_path(diag, path);
    goto out;
  }
  long li = mv_csv_find(f, nf, "label"), ti = mv_csv_find(f, nf, "text");
  if (li < 0 || ti < 0) {
    rc = at_line(diag, MV_EPARSE, mv_csv_line(csv), path,
                 "header must have columns label and text");
    goto out;
  }
  size_t need = (size_t)(li > ti ? li : ti) + 1;
  while ((rc = mv_csv_next(csv, &f, &nf, diag)) == MV_OK) {
    size_t line = mv_csv_line(csv);
    if (nf < need) {
      snprintf(msg, sizeof msg, "expected at least %zu fields, found %zu", need,
               nf);
      rc = at_line(diag, MV_EPARSE, line, path, msg);
      goto out;
    }
    size_t ll = strlen(f[li]);
    if (ll == 0 || ll >= MV_LIMIT_CLF_LABEL) {
      snprintf(msg, sizeof msg, "label empty or longer than %u bytes",
               MV_LIMIT_CLF_LABEL - 1);
      rc = at_line(diag, MV_EPARSE, line, path, msg);
      goto out;
    }
    if (out->n >= MV_LIMIT_CLF_ROWS) {
      snprintf(msg, sizeof msg, "more than %u rows", MV_LIMIT_CLF_ROWS);
      rc = at_line(diag, MV_ETOOBIG, line, path, msg);
      goto out;
    }
    if ((rc = push(out, f[ti], f[li])) != MV_OK) {
      at_line(diag, rc, line, path, "out of memory");
      goto out;
    }
  }
  if (rc != MV_ENOTFOUND) {
    mv_diag_set_path(diag, path);
    goto out;
  }
  if (out->n == 0) {
    rc = at_line(diag, MV_EPARSE, mv_csv_line(csv), path, "no data rows");
    goto out;
  }
  rc = MV_OK;
out:
  mv_csv_free(csv);
  if (rc != MV_OK)
    mv_clf_corpus_release(out);
  return rc;
}

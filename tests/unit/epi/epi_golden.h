/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the epi golden tests: locate the shared reference data
 * (MV_SHARED_DATA), read a numeric CSV into columns, read a JSON sidecar,
 * and compare numbers with a relative tolerance where NA (NaN) must match NA
 * exactly. Header-only; include after cmocka.h.
 */
#ifndef MV_TEST_EPI_GOLDEN_H
#define MV_TEST_EPI_GOLDEN_H

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_csv.h"

/* A numeric CSV: ncol named columns of nrow doubles ("NA" and "" -> NaN;
 * non-numeric text -> NaN too, with the raw kept nowhere). */
struct egc_table {
  size_t ncol, nrow;
  char **names;
  double **col;
};

static inline void egc_free(struct egc_table *t) {
  for (size_t c = 0; c < t->ncol; c++) {
    free(t->names[c]);
    free(t->col[c]);
  }
  free(t->names);
  free(t->col);
  memset(t, 0, sizeof *t);
}

static inline double egc_num(const char *s) {
  if (!*s || strcmp(s, "NA") == 0 || strcmp(s, "NaN") == 0)
    return NAN;
  if (strcmp(s, "Inf") == 0)
    return INFINITY;
  if (strcmp(s, "-Inf") == 0)
    return -INFINITY;
  char *e;
  double v = strtod(s, &e);
  return *e ? NAN : v;
}

/* 0 on success. */
static inline int egc_read(const char *path, struct egc_table *t) {
  struct mv_csv *c = NULL;
  char **f;
  size_t n;
  memset(t, 0, sizeof *t);
  if (mv_csv_open_file(path, &c, NULL) != MV_OK)
    return -1;
  if (mv_csv_next(c, &f, &n, NULL) != MV_OK) {
    mv_csv_free(c);
    return -1;
  }
  t->ncol = n;
  t->names = calloc(n, sizeof *t->names);
  t->col = calloc(n, sizeof *t->col);
  for (size_t i = 0; i < n; i++)
    t->names[i] = strdup(f[i]);
  size_t cap = 0;
  while (mv_csv_next(c, &f, &n, NULL) == MV_OK) {
    if (t->nrow == cap) {
      cap = cap ? cap * 2 : 64;
      for (size_t i = 0; i < t->ncol; i++)
        t->col[i] = realloc(t->col[i], cap * sizeof(double));
    }
    for (size_t i = 0; i < t->ncol; i++)
      t->col[i][t->nrow] = i < n ? egc_num(f[i]) : NAN;
    t->nrow++;
  }
  mv_csv_free(c);
  return 0;
}

static inline const double *egc_col(const struct egc_table *t,
                                    const char *name) {
  for (size_t i = 0; i < t->ncol; i++)
    if (strcmp(t->names[i], name) == 0)
      return t->col[i];
  return NULL;
}

/* The shared surveillance data folder, or NULL (then the caller skips). */
static inline const char *egc_dir(char *buf, size_t len) {
  const char *s = getenv("MV_SHARED_DATA");
  if (!s)
    return NULL;
  snprintf(buf, len, "%s/surveillance", s);
  FILE *f;
  char probe[1200];
  snprintf(probe, sizeof probe, "%s/golden/index.json", buf);
  f = fopen(probe, "r");
  if (!f)
    return NULL;
  fclose(f);
  return buf;
}

/* Relative difference, NaN vs NaN = 0, NaN vs number = Inf. Values whose
 * magnitude is below `floor` are compared absolutely. */
static inline double egc_diff(double got, double want, double floor_abs) {
  if (isnan(want) || isnan(got))
    return (isnan(want) && isnan(got)) ? 0.0 : INFINITY;
  if (isinf(want) || isinf(got))
    return got == want ? 0.0 : INFINITY;
  double d = fabs(got - want);
  if (d == 0.0)
    return 0.0;
  if (fabs(want) < floor_abs)
    return d <= floor_abs ? 0.0 : d;
  return d / fabs(want);
}

#endif

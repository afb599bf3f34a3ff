/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aggregation and small-count suppression for sharing (src/epi/share.c):
 * ISO weeks and dates, sums by region and period, the suppression
 * invariants on many pseudo-random tables, and an audit that no suppressed
 * small count can be recovered from the published cells and margins by
 * linear algebra (the cell is not in the row space of the margin equations
 * restricted to the hidden cells).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mv_epi.h"

static int32_t day_of(const char *s) {
  int32_t d = 0;
  assert_int_equal(mv_epi_parse_date(s, &d), MV_OK);
  return d;
}

static void isoweek_and_dates(void **state) {
  (void)state;
  assert_int_equal(day_of("1970-01-01"), 0);
  assert_int_equal(day_of("2000-03-01"), 11017);
  assert_int_equal(mv_epi_isoweek(day_of("2026-01-01")), 202601);
  assert_int_equal(mv_epi_isoweek(day_of("2025-12-29")), 202601);
  assert_int_equal(mv_epi_isoweek(day_of("2025-12-28")), 202552);
  assert_int_equal(mv_epi_isoweek(day_of("2021-01-03")), 202053);
  assert_int_equal(mv_epi_isoweek(day_of("2020-12-31")), 202053);
  assert_int_equal(mv_epi_isoweek(day_of("2024-12-30")), 202501);
  assert_int_equal(mv_epi_isoweek(day_of("1969-12-29")), 197001);
  int32_t d;
  assert_int_equal(mv_epi_parse_date("2023-02-29", &d), MV_EPARSE);
  assert_int_equal(mv_epi_parse_date("2024-02-29", &d), MV_OK);
  assert_int_equal(mv_epi_parse_date("2024-13-01", &d), MV_EPARSE);
  assert_int_equal(mv_epi_parse_date("2024-1-01", &d), MV_EPARSE);
  assert_int_equal(mv_epi_parse_date("2024-01-0x", &d), MV_EPARSE);
}

static void aggregate_sums_by_region_and_week(void **state) {
  (void)state;
  struct mv_epi_report r[] = {
      {"north", day_of("2026-01-05"), 3}, /* Mon, W02 */
      {"north", day_of("2026-01-11"), 4}, /* Sun, W02 */
      {"south", day_of("2026-01-12"), 7}, /* Mon, W03 */
      {"north", day_of("2026-01-26"), 1}, /* W05; W04 is a gap */
      {"east", day_of("2026-01-06"), 0},
  };
  struct mv_epi_table *t = NULL;
  assert_int_equal(
      mv_epi_table_aggregate(r, 5, MV_EPI_PERIOD_ISOWEEK, &t, NULL), MV_OK);
  assert_int_equal(mv_epi_table_regions(t), 3);
  assert_int_equal(mv_epi_table_periods(t), 4);
  assert_string_equal(mv_epi_table_region(t, 0), "east");
  assert_string_equal(mv_epi_table_region(t, 1), "north");
  assert_int_equal(mv_epi_table_period(t, 0), 202602);
  assert_int_equal(mv_epi_table_period(t, 2), 202604);
  assert_int_equal(mv_epi_table_count(t, 1, 0, NULL), 7);
  assert_int_equal(mv_epi_table_count(t, 1, 3, NULL), 1);
  assert_int_equal(mv_epi_table_count(t, 2, 1, NULL), 7);
  assert_int_equal(mv_epi_table_region_total(t, 1), 8);
  assert_int_equal(mv_epi_table_period_total(t, 0), 7);
  assert_int_equal(mv_epi_table_total(t), 15);
  char *csv = NULL;
  size_t len;
  assert_int_equal(mv_epi_table_share_csv(t, &csv, &len), MV_EINVAL);
  assert_int_equal(mv_epi_table_suppress(t, 5), MV_OK);
  assert_int_equal(mv_epi_table_share_csv(t, &csv, &len), MV_OK);
  /* north W05 = 1 is hidden; the row total 8 is not small but 8 - 7 = 1,
   * so a second cell of that row (or its total) must be hidden too. */
  assert_non_null(strstr(csv, "north,2026-W05,,1\n"));
  assert_null(strstr(csv, ",1,0\n"));
  assert_true(strncmp(csv, "region,period,count,suppressed\n", 31) == 0);
  free(csv);
  mv_epi_table_free(t);

  struct mv_epi_report bad[] = {{"x", 0, -1}};
  struct mv_diag d;
  assert_int_equal(mv_epi_table_aggregate(bad, 1, MV_EPI_PERIOD_DAY, &t, &d),
                   MV_EINVAL);
  struct mv_epi_report noname[] = {{"", 0, 1}};
  assert_int_equal(mv_epi_table_aggregate(noname, 1, MV_EPI_PERIOD_DAY, &t, &d),
                   MV_EINVAL);
}

/* ---- audit ------------------------------------------------------------- */

/* Rank of an m x n matrix (row-major, destroyed), partial pivoting. */
static int rank_of(double *a, int m, int n) {
  int r = 0;
  for (int c = 0; c < n && r < m; c++) {
    int p = -1;
    double best = 1e-9;
    for (int i = r; i < m; i++)
      if (fabs(a[i * n + c]) > best) {
        best = fabs(a[i * n + c]);
        p = i;
      }
    if (p < 0)
      continue;
    for (int k = 0; k < n; k++) {
      double tmp = a[r * n + k];
      a[r * n + k] = a[p * n + k];
      a[p * n + k] = tmp;
    }
    for (int i = 0; i < m; i++) {
      if (i == r)
        continue;
      double f = a[i * n + c] / a[r * n + c];
      for (int k = 0; k < n; k++)
        a[i * n + k] -= f * a[r * n + k];
    }
    r++;
  }
  return r;
}

static uint64_t lcg_state;
static uint32_t lcg(void) {
  lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg_state >> 33);
}

/* Checks one suppressed table; returns the number of problems. */
static int audit(const struct mv_epi_table *t, int64_t min_count) {
  size_t R = mv_epi_table_regions(t), P = mv_epi_table_periods(t);
  int problems = 0;
  /* extended grid values / hidden flags */
  size_t W = P + 1, N = (R + 1) * W;
  int64_t *v = calloc(N, sizeof *v);
  int *hid = calloc(N, sizeof *hid);
  int *col = calloc(N, sizeof *col);
  for (size_t i = 0; i < R; i++)
    for (size_t j = 0; j < P; j++) {
      enum mv_epi_cell_state s;
      v[i * W + j] = mv_epi_table_count(t, i, j, &s);
      hid[i * W + j] = s != MV_EPI_CELL_SHOWN;
      if (v[i * W + j] >= 1 && v[i * W + j] < min_count && !hid[i * W + j])
        problems++; /* a small count published */
    }
  /* margins: recover their state through the CSV is overkill; recompute
   * hidden flags from the public API is not possible, so read the CSV. */
  char *csv = NULL;
  size_t len;
  assert_int_equal(mv_epi_table_share_csv(t, &csv, &len), MV_OK);
  for (size_t i = 0; i <= R; i++) {
    int64_t tot =
        i < R ? mv_epi_table_region_total(t, i) : mv_epi_table_total(t);
    v[i * W + P] = tot;
  }
  for (size_t j = 0; j < P; j++)
    v[R * W + j] = mv_epi_table_period_total(t, j);
  /* parse the margin rows of the CSV in order: R region totals, P period
   * totals, grand total (the CSV layout is the contract). */
  char *line = strchr(csv, '\n') + 1;
  for (size_t k = 0; k < R * P; k++)
    line = strchr(line, '\n') + 1;
  for (size_t k = 0; k < R + P + 1; k++) {
    char *nl = strchr(line, '\n');
    int h = nl[-1] == '1';
    size_t idx = k < R ? k * W + P : (k < R + P ? R * W + (k - R) : R * W + P);
    hid[idx] = h;
    if (!h && v[idx] >= 1 && v[idx] < min_count)
      problems++;
    line = nl + 1;
  }
  free(csv);
  int S = 0;
  for (size_t c = 0; c < N; c++)
    if (hid[c])
      col[c] = S++;
  if (S > 0) {
    int M = (int)(R + 1 + P + 1);
    double *A = calloc((size_t)(M + 1) * (size_t)S, sizeof *A);
    double *B = calloc((size_t)(M + 1) * (size_t)S, sizeof *B);
    int row = 0;
    for (size_t i = 0; i <= R; i++, row++) {
      for (size_t j = 0; j < P; j++)
        if (hid[i * W + j])
          A[row * S + col[i * W + j]] += 1.0;
      if (hid[i * W + P])
        A[row * S + col[i * W + P]] -= 1.0;
    }
    for (size_t j = 0; j <= P; j++, row++) {
      for (size_t i = 0; i < R; i++)
        if (hid[i * W + j])
          A[row * S + col[i * W + j]] += 1.0;
      if (hid[R * W + j])
        A[row * S + col[R * W + j]] -= 1.0;
    }
    memcpy(B, A, (size_t)M * (size_t)S * sizeof *A);
    int base = rank_of(B, M, S);
    for (size_t c = 0; c < N; c++) {
      if (!hid[c] || !(v[c] >= 1 && v[c] < min_count))
        continue;
      memcpy(B, A, (size_t)M * (size_t)S * sizeof *A);
      memset(B + (size_t)M * (size_t)S, 0, (size_t)S * sizeof *B);
      B[(size_t)M * (size_t)S + (size_t)col[c]] = 1.0;
      if (rank_of(B, M + 1, S) == base) {
        problems++; /* determined by the margins */
        if (problems < 4)
          printf("cell %zu (value %lld) is determined by the margins\n", c,
                 (long long)v[c]);
      }
    }
    free(A);
    free(B);
  }
  free(v);
  free(hid);
  free(col);
  return problems;
}

static void suppressed_small_counts_cannot_be_recovered(void **state) {
  (void)state;
  char names[8][24];
  int problems = 0, tables = 0, with_primary = 0;
  for (int trial = 0; trial < 400; trial++) {
    lcg_state = (uint64_t)trial * 7919u + 1u;
    size_t R = 1 + lcg() % 6, P = 1 + lcg() % 7;
    struct mv_epi_report rep[64];
    size_t n = 0;
    int sparsity = (int)(lcg() % 3);
    for (size_t i = 0; i < R; i++) {
      snprintf(names[i], sizeof names[i], "r%zu", i);
      for (size_t j = 0; j < P; j++) {
        uint32_t u = lcg() % 10;
        int64_t c = u < 3 + (uint32_t)sparsity ? (int64_t)(lcg() % 5)
                                               : (int64_t)(lcg() % 40);
        rep[n++] = (struct mv_epi_report){names[i], (int32_t)(20000 + j), c};
      }
    }
    struct mv_epi_table *t = NULL;
    assert_int_equal(
        mv_epi_table_aggregate(rep, n, MV_EPI_PERIOD_DAY, &t, NULL), MV_OK);
    assert_int_equal(mv_epi_table_suppress(t, 5), MV_OK);
    assert_int_equal(mv_epi_table_suppress(t, 5), MV_OK); /* idempotent */
    for (size_t i = 0; i < R; i++)
      for (size_t j = 0; j < P; j++) {
        enum mv_epi_cell_state s;
        int64_t c = mv_epi_table_count(t, i, j, &s);
        if (c >= 1 && c <= 4)
          with_primary++, assert_int_equal(s, MV_EPI_CELL_PRIMARY);
      }
    problems += audit(t, 5);
    tables++;
    mv_epi_table_free(t);
  }
  printf("%d tables audited, %d primary cells, %d problems\n", tables,
         with_primary, problems);
  assert_true(with_primary > 100);
  assert_int_equal(problems, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(isoweek_and_dates),
      cmocka_unit_test(aggregate_sums_by_region_and_week),
      cmocka_unit_test(suppressed_small_counts_cannot_be_recovered),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RKI algorithm (src/epi/rki.c): R-computed fixtures, the table bound
 * for a reference mean <= 20 (checked against the shared rki_CIdata.csv
 * when present), mean + 2 sd above 20, and the strict > alarm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>

#include "detect_golden.h"
#include "detect_int.h"

static void rki_fixtures_match_r(void **state) {
  (void)state;
  assert_int_equal(dg_fixtures("rki"), 0);
}

static void rki_table_matches_shared_cidata(void **state) {
  (void)state;
  const char *data = getenv("MV_SHARED_DATA");
  char path[2048];
  snprintf(path, sizeof(path), "%s/surveillance/golden/rki_CIdata.csv",
           data ? data : "/nonexistent");
  size_t len;
  char *text = dg_slurp(path, &len);
  if (!text) {
    printf("SKIP: %s not found\n", path);
    skip();
  }
  struct mv_csv *c = NULL;
  assert_int_equal(mv_csv_open_mem(text, len, &c), MV_OK);
  char **f;
  size_t nf;
  int rows = 0;
  assert_int_equal(mv_csv_next(c, &f, &nf, NULL), MV_OK);
  long cm = mv_csv_find(f, nf, "mu"), co = mv_csv_find(f, nf, "O");
  while (mv_csv_next(c, &f, &nf, NULL) == MV_OK) {
    int mu = (int)strtol(f[cm], NULL, 10);
    assert_true(mu >= 0 && mu <= 20);
    assert_true(mv__epi_rki_table[mu] == strtod(f[co], NULL));
    rows++;
  }
  assert_int_equal(rows, 21);
  mv_csv_free(c);
  free(text);
}

static void rki_small_and_large_means(void **state) {
  (void)state;
  /* b = 0, w = 4, actY: reference = the 4 previous values */
  const double y[10] = {3, 3, 4, 3, 9, 30, 22, 25, 28, 40};
  struct mv_epi_series s = {.observed = y, .n = 10, .freq = 52};
  struct mv_epi_detect_ctl c;
  struct mv_epi_detect_point p[10];
  size_t n;
  mv_epi_detect_defaults(MV_EPI_RKI, &c);
  c.rki.b = 0;
  c.rki.act_y = true;
  assert_int_equal(mv_epi_detect(&s, &c, p, &n, NULL), MV_OK);
  assert_int_equal(p[0].t, 5);
  /* t = 5: mean(3,3,4,3) = 3.25 -> row 3 of the table: 8.102; 9 > 8.102 */
  assert_true(p[0].upperbound == 8.102);
  assert_int_equal(p[0].alarm, 1);
  /* t = 10: mean(30,22,25,28) = 26.25 > 20 -> mean + 2 sd */
  double m = 26.25, v = 0;
  const double r[4] = {30, 22, 25, 28};
  for (int i = 0; i < 4; i++)
    v += (r[i] - m) * (r[i] - m);
  double u = m + 2 * sqrt(v / 3);
  assert_true(fabs(p[5].upperbound - u) < 1e-12 * u);
  assert_int_equal(p[5].alarm, 40 > u ? 1 : 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rki_fixtures_match_r),
      cmocka_unit_test(rki_table_matches_shared_cidata),
      cmocka_unit_test(rki_small_and_large_means),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

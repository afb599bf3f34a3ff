/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every surveillance golden of the shared data (surv_*__<function>__*.csv,
 * computed with R surveillance 1.20.3) reproduced by mv_epi_detect: upper
 * bounds to a relative error of 1e-9 (NA and NaN distinct), alarms
 * identical (NA distinct from 0). One test per method family; each prints
 * one PASS/FAIL line per golden. Skips when MV_SHARED_DATA is absent.
 * MV_DETECT_GOLDEN_DIR=DIR checks instead the goldens (and inputs) in DIR,
 * e.g. ones made with tests/data/epi/detect/gen_detect.R.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_golden.h"

static int run_family(const char *func) {
  const char *data = getenv("MV_SHARED_DATA");
  const char *extra = getenv("MV_DETECT_GOLDEN_DIR");
  char dir[2048], sdir[2048];
  if (extra) { /* goldens made with tests/data/epi/detect/gen_detect.R */
    snprintf(dir, sizeof(dir), "%s", extra);
    snprintf(sdir, sizeof(sdir), "%s", extra);
  } else {
    if (!data)
      return -1;
    snprintf(sdir, sizeof(sdir), "%s/surveillance", data);
    snprintf(dir, sizeof(dir), "%s/surveillance/golden", data);
  }
  return dg_family(dir, sdir, "", func);
}

static void family(const char *func) {
  int f = run_family(func);
  if (f < 0) {
    printf("SKIP: MV_SHARED_DATA/surveillance/golden not found\n");
    skip();
  }
  assert_int_equal(f, 0);
}

static void golden_ears(void **state) {
  (void)state;
  int a = run_family("earsC_C1"), b = run_family("earsC_C2");
  int c = run_family("earsC_C3");
  if (a < 0 && b < 0 && c < 0) {
    printf("SKIP: no earsC goldens found\n");
    skip();
  }
  assert_int_equal((a > 0 ? a : 0) + (b > 0 ? b : 0) + (c > 0 ? c : 0), 0);
}

static void golden_cusum(void **state) {
  (void)state;
  family("cusum");
}

static void golden_bayes(void **state) {
  (void)state;
  family("bayes");
}

static void golden_rki(void **state) {
  (void)state;
  family("rki");
}

static void golden_farrington(void **state) {
  (void)state;
  family("farringtonFlexible");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(golden_ears),       cmocka_unit_test(golden_cusum),
      cmocka_unit_test(golden_bayes),      cmocka_unit_test(golden_rki),
      cmocka_unit_test(golden_farrington),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

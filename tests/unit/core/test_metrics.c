/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the Prometheus exposition helpers and histograms (metrics.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mv_err.h"
#include "mv_metrics.h"

static const double le[] = {0.5, 1, 2.5};

static void hist_counts_into_first_bucket_at_or_above(void **state) {
  (void)state;
  struct mv_hist h;
  mv_hist_init(&h, le, MV_ARRAY_LEN(le));
  mv_hist_observe(&h, 0.5); /* le is inclusive */
  mv_hist_observe(&h, 0.6);
  mv_hist_observe(&h, 1.0);
  mv_hist_observe(&h, 3.0); /* +Inf */
  mv_hist_observe(&h, -1.0);
  assert_int_equal(h.bucket[0], 2);
  assert_int_equal(h.bucket[1], 2);
  assert_int_equal(h.bucket[2], 0);
  assert_int_equal(h.bucket[3], 1);
  assert_int_equal(h.count, 5);
  assert_true(h.sum > 4.09 && h.sum < 4.11);
}

static void hist_write_is_cumulative_with_inf_and_labels(void **state) {
  (void)state;
  struct mv_hist h;
  struct mv_buf b;
  mv_hist_init(&h, le, MV_ARRAY_LEN(le));
  mv_hist_observe(&h, 0.1);
  mv_hist_observe(&h, 2.0);
  mv_hist_observe(&h, 9.0);
  mv_buf_init(&b, 4096);
  assert_int_equal(mv_metrics_write_hist(&b, "x_seconds", "route=\"/a\"", &h),
                   MV_OK);
  assert_string_equal(mv_buf_cstr(&b),
                      "x_seconds_bucket{route=\"/a\",le=\"0.5\"} 1\n"
                      "x_seconds_bucket{route=\"/a\",le=\"1\"} 1\n"
                      "x_seconds_bucket{route=\"/a\",le=\"2.5\"} 2\n"
                      "x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"
                      "x_seconds_sum{route=\"/a\"} 11.1\n"
                      "x_seconds_count{route=\"/a\"} 3\n");
  mv_buf_reset(&b);
  assert_int_equal(mv_metrics_write_hist(&b, "y", NULL, &h), MV_OK);
  assert_non_null(strstr(mv_buf_cstr(&b),
                         "y_bucket{le=\"+Inf\"} 3\ny_sum 11.1\n"
                         "y_count 3\n"));
  mv_buf_release(&b);
}

static void scalar_has_help_and_type(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 4096);
  assert_int_equal(
      mv_metrics_write_scalar(&b, "n_total", "counter", "Things.", 7), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "# HELP n_total Things.\n"
                                       "# TYPE n_total counter\nn_total 7\n");
  mv_buf_release(&b);
}

static void label_values_are_escaped(void **state) {
  (void)state;
  struct mv_buf b;
  mv_buf_init(&b, 4096);
  assert_int_equal(mv_metrics_write_label_value(&b, "a\"b\\c\nd"), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "a\\\"b\\\\c\\nd");
  mv_buf_release(&b);
}

static void writes_fail_cleanly_past_the_buffer_cap(void **state) {
  (void)state;
  struct mv_hist h;
  struct mv_buf b;
  mv_hist_init(&h, le, MV_ARRAY_LEN(le));
  mv_buf_init(&b, 40);
  assert_int_equal(mv_metrics_write_hist(&b, "long_metric_name", NULL, &h),
                   MV_ETOOBIG);
  assert_true(b.len <= 40);
  mv_buf_release(&b);
}

static void hist_init_clamps_bucket_count(void **state) {
  (void)state;
  static const double many[MV_HIST_BUCKETS_MAX + 4] = {1, 2, 3};
  struct mv_hist h;
  mv_hist_init(&h, many, MV_ARRAY_LEN(many));
  assert_int_equal(h.n_le, MV_HIST_BUCKETS_MAX);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hist_counts_into_first_bucket_at_or_above),
      cmocka_unit_test(hist_write_is_cumulative_with_inf_and_labels),
      cmocka_unit_test(scalar_has_help_and_type),
      cmocka_unit_test(label_values_are_escaped),
      cmocka_unit_test(writes_fail_cleanly_past_the_buffer_cap),
      cmocka_unit_test(hist_init_clamps_bucket_count),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

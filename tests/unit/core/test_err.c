/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the error model (src/core/err.c): the names, messages and HTTP
 * statuses generated from MV_ERR_MAP, and the struct mv_diag helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "mv_err.h"

static const int all_codes[] = {
#define X(name, code, msg, http) MV_E##name,
    MV_ERR_MAP(X)
#undef X
};

static void err_codes_have_distinct_names_and_messages(void **state) {
  (void)state;
  for (size_t i = 0; i < MV_ARRAY_LEN(all_codes); i++) {
    const char *ni = mv_err_name(all_codes[i]);
    const char *mi = mv_strerror(all_codes[i]);
    assert_non_null(ni);
    assert_non_null(mi);
    assert_string_not_equal(ni, "MV_E?");
    assert_string_not_equal(mi, "unknown error");
    for (size_t j = i + 1; j < MV_ARRAY_LEN(all_codes); j++) {
      assert_int_not_equal(all_codes[i], all_codes[j]);
      assert_string_not_equal(ni, mv_err_name(all_codes[j]));
      assert_string_not_equal(mi, mv_strerror(all_codes[j]));
    }
  }
}

static void err_codes_are_zero_or_negative(void **state) {
  (void)state;
  for (size_t i = 0; i < MV_ARRAY_LEN(all_codes); i++)
    assert_true(all_codes[i] <= 0);
  assert_int_equal(MV_OK, 0);
}

static void err_ok_is_named_mv_ok(void **state) {
  (void)state;
  assert_string_equal(mv_err_name(MV_OK), "MV_OK");
  assert_string_equal(mv_strerror(MV_OK), "success");
  assert_int_equal(mv_err_http_status(MV_OK), 200);
}

static void err_names_carry_the_prefix(void **state) {
  (void)state;
  assert_string_equal(mv_err_name(MV_ETOOBIG), "MV_ETOOBIG");
  assert_string_equal(mv_err_name(MV_ENOTFOUND), "MV_ENOTFOUND");
  assert_string_equal(mv_strerror(MV_ENOMEM), "out of memory");
}

static void err_http_status_mapping(void **state) {
  (void)state;
  assert_int_equal(mv_err_http_status(MV_ETOOBIG), 413);
  assert_int_equal(mv_err_http_status(MV_ENOTFOUND), 404);
  assert_int_equal(mv_err_http_status(MV_EPARSE), 400);
  assert_int_equal(mv_err_http_status(MV_EAUTH), 401);
  assert_int_equal(mv_err_http_status(MV_EPERM), 403);
  assert_int_equal(mv_err_http_status(MV_EMETHOD), 405);
  assert_int_equal(mv_err_http_status(MV_EEXISTS), 409);
  assert_int_equal(mv_err_http_status(MV_EGONE), 410);
  assert_int_equal(mv_err_http_status(MV_ECONFLICT), 412);
  assert_int_equal(mv_err_http_status(MV_EUNSUPPORTED), 415);
  assert_int_equal(mv_err_http_status(MV_EBUSY), 503);
  assert_int_equal(mv_err_http_status(MV_ETIMEOUT), 504);
  assert_int_equal(mv_err_http_status(MV_EINTERNAL), 500);
  assert_int_equal(mv_err_http_status(MV_ERATE), 429);
  assert_int_equal(mv_err_http_status(MV_EINVALID), 422);
}

static void err_unknown_code_has_fallbacks(void **state) {
  (void)state;
  const int unknown[] = {1, -9999, 42, MV_EINVALID - 1};
  for (size_t i = 0; i < MV_ARRAY_LEN(unknown); i++) {
    assert_string_equal(mv_err_name(unknown[i]), "MV_E?");
    assert_string_equal(mv_strerror(unknown[i]), "unknown error");
    assert_int_equal(mv_err_http_status(unknown[i]), 500);
  }
}

static void diag_clear_resets_every_field(void **state) {
  (void)state;
  struct mv_diag d;
  memset(&d, 0x5a, sizeof(d));
  mv_diag_clear(&d);
  assert_int_equal(d.err, MV_OK);
  assert_string_equal(d.msg, "");
  assert_string_equal(d.path, "");
  assert_int_equal(d.line, 0);
  assert_int_equal(d.col, 0);
  assert_int_equal(d.offset, -1);
}

static void diag_set_records_code_and_message(void **state) {
  (void)state;
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_diag_set(&d, MV_EPARSE, "bad %s at %d", "token", 7);
  assert_int_equal(rc, MV_EPARSE);
  assert_int_equal(d.err, MV_EPARSE);
  assert_string_equal(d.msg, "bad token at 7");
}

static void diag_set_truncates_long_message(void **state) {
  (void)state;
  struct mv_diag d;
  char big[1000];
  mv_diag_clear(&d);
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(mv_diag_set(&d, MV_EINVAL, "%s", big), MV_EINVAL);
  assert_int_equal(strlen(d.msg), sizeof(d.msg) - 1);
  assert_int_equal(d.msg[0], 'a');
}

static void diag_set_path_copies_and_truncates(void **state) {
  (void)state;
  struct mv_diag d;
  char big[500];
  mv_diag_clear(&d);
  char path[] = "Observation.code";
  mv_diag_set_path(&d, path);
  path[0] = 'X'; /* the diag holds a copy */
  assert_string_equal(d.path, "Observation.code");
  memset(big, 'p', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  mv_diag_set_path(&d, big);
  assert_int_equal(strlen(d.path), sizeof(d.path) - 1);
  mv_diag_set_path(&d, NULL);
  assert_string_equal(d.path, "");
}

static void diag_null_is_accepted(void **state) {
  (void)state;
  mv_diag_clear(NULL);
  assert_int_equal(mv_diag_set(NULL, MV_ERANGE, "x %d", 1), MV_ERANGE);
  mv_diag_set_path(NULL, "p");
  char buf[64];
  const char *s = mv_diag_format(NULL, buf, sizeof(buf));
  assert_string_equal(s, "");
}

static void diag_format_includes_present_parts(void **state) {
  (void)state;
  struct mv_diag d;
  char buf[512];
  mv_diag_clear(&d);
  mv_diag_set(&d, MV_EPARSE, "unexpected '}'");
  assert_string_equal(mv_diag_format(&d, buf, sizeof(buf)), "unexpected '}'");
  mv_diag_set_path(&d, "app.conf");
  assert_string_equal(mv_diag_format(&d, buf, sizeof(buf)),
                      "app.conf: unexpected '}'");
  d.line = 3;
  assert_string_equal(mv_diag_format(&d, buf, sizeof(buf)),
                      "app.conf:3: unexpected '}'");
  d.col = 14;
  assert_string_equal(mv_diag_format(&d, buf, sizeof(buf)),
                      "app.conf:3:14: unexpected '}'");
}

static void diag_format_without_message_uses_strerror(void **state) {
  (void)state;
  struct mv_diag d;
  char buf[128];
  mv_diag_clear(&d);
  d.err = MV_ETOOBIG;
  assert_string_equal(mv_diag_format(&d, buf, sizeof(buf)),
                      "input exceeds a configured limit");
}

static void diag_format_truncates_to_buffer(void **state) {
  (void)state;
  struct mv_diag d;
  char buf[12];
  mv_diag_clear(&d);
  mv_diag_set(&d, MV_EPARSE, "a rather long message that will not fit");
  mv_diag_set_path(&d, "some/file.conf");
  d.line = 12;
  memset(buf, 'Z', sizeof(buf));
  const char *s = mv_diag_format(&d, buf, sizeof(buf));
  assert_ptr_equal(s, buf);
  assert_int_equal(strlen(buf), sizeof(buf) - 1);
  assert_memory_equal(buf, "some/file.c", sizeof(buf) - 1);
  /* A zero-length buffer is left alone. */
  char one = 'Q';
  assert_string_equal(mv_diag_format(&d, &one, 0), "");
  assert_int_equal(one, 'Q');
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(err_codes_have_distinct_names_and_messages),
      cmocka_unit_test(err_codes_are_zero_or_negative),
      cmocka_unit_test(err_ok_is_named_mv_ok),
      cmocka_unit_test(err_names_carry_the_prefix),
      cmocka_unit_test(err_http_status_mapping),
      cmocka_unit_test(err_unknown_code_has_fallbacks),
      cmocka_unit_test(diag_clear_resets_every_field),
      cmocka_unit_test(diag_set_records_code_and_message),
      cmocka_unit_test(diag_set_truncates_long_message),
      cmocka_unit_test(diag_set_path_copies_and_truncates),
      cmocka_unit_test(diag_null_is_accepted),
      cmocka_unit_test(diag_format_includes_present_parts),
      cmocka_unit_test(diag_format_without_message_uses_strerror),
      cmocka_unit_test(diag_format_truncates_to_buffer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

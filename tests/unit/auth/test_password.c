/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for Argon2id password hashing (src/auth/password.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mv_auth.h"

static void hash_then_verify_accepts_the_password_only(void **state) {
  (void)state;
  char h[MV_AUTH_HASH_LEN];
  const char pw[] = "correct horse battery";
  assert_int_equal(mv_auth_password_hash(pw, strlen(pw), h), MV_OK);
  assert_non_null(strstr(h, "$argon2id$"));
  assert_int_equal(mv_auth_password_verify(h, pw, strlen(pw)), MV_OK);
  assert_int_equal(mv_auth_password_verify(h, "correct horse batterY", 21),
                   MV_EAUTH);
  /* A prefix of the right password is a different password. */
  assert_int_equal(mv_auth_password_verify(h, pw, strlen(pw) - 1), MV_EAUTH);
}

static void hash_salts_every_call(void **state) {
  (void)state;
  char a[MV_AUTH_HASH_LEN], b[MV_AUTH_HASH_LEN];
  assert_int_equal(mv_auth_password_hash("password1", 9, a), MV_OK);
  assert_int_equal(mv_auth_password_hash("password1", 9, b), MV_OK);
  assert_string_not_equal(a, b);
}

static void length_bounds_are_8_to_1024_bytes(void **state) {
  (void)state;
  char h[MV_AUTH_HASH_LEN];
  static char big[MV_AUTH_PASSWORD_MAX + 1];
  memset(big, 'x', sizeof(big));
  assert_int_equal(mv_auth_password_hash("1234567", 7, h), MV_EINVAL);
  assert_int_equal(mv_auth_password_hash(big, MV_AUTH_PASSWORD_MAX + 1, h),
                   MV_EINVAL);
  assert_int_equal(mv_auth_password_hash(NULL, 8, h), MV_EINVAL);
  assert_int_equal(mv_auth_password_hash(big, MV_AUTH_PASSWORD_MAX, h), MV_OK);
  assert_int_equal(mv_auth_password_verify(h, big, MV_AUTH_PASSWORD_MAX),
                   MV_OK);
  /* Too long to verify is a mismatch, not a different error. */
  assert_int_equal(mv_auth_password_verify(h, big, MV_AUTH_PASSWORD_MAX + 1),
                   MV_EAUTH);
  assert_int_equal(mv_auth_password_hash("12345678", 8, h), MV_OK);
  assert_int_equal(mv_auth_password_verify(h, "1234567", 7), MV_EAUTH);
}

static void passwords_are_bytes_not_c_strings(void **state) {
  (void)state;
  char h[MV_AUTH_HASH_LEN];
  const char pw[] = "abc\0defghij";
  assert_int_equal(mv_auth_password_hash(pw, sizeof(pw) - 1, h), MV_OK);
  assert_int_equal(mv_auth_password_verify(h, pw, sizeof(pw) - 1), MV_OK);
  assert_int_equal(mv_auth_password_verify(h, "abc\0xxxxxxx", 11), MV_EAUTH);
}

static void malformed_hashes_never_verify(void **state) {
  (void)state;
  char unterminated[MV_AUTH_HASH_LEN];
  memset(unterminated, 'a', sizeof(unterminated));
  assert_int_equal(mv_auth_password_verify("", "password", 8), MV_EAUTH);
  assert_int_equal(
      mv_auth_password_verify("$argon2id$v=19$garbage", "password", 8),
      MV_EAUTH);
  assert_int_equal(mv_auth_password_verify(unterminated, "password", 8),
                   MV_EAUTH);
  assert_int_equal(mv_auth_password_verify(NULL, "password", 8), MV_EAUTH);
  assert_int_equal(mv_auth_password_verify("x", NULL, 8), MV_EAUTH);
}

static void dummy_verify_always_fails(void **state) {
  (void)state;
  assert_int_equal(mv_auth_password_verify_dummy("password", 8), MV_EAUTH);
  assert_int_equal(mv_auth_password_verify_dummy("", 0), MV_EAUTH);
  assert_int_equal(mv_auth_password_verify_dummy(NULL, 8), MV_EAUTH);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hash_then_verify_accepts_the_password_only),
      cmocka_unit_test(hash_salts_every_call),
      cmocka_unit_test(length_bounds_are_8_to_1024_bytes),
      cmocka_unit_test(passwords_are_bytes_not_c_strings),
      cmocka_unit_test(malformed_hashes_never_verify),
      cmocka_unit_test(dummy_verify_always_fails),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

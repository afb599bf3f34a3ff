/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for MAC'd bearer tokens (src/auth/token.c): round trip, tampering
 * with every byte, expiry, wrong key, truncation and strict payloads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "mv_auth.h"

static const uint8_t key[MV_AUTH_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
#define NOW 1700000000000000LL
#define SEC 1000000LL

static struct mv_auth_principal clinician(void) {
  struct mv_auth_principal p;
  memset(&p, 0, sizeof(p));
  snprintf(p.sub, sizeof(p.sub), "dr.who@example");
  p.role = MV_AUTH_ROLE_CLINICIAN;
  snprintf(p.fhir_id, sizeof(p.fhir_id), "prac-1");
  snprintf(p.org_id, sizeof(p.org_id), "org.2");
  assert_int_equal(mv_auth_scopes_default(p.role, &p.scopes), MV_OK);
  return p;
}

static void issue(const struct mv_auth_principal *p, char *out, size_t cap) {
  assert_int_equal(mv_auth_token_issue(key, p, NOW, 3600, out, cap), MV_OK);
}

static int verify(const char *tok, size_t len, int64_t now,
                  struct mv_auth_principal *out) {
  return mv_auth_token_verify(key, tok, len, now, out);
}

static void issue_then_verify_round_trips(void **state) {
  (void)state;
  struct mv_auth_principal p = clinician(), got;
  char tok[MV_AUTH_TOKEN_MAX + 1];
  issue(&p, tok, sizeof(tok));
  assert_int_equal(strncmp(tok, "mv1.", 4), 0);
  for (const char *c = tok; *c; c++)
    assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789-_.",
                       *c));
  assert_int_equal(verify(tok, strlen(tok), NOW + 10, &got), MV_OK);
  assert_string_equal(got.sub, p.sub);
  assert_int_equal(got.role, p.role);
  assert_string_equal(got.fhir_id, p.fhir_id);
  assert_string_equal(got.org_id, p.org_id);
  assert_int_equal(got.exp_us, NOW + 3600 * SEC);
  assert_int_equal(got.scopes.n, p.scopes.n);
  assert_memory_equal(&got.scopes, &p.scopes, sizeof(p.scopes));
}

static void subs_needing_json_escapes_round_trip(void **state) {
  (void)state;
  struct mv_auth_principal p = clinician(), got;
  snprintf(p.sub, sizeof(p.sub), "a\"b\\c/d");
  p.fhir_id[0] = p.org_id[0] = '\0';
  p.role = MV_AUTH_ROLE_PATIENT;
  assert_int_equal(mv_auth_scopes_parse("", 0, &p.scopes), MV_OK);
  char tok[MV_AUTH_TOKEN_MAX + 1];
  issue(&p, tok, sizeof(tok));
  assert_int_equal(verify(tok, strlen(tok), NOW, &got), MV_OK);
  assert_string_equal(got.sub, "a\"b\\c/d");
  assert_string_equal(got.fhir_id, "");
  assert_int_equal(got.scopes.n, 0);
}

static void every_token_is_unique(void **state) {
  (void)state;
  struct mv_auth_principal p = clinician();
  char a[MV_AUTH_TOKEN_MAX + 1], b[MV_AUTH_TOKEN_MAX + 1];
  issue(&p, a, sizeof(a));
  issue(&p, b, sizeof(b));
  assert_string_not_equal(a, b); /* random jti */
}

static void flipping_any_byte_is_rejected(void **state) {
  (void)state;
  struct mv_auth_principal p = clinician(), got;
  char tok[MV_AUTH_TOKEN_MAX + 1];
  issue(&p, tok, sizeof(tok));
  size_t len = strlen(tok);
  static const uint8_t flips[] = {0x01, 0x02, 0x20, 0x80};
  for (size_t i = 0; i < len; i++)
    for (size_t f = 0; f < MV_ARRAY_LEN(flips); f++) {
      memset(&got, 0xA5, sizeof(got));
      struct mv_auth_principal before = got;
      tok[i] = (char)(tok[i] ^ flips[f]);
      int rc = verify(tok, len, NOW, &got);
      tok[i] = (char)(tok[i] ^ flips[f]);
      if (rc != MV_EAUTH)
        fail_msg("byte %zu ^ 0x%02x accepted", i, flips[f]);
      assert_memory_equal(&got, &before, sizeof(got)); /* untouched */
    }
  assert_int_equal(verify(tok, len, NOW, &got), MV_OK);
}

static void expired_tokens_are_rejected(void **state) {
  (void)state;
  struct mv_auth_principal p = clinician(), got;
  char tok[MV_AUTH_TOKEN_MAX + 1];
  issue(&p, tok, sizeof(tok));
  size_t len = strlen(tok);
  assert_int_equal(verify(tok, len, NOW + 3600 * SEC - 1, &got), MV_OK);
  assert_int_equal(verify(tok, len, NOW + 3600 * SEC, &got), MV_EAUTH);
  assert_int_equal(verify(tok, len, INT64_MAX, &got), MV_EAUTH);
}

static void wrong_key_is_rejected(void **state) {
  (void)state;
  struct mv_auth_principal p = clinician(), got;
  char tok[MV_AUTH_TOKEN_MAX + 1];
  issue(&p, tok, sizeof(tok));
  uint8_t other[MV_AUTH_KEY_LEN];
  memcpy(other, key, sizeof(other));
  other[31] ^= 1;
  assert_int_equal(mv_auth_token_verify(other, tok, strlen(tok), NOW, &got),
                   MV_EAUTH);
}

static void truncated_and_extended_tokens_are_rejected(void **state) {
  (void)state;
  struct mv_auth_principal p = clinician(), got;
  char tok[MV_AUTH_TOKEN_MAX + 8];
  issue(&p, tok, sizeof(tok));
  size_t len = strlen(tok);
  for (size_t n = 0; n < len; n++)
    assert_int_equal(verify(tok, n, NOW, &got), MV_EAUTH);
  /* Dropping the front instead. */
  for (size_t k = 1; k < len; k++)
    assert_int_equal(verify(tok + k, len - k, NOW, &got), MV_EAUTH);
  memcpy(tok + len, "A", 2);
  assert_int_equal(verify(tok, len + 1, NOW, &got), MV_EAUTH);
  tok[len] = '\0';
  assert_int_equal(verify(tok, len, NOW, &got), MV_OK);
  assert_int_equal(verify(NULL, 0, NOW, &got), MV_EAUTH);
  assert_int_equal(verify(tok, len, NOW, NULL), MV_EAUTH);
  assert_int_equal(
      mv_auth_token_verify(key, tok, MV_AUTH_TOKEN_MAX + 1, NOW, &got),
      MV_EAUTH);
}

static void issue_checks_its_arguments(void **state) {
  (void)state;
  struct mv_auth_principal p = clinician();
  char tok[MV_AUTH_TOKEN_MAX + 1], small[64];
  assert_int_equal(mv_auth_token_issue(key, &p, NOW, 0, tok, sizeof(tok)),
                   MV_EINVAL);
  assert_int_equal(mv_auth_token_issue(key, &p, NOW, MV_AUTH_TOKEN_TTL_MAX + 1,
                                       tok, sizeof(tok)),
                   MV_EINVAL);
  assert_int_equal(mv_auth_token_issue(key, &p, NOW, 60, small, sizeof(small)),
                   MV_ETOOBIG);
  struct mv_auth_principal q = p;
  q.sub[0] = '\0';
  assert_int_equal(mv_auth_token_issue(key, &q, NOW, 60, tok, sizeof(tok)),
                   MV_EINVAL);
  q = p;
  memset(q.sub, 'x', sizeof(q.sub)); /* unterminated */
  assert_int_equal(mv_auth_token_issue(key, &q, NOW, 60, tok, sizeof(tok)),
                   MV_EINVAL);
  q = p;
  q.role = MV_AUTH_ROLE_NONE;
  assert_int_equal(mv_auth_token_issue(key, &q, NOW, 60, tok, sizeof(tok)),
                   MV_EINVAL);
  q = p;
  snprintf(q.fhir_id, sizeof(q.fhir_id), "bad id");
  assert_int_equal(mv_auth_token_issue(key, &q, NOW, 60, tok, sizeof(tok)),
                   MV_EINVAL);
  q = p;
  snprintf(q.sub, sizeof(q.sub), "has space");
  assert_int_equal(mv_auth_token_issue(key, &q, NOW, 60, tok, sizeof(tok)),
                   MV_EINVAL);
}

static void largest_principal_fits_the_cap(void **state) {
  (void)state;
  struct mv_auth_principal p, got;
  memset(&p, 0, sizeof(p));
  memset(p.sub, '"', MV_AUTH_ID_LEN); /* every byte escaped in JSON */
  memset(p.fhir_id, 'f', MV_AUTH_ID_LEN);
  memset(p.org_id, 'o', MV_AUTH_ID_LEN);
  p.role = MV_AUTH_ROLE_ADMIN;
  for (unsigned i = 0; i < MV_AUTH_SCOPES_MAX; i++) {
    struct mv_auth_scope *s = &p.scopes.s[i];
    s->ctx = MV_AUTH_CTX_PATIENT;
    s->access = MV_AUTH_ACCESS_WRITE;
    memset(s->type, 'a', MV_AUTH_ID_LEN);
    s->type[0] = 'A';
    s->type[1] = (char)('a' + i);
  }
  p.scopes.n = MV_AUTH_SCOPES_MAX;
  char tok[MV_AUTH_TOKEN_MAX + 1];
  issue(&p, tok, sizeof(tok));
  assert_true(strlen(tok) <= MV_AUTH_TOKEN_MAX);
  assert_int_equal(verify(tok, strlen(tok), NOW, &got), MV_OK);
  assert_int_equal(got.scopes.n, MV_AUTH_SCOPES_MAX);
}

/* A token with a valid tag over an arbitrary payload: what a holder of the
 * key could make, to check the payload parser is strict on its own. */
static void forge(const char *payload, char *out, size_t cap) {
  const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  uint8_t tag[crypto_auth_hmacsha256_BYTES];
  memcpy(out, "mv1.", 5);
  sodium_bin2base64(out + 4, cap - 4, (const uint8_t *)payload, strlen(payload),
                    v);
  size_t n = strlen(out);
  crypto_auth_hmacsha256(tag, (const uint8_t *)out, n, key);
  out[n++] = '.';
  sodium_bin2base64(out + n, cap - n, tag, sizeof(tag), v);
}

static void payloads_are_parsed_strictly(void **state) {
  (void)state;
  assert_true(sodium_init() >= 0);
  char tok[MV_AUTH_TOKEN_MAX + 1];
  struct mv_auth_principal got;
#define GOOD_TAIL                                                              \
  "\"iat_us\":1,\"exp_us\":9000000000000000000,\"jti\":"                       \
  "\"AAAAAAAAAAAAAAAAAAAAAA\"}"
  forge("{\"sub\":\"u\",\"role\":\"admin\",\"fhir_id\":\"\",\"org_id\":\"\","
        "\"scope\":\"user/*.*\"," GOOD_TAIL,
        tok, sizeof(tok));
  assert_int_equal(verify(tok, strlen(tok), NOW, &got), MV_OK);
  assert_int_equal(got.role, MV_AUTH_ROLE_ADMIN);
  const char *bad[] = {
      /* unknown role */
      "{\"sub\":\"u\",\"role\":\"root\",\"fhir_id\":\"\",\"org_id\":\"\","
      "\"scope\":\"\"," GOOD_TAIL,
      /* extra key */
      "{\"sub\":\"u\",\"role\":\"admin\",\"fhir_id\":\"\",\"org_id\":\"\","
      "\"scope\":\"\",\"x\":1," GOOD_TAIL,
      /* missing key (org_id) */
      "{\"sub\":\"u\",\"role\":\"admin\",\"fhir_id\":\"\",\"scope\":\"\","
      "\"x\":\"\"," GOOD_TAIL,
      /* wrong type */
      "{\"sub\":1,\"role\":\"admin\",\"fhir_id\":\"\",\"org_id\":\"\","
      "\"scope\":\"\"," GOOD_TAIL,
      /* empty sub */
      "{\"sub\":\"\",\"role\":\"admin\",\"fhir_id\":\"\",\"org_id\":\"\","
      "\"scope\":\"\"," GOOD_TAIL,
      /* NUL inside a string */
      "{\"sub\":\"u\\u0000v\",\"role\":\"admin\",\"fhir_id\":\"\","
      "\"org_id\":\"\",\"scope\":\"\"," GOOD_TAIL,
      /* bad fhir id */
      "{\"sub\":\"u\",\"role\":\"admin\",\"fhir_id\":\"a/b\",\"org_id\":\"\","
      "\"scope\":\"\"," GOOD_TAIL,
      /* bad scope */
      "{\"sub\":\"u\",\"role\":\"admin\",\"fhir_id\":\"\",\"org_id\":\"\","
      "\"scope\":\"everything\"," GOOD_TAIL,
      /* exp before iat */
      "{\"sub\":\"u\",\"role\":\"admin\",\"fhir_id\":\"\",\"org_id\":\"\","
      "\"scope\":\"\",\"iat_us\":5,\"exp_us\":4,\"jti\":"
      "\"AAAAAAAAAAAAAAAAAAAAAA\"}",
      /* fractional time */
      "{\"sub\":\"u\",\"role\":\"admin\",\"fhir_id\":\"\",\"org_id\":\"\","
      "\"scope\":\"\",\"iat_us\":1.5,\"exp_us\":9000000000000000000,\"jti\":"
      "\"AAAAAAAAAAAAAAAAAAAAAA\"}",
      /* short jti */
      "{\"sub\":\"u\",\"role\":\"admin\",\"fhir_id\":\"\",\"org_id\":\"\","
      "\"scope\":\"\",\"iat_us\":1,\"exp_us\":9000000000000000000,\"jti\":"
      "\"AAAA\"}",
      /* not an object, trailing garbage */
      "[]",
      "{\"sub\":\"u\",\"role\":\"admin\",\"fhir_id\":\"\",\"org_id\":\"\","
      "\"scope\":\"\"," GOOD_TAIL " x",
  };
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++) {
    forge(bad[i], tok, sizeof(tok));
    if (verify(tok, strlen(tok), NOW, &got) != MV_EAUTH)
      fail_msg("bad payload %zu accepted", i);
  }
  /* Padding and the other base64 alphabet are not canonical. */
  forge("{\"sub\":\"u\",\"role\":\"admin\",\"fhir_id\":\"\",\"org_id\":\"\","
        "\"scope\":\"user/*.*\"," GOOD_TAIL,
        tok, sizeof(tok));
  char padded[MV_AUTH_TOKEN_MAX + 2];
  size_t len = strlen(tok);
  memcpy(padded, tok, len - 44);
  memcpy(padded + len - 44, "=", 1);
  memcpy(padded + len - 43, tok + len - 44, 45);
  assert_int_equal(verify(padded, strlen(padded), NOW, &got), MV_EAUTH);
#undef GOOD_TAIL
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(issue_then_verify_round_trips),
      cmocka_unit_test(subs_needing_json_escapes_round_trip),
      cmocka_unit_test(every_token_is_unique),
      cmocka_unit_test(flipping_any_byte_is_rejected),
      cmocka_unit_test(expired_tokens_are_rejected),
      cmocka_unit_test(wrong_key_is_rejected),
      cmocka_unit_test(truncated_and_extended_tokens_are_rejected),
      cmocka_unit_test(issue_checks_its_arguments),
      cmocka_unit_test(largest_principal_fits_the_cap),
      cmocka_unit_test(payloads_are_parsed_strictly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

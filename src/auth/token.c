/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Self-contained bearer tokens: "mv1." base64url(payload) "."
 * base64url(tag), where tag = HMAC-SHA-256 (RFC 2104, libsodium
 * crypto_auth_hmacsha256) over everything before the last dot, so the
 * version prefix is authenticated too. The shape follows JWS compact
 * serialisation (RFC 7515) without its header: there is one algorithm and
 * nothing in the token chooses it. The server verifies with its own key and
 * needs no token table; revocation is by expiry or by rotating the key.
 *
 * Verification checks the tag in constant time before it decodes the
 * payload, so a forger never reaches the JSON parser.
 */
#include <sodium.h>
#include <string.h>

#include "auth_int.h"
#include "mv_buf.h"
#include "mv_json.h"
#include "mv_rand.h"

#define PREFIX "mv1."
#define PREFIX_LEN 4u
#define TAG_B64_LEN 43u /* unpadded base64url of 32 bytes */
#define JTI_BYTES 16u
#define JTI_B64_LEN 22u
#define PAYLOAD_KEYS 8

_Static_assert(crypto_auth_hmacsha256_BYTES == 32, "tag size");

static bool principal_ok(const struct mv_auth_principal *p) {
  return mv__auth_sub_ok(p->sub) && mv_auth_role_name(p->role) &&
         mv__auth_id_ok(p->fhir_id) && mv__auth_id_ok(p->org_id);
}

static int write_payload(struct mv_buf *b, const struct mv_auth_principal *p,
                         int64_t iat_us, int64_t exp_us, const char *jti) {
  char scope[MV_AUTH_SCOPE_TEXT_MAX + 1];
  int rc = mv_auth_scopes_format(&p->scopes, scope, sizeof(scope));
  if (rc != MV_OK)
    return rc == MV_ETOOBIG ? MV_EINVAL : rc;
  const char *role = mv_auth_role_name(p->role);
  if ((rc = mv_buf_appends(b, "{\"sub\":\"")) ||
      (rc = mv_buf_append_json_str(b, p->sub, strlen(p->sub))) ||
      (rc = mv_buf_appendf(b,
                           "\",\"role\":\"%s\",\"fhir_id\":\"%s\","
                           "\"org_id\":\"%s\",\"scope\":\"%s\","
                           "\"iat_us\":%lld,\"exp_us\":%lld,"
                           "\"jti\":\"%s\"}",
                           role, p->fhir_id, p->org_id, scope,
                           (long long)iat_us, (long long)exp_us, jti)))
    return rc;
  return MV_OK;
}

int mv_auth_token_issue(const uint8_t key[MV_AUTH_KEY_LEN],
                        const struct mv_auth_principal *p, int64_t now_us,
                        int64_t ttl_s, char *out, size_t cap) {
  struct mv_buf payload;
  uint8_t jti_raw[JTI_BYTES], tag[crypto_auth_hmacsha256_BYTES];
  char jti[JTI_B64_LEN + 1];
  int rc = mv__auth_sodium_ready();
  if (rc != MV_OK)
    return rc;
  if (!key || !p || !out || !principal_ok(p) || ttl_s <= 0 ||
      ttl_s > MV_AUTH_TOKEN_TTL_MAX || now_us < 0 ||
      now_us > INT64_MAX - ttl_s * 1000000)
    return MV_EINVAL;
  if ((rc = mv_random_bytes(jti_raw, sizeof(jti_raw))) != MV_OK)
    return rc;
  mv__auth_b64_encode(jti, sizeof(jti), jti_raw, sizeof(jti_raw));

  mv_buf_init(&payload, MV_AUTH_TOKEN_MAX);
  if ((rc = write_payload(&payload, p, now_us, now_us + ttl_s * 1000000,
                          jti)) != MV_OK)
    goto out;
  /* The signing input is built in out itself: prefix, payload, then the
   * tag is appended after a dot. */
  size_t need = PREFIX_LEN +
                sodium_base64_ENCODED_LEN(
                    payload.len, sodium_base64_VARIANT_URLSAFE_NO_PADDING) -
                1 + 1 + TAG_B64_LEN + 1;
  if (need > cap || need > MV_AUTH_TOKEN_MAX + 1) {
    rc = need > MV_AUTH_TOKEN_MAX + 1 ? MV_EINVAL : MV_ETOOBIG;
    goto out;
  }
  memcpy(out, PREFIX, PREFIX_LEN);
  size_t n = PREFIX_LEN +
             mv__auth_b64_encode(out + PREFIX_LEN, cap - PREFIX_LEN,
                                 (const uint8_t *)payload.data, payload.len);
  crypto_auth_hmacsha256(tag, (const uint8_t *)out, n, key);
  out[n++] = '.';
  n += mv__auth_b64_encode(out + n, cap - n, tag, sizeof(tag));
  rc = MV_OK;
out:
  if (payload.data)
    sodium_memzero(payload.data, payload.cap);
  mv_buf_release(&payload);
  return rc;
}

/* A string member whose value has no NUL inside and at most max bytes. */
static bool get_str(struct json_object *o, const char *k, size_t max,
                    const char **out) {
  const char *s = NULL;
  if (mv_json_get_string(o, "token", k, true, &s, NULL) != MV_OK)
    return false;
  size_t n = (size_t)json_object_get_string_len(json_object_object_get(o, k));
  if (n > max || strlen(s) != n)
    return false;
  *out = s;
  return true;
}

static int parse_payload(const char *text, size_t len, int64_t now_us,
                         struct mv_auth_principal *out) {
  struct json_object *o = NULL;
  const char *sub, *role, *fhir_id, *org_id, *scope, *jti;
  int64_t iat_us, exp_us;
  struct mv_auth_principal p;
  int rc = MV_EAUTH;
  memset(&p, 0, sizeof(p));
  if (mv_json_parse(text, len, &o, NULL) != MV_OK || !o ||
      !json_object_is_type(o, json_type_object) ||
      json_object_object_length(o) != PAYLOAD_KEYS)
    goto out;
  if (!get_str(o, "sub", MV_AUTH_ID_LEN, &sub) ||
      !get_str(o, "role", 16, &role) ||
      !get_str(o, "fhir_id", MV_AUTH_ID_LEN, &fhir_id) ||
      !get_str(o, "org_id", MV_AUTH_ID_LEN, &org_id) ||
      !get_str(o, "scope", MV_AUTH_SCOPE_TEXT_MAX, &scope) ||
      !get_str(o, "jti", JTI_B64_LEN, &jti) ||
      mv_json_get_int64(o, "token", "iat_us", true, &iat_us, NULL) != MV_OK ||
      mv_json_get_int64(o, "token", "exp_us", true, &exp_us, NULL) != MV_OK)
    goto out;
  memcpy(p.sub, sub, strlen(sub) + 1);
  memcpy(p.fhir_id, fhir_id, strlen(fhir_id) + 1);
  memcpy(p.org_id, org_id, strlen(org_id) + 1);
  if (!mv__auth_sub_ok(p.sub) || !mv__auth_id_ok(p.fhir_id) ||
      !mv__auth_id_ok(p.org_id) || strlen(jti) != JTI_B64_LEN ||
      mv_auth_role_parse(role, &p.role) != MV_OK ||
      mv_auth_scopes_parse(scope, strlen(scope), &p.scopes) != MV_OK)
    goto out;
  if (exp_us <= iat_us || now_us >= exp_us)
    goto out; /* expired */
  p.exp_us = exp_us;
  *out = p;
  rc = MV_OK;
out:
  json_object_put(o);
  return rc;
}

int mv_auth_token_verify(const uint8_t key[MV_AUTH_KEY_LEN], const char *token,
                         size_t len, int64_t now_us,
                         struct mv_auth_principal *out) {
  uint8_t tag[crypto_auth_hmacsha256_BYTES];
  char payload[MV_AUTH_TOKEN_MAX];
  size_t n;
  if (mv__auth_sodium_ready() != MV_OK || !key || !token || !out ||
      len > MV_AUTH_TOKEN_MAX || len < PREFIX_LEN + 2 + TAG_B64_LEN ||
      memcmp(token, PREFIX, PREFIX_LEN) != 0)
    return MV_EAUTH;
  /* The last dot separates the tag; base64url has no dots, so any other
   * dot makes the payload fail to decode. */
  const char *dot = token + len - TAG_B64_LEN - 1;
  if (*dot != '.' ||
      mv__auth_b64_decode(tag, sizeof(tag), &n, dot + 1, TAG_B64_LEN) !=
          MV_OK ||
      n != sizeof(tag))
    return MV_EAUTH;
  if (crypto_auth_hmacsha256_verify(tag, (const uint8_t *)token,
                                    (size_t)(dot - token), key) != 0)
    return MV_EAUTH;
  const char *b64 = token + PREFIX_LEN;
  if (mv__auth_b64_decode((uint8_t *)payload, sizeof(payload), &n, b64,
                          (size_t)(dot - b64)) != MV_OK)
    return MV_EAUTH;
  int rc = parse_payload(payload, n, now_us, out);
  sodium_memzero(payload, sizeof(payload));
  return rc;
}

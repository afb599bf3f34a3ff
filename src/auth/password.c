/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Password and device-secret hashing with Argon2id (libsodium
 * crypto_pwhash, RFC 9106), plus the module's shared libsodium start-up and
 * base64url helpers. Verification failures of every kind look the same to
 * the caller (MV_EAUTH), and the dummy verification lets the caller spend
 * the same time on unknown accounts as on known ones.
 */
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "auth_int.h"

_Static_assert(MV_AUTH_HASH_LEN == crypto_pwhash_STRBYTES,
               "hash buffer must match libsodium");
_Static_assert(MV_AUTH_KEY_LEN == crypto_auth_hmacsha256_KEYBYTES,
               "token key must match HMAC-SHA-256");

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = MV_ECRYPTO;

static void sodium_start(void) {
  sodium_status = sodium_init() < 0 ? MV_ECRYPTO : MV_OK;
}

int mv__auth_sodium_ready(void) {
  pthread_once(&sodium_once, sodium_start);
  return sodium_status;
}

size_t mv__auth_b64_encode(char *out, size_t cap, const uint8_t *in, size_t n) {
  const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  if (cap < sodium_base64_ENCODED_LEN(n, v))
    return 0;
  sodium_bin2base64(out, cap, in, n, v);
  return strlen(out);
}

int mv__auth_b64_decode(uint8_t *out, size_t cap, size_t *out_n, const char *in,
                        size_t len) {
  const int v = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  size_t n = 0;
  const char *end = NULL;
  if (len == 0 || len % 4 == 1)
    return MV_EINVAL;
  if (sodium_base642bin(out, cap, in, len, NULL, &n, &end, v) != 0 ||
      end != in + len)
    return MV_EINVAL;
  /* Canonical form only: unused low bits of the last character must be
   * zero, so one token has exactly one spelling. */
  char check[MV_AUTH_TOKEN_MAX + 1];
  if (mv__auth_b64_encode(check, sizeof(check), out, n) != len ||
      memcmp(check, in, len) != 0)
    return MV_EINVAL;
  *out_n = n;
  return MV_OK;
}

bool mv__auth_type_ok(const char *s, size_t len) {
  if (len == 0 || len > MV_AUTH_ID_LEN || s[0] < 'A' || s[0] > 'Z')
    return false;
  for (size_t i = 1; i < len; i++)
    if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
      return false;
  return true;
}

bool mv__auth_sub_ok(const char *s) {
  size_t n = strnlen(s, MV_AUTH_ID_LEN + 1);
  if (n == 0 || n > MV_AUTH_ID_LEN)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] <= ' ' || s[i] > '~')
      return false;
  return true;
}

bool mv__auth_id_ok(const char *s) {
  size_t n = strnlen(s, MV_AUTH_ID_LEN + 1);
  if (n > MV_AUTH_ID_LEN)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return false;
  }
  return true;
}

static bool length_ok(size_t len) {
  return len >= MV_AUTH_PASSWORD_MIN && len <= MV_AUTH_PASSWORD_MAX;
}

int mv_auth_password_hash(const char *pw, size_t len,
                          char out[MV_AUTH_HASH_LEN]) {
  int rc = mv__auth_sodium_ready();
  if (rc != MV_OK)
    return rc;
  if (!pw || !out || !length_ok(len))
    return MV_EINVAL;
  if (crypto_pwhash_str_alg(out, pw, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return MV_ENOMEM;
  return MV_OK;
}

int mv_auth_password_verify(const char *hash, const char *pw, size_t len) {
  if (mv__auth_sodium_ready() != MV_OK || !hash || !pw || !length_ok(len))
    return MV_EAUTH;
  /* libsodium reads the hash as a C string: it must end inside the buffer
   * size every stored hash has. */
  if (strnlen(hash, MV_AUTH_HASH_LEN) >= MV_AUTH_HASH_LEN)
    return MV_EAUTH;
  return crypto_pwhash_str_verify(hash, pw, len) == 0 ? MV_OK : MV_EAUTH;
}

int mv_auth_password_verify_dummy(const char *pw, size_t len) {
  /* What a verification costs: one Argon2id derivation with the same
   * parameters. The result is thrown away. */
  static const uint8_t salt[crypto_pwhash_SALTBYTES];
  uint8_t out[32];
  if (mv__auth_sodium_ready() == MV_OK && pw && length_ok(len)) {
    if (crypto_pwhash(out, sizeof(out), pw, len, salt,
                      crypto_pwhash_OPSLIMIT_INTERACTIVE,
                      crypto_pwhash_MEMLIMIT_INTERACTIVE,
                      crypto_pwhash_ALG_ARGON2ID13) == 0)
      sodium_memzero(out, sizeof(out));
  }
  return MV_EAUTH;
}

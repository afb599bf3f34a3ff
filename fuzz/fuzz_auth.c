/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the auth parsers that face the network: bearer
 * tokens (mv_auth_token_verify) and scope lists (mv_auth_scopes_parse).
 * Checks: no crash or overread on any input; an arbitrary token never
 * verifies (the MAC key is secret to this target, so accepting one would be
 * a forgery); a scope list that parses formats to a canonical form that
 * parses to the same set; a token issued for parsed scopes verifies and
 * carries them back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint8_t key[MV_AUTH_KEY_LEN] = {
      0x6d, 0x76, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x6b, 0x65, 0x79,
      0x2d, 0x6e, 0x6f, 0x74, 0x2d, 0x61, 0x2d, 0x73, 0x65, 0x63, 0x72,
      0x65, 0x74, 0x2d, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36};
  struct mv_auth_principal p, back;
  struct mv_auth_scopes sc, sc2;
  char text[MV_AUTH_SCOPE_TEXT_MAX + 1], tok[MV_AUTH_TOKEN_MAX + 1];
  const int64_t now = 1700000000000000;

  if (size > 2 * MV_AUTH_TOKEN_MAX)
    return 0;
  /* 1. Arbitrary bytes as a token: must be refused. */
  if (mv_auth_token_verify(key, (const char *)data, size, now, &back) == MV_OK)
    abort();

  /* 2. Arbitrary bytes as a scope list. */
  memset(&sc, 0, sizeof(sc));
  if (mv_auth_scopes_parse((const char *)data, size, &sc) != MV_OK)
    return 0;
  if (mv_auth_scopes_format(&sc, text, sizeof(text)) != MV_OK)
    abort();
  memset(&sc2, 0, sizeof(sc2));
  if (mv_auth_scopes_parse(text, strlen(text), &sc2) != MV_OK || sc2.n != sc.n)
    abort();

  /* 3. Issue and verify a token carrying them. */
  memset(&p, 0, sizeof(p));
  memcpy(p.sub, "fuzz-user", 10);
  p.role = MV_AUTH_ROLE_CLINICIAN;
  p.scopes = sc;
  if (mv_auth_token_issue(key, &p, now, 60, tok, sizeof(tok)) != MV_OK)
    return 0;
  if (mv_auth_token_verify(key, tok, strlen(tok), now, &back) != MV_OK ||
      strcmp(back.sub, p.sub) != 0 || back.scopes.n != sc.n)
    abort();
  return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private helpers shared by the files of the auth module: libsodium
 * initialisation, canonical unpadded base64url, and the syntax of the
 * identifiers the module accepts.
 */
#ifndef MV_AUTH_INT_H
#define MV_AUTH_INT_H

#include "mv_auth.h"

/* sodium_init() once per process. MV_OK or MV_ECRYPTO. */
int mv__auth_sodium_ready(void);

/* Encode n bytes as unpadded base64url into out (cap bytes incl. NUL).
 * Returns the length written (no NUL) or 0 if cap is too small. */
size_t mv__auth_b64_encode(char *out, size_t cap, const uint8_t *in, size_t n);

/* Decode exactly len chars of canonical unpadded base64url (the encoding
 * of the result must give back the same text) into out (cap bytes).
 * MV_OK with *out_n set, or MV_EINVAL. */
int mv__auth_b64_decode(uint8_t *out, size_t cap, size_t *out_n, const char *in,
                        size_t len);

/* A FHIR resource type name: [A-Z][A-Za-z]{0,63}. */
bool mv__auth_type_ok(const char *s, size_t len);

/* A principal's sub: NUL-terminated inside MV_AUTH_ID_LEN + 1 bytes,
 * 1..MV_AUTH_ID_LEN bytes of printable ASCII without spaces. */
bool mv__auth_sub_ok(const char *s);

/* A principal's fhir_id or org_id: NUL-terminated inside MV_AUTH_ID_LEN + 1
 * bytes, empty or a FHIR id ([A-Za-z0-9\-.]{1,64}). */
bool mv__auth_id_ok(const char *s);

#endif

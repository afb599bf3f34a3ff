/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Random identifiers from the kernel CSPRNG (getrandom), for resource ids and
 * tokens that must not be guessable. Deterministic simulations use their own
 * seeded generators, never this.
 */
#ifndef MV_RAND_H
#define MV_RAND_H

#include "mv_common.h"

/* Fill buf with n random bytes. MV_EIO if the kernel cannot supply them. */
MV_API MV_NODISCARD int mv_random_bytes(void *buf, size_t n);
/* A lower-case RFC 9562 version-4 UUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx")
 * into out (37 bytes including NUL). */
MV_API MV_NODISCARD int mv_uuid4(char out[37]);
/* A lower-case RFC 9562 version-7 UUID: 48 bits of Unix milliseconds, then
 * 74 random bits. Ids made later sort later, so B-tree keys built from them
 * are appended instead of scattered (fewer pages written per commit); the
 * random part keeps them unguessable. Reveals the creation time, which the
 * resource's meta.lastUpdated shows anyway. */
MV_API MV_NODISCARD int mv_uuid7(char out[37]);

#endif

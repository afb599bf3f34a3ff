/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel randomness (getrandom(2)) and UUIDv4 formatting (RFC 9562 §5.4). */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "mv_err.h"
#include "mv_rand.h"

int mv_random_bytes(void *buf, size_t n) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      return MV_EIO;
    }
    p += got;
    n -= (size_t)got;
  }
  return MV_OK;
}

int mv_uuid4(char out[37]) {
  unsigned char b[16];
  int rc = mv_random_bytes(b, sizeof(b));
  if (rc)
    return rc;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
  snprintf(out, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
           b[11], b[12], b[13], b[14], b[15]);
  return MV_OK;
}

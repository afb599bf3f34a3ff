/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel randomness (getrandom(2)) and UUID formatting (RFC 9562 §5.4 v4,
 * §5.7 v7). */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

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

static void format_uuid(char out[37], const unsigned char b[16]) {
  snprintf(out, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
           b[11], b[12], b[13], b[14], b[15]);
}

int mv_uuid4(char out[37]) {
  unsigned char b[16];
  int rc = mv_random_bytes(b, sizeof(b));
  if (rc)
    return rc;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
  format_uuid(out, b);
  return MV_OK;
}

int mv_uuid7(char out[37]) {
  unsigned char b[16];
  struct timespec ts;
  int rc = mv_random_bytes(b, sizeof(b));
  if (rc)
    return rc;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  for (int i = 0; i < 6; i++) /* 48-bit big-endian Unix milliseconds */
    b[i] = (unsigned char)(ms >> (40 - 8 * i));
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x70); /* version 7 */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
  format_uuid(out, b);
  return MV_OK;
}

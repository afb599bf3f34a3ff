/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The framing of leaf records in leaves.dat and its checksum: a u32 word
 * with a magic byte and the length, the leaf's own index, the data, and a
 * CRC-32C over all that, so a torn, misplaced or bit-flipped record is
 * recognised without trusting any other file. Little-endian helpers for
 * every on-disk integer of the log live here too.
 */
#include <pthread.h>
#include <string.h>

#include "tlog_int.h"

/* ---- little-endian helpers and CRC-32C ------------------------------------ */

uint32_t mv__tlog_get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

uint64_t mv__tlog_get64(const uint8_t *p) {
  return (uint64_t)mv__tlog_get32(p) | (uint64_t)mv__tlog_get32(p + 4) << 32;
}

void mv__tlog_put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

void mv__tlog_put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
  /* Reflected Castagnoli polynomial 0x82F63B78 (RFC 3720 §B.4), with the
   * slicing-by-8 tables of Kounavis and Berry 2008. */
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    crc_table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      crc_table[t][i] =
          (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

uint32_t mv__tlog_crc32c(uint32_t crc, const void *data, size_t len) {
  const uint8_t *p = data;
  pthread_once(&crc_once, crc_init);
  crc = ~crc;
  while (len >= 8) {
    uint32_t lo = mv__tlog_get32(p) ^ crc, hi = mv__tlog_get32(p + 4);
    crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
          crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
          crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
          crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
    p += 8;
    len -= 8;
  }
  while (len--)
    crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

/* ---- records ------------------------------------------------------------- */

size_t mv__tlog_rec_encode(uint8_t *out, uint64_t index, const void *data,
                           size_t len) {
  mv__tlog_put32(out, (uint32_t)MV__TLOG_REC_MAGIC << 24 | (uint32_t)len);
  mv__tlog_put64(out + 4, index);
  memcpy(out + 12, data, len);
  mv__tlog_put32(out + 12 + len, mv__tlog_crc32c(0, out, 12 + len));
  return len + MV__TLOG_REC_OVERHEAD;
}

int mv__tlog_rec_check(const uint8_t *p, size_t avail, uint64_t want,
                       size_t *out_len) {
  if (avail < 12)
    return MV_ENOTFOUND;
  uint32_t hdr = mv__tlog_get32(p);
  size_t len = hdr & 0xffffffu;
  if (hdr >> 24 != MV__TLOG_REC_MAGIC || len == 0 || len > MV_LIMIT_TLOG_LEAF)
    return MV_ECORRUPT;
  if (mv__tlog_get64(p + 4) != want)
    return MV_ECORRUPT;
  if (avail < len + MV__TLOG_REC_OVERHEAD)
    return MV_ENOTFOUND;
  if (mv__tlog_crc32c(0, p, 12 + len) != mv__tlog_get32(p + 12 + len))
    return MV_ECORRUPT;
  *out_len = len;
  return MV_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the ledger files of the SQLite backend (sqlite_ledger.c: the
 * batch and open; sqlite_ledger_read.c: reads, proofs, read-only scans).
 * The state below belongs to the writer except `mu`-guarded fields, which
 * readers on other threads use.
 */
#ifndef MV_STORE_SQLITE_LEDGER_INT_H
#define MV_STORE_SQLITE_LEDGER_INT_H

#include "mv_tlog.h"
#include "sqlite_int.h"

/* One frontier hash per set bit of a 64-bit size. */
#define MV__SQ_FRONT_MAX 64

/* The roots of the perfect subtrees of a tree of `size` leaves, largest
 * (leftmost) first: one per set bit of size. */
struct mv__sq_front {
  uint64_t size;
  size_t n;
  uint8_t h[MV__SQ_FRONT_MAX + 1][32];
};
void mv__sq_front_root(const struct mv__sq_front *f, uint8_t out[32]);

struct mv__sq_ledger {
  int mode;            /* enum mv_store_ledger_mode */
  struct mv_tlog *log; /* MV_STORE_LEDGER_ON only */
  struct mv_tlog_signer key;
  char origin[MV_LIMIT_TLOG_ORIGIN + 1];
  char vkey[MV_TLOG_VKEY_TEXT_MAX];

  /* Writer only. */
  int64_t next_idx;               /* index of the next entry */
  int64_t idx0;                   /* index of the batch's first entry */
  struct mv__sq_front front;      /* of the committed tree */
  struct mv__sq_front next_front; /* of the tree after this batch */
  uint8_t *pend;                  /* the batch's leaves, concatenated */
  size_t pend_len, cap_pend;
  size_t *offs; /* leaf k is pend[offs[k] .. offs[k+1]) */
  size_t n_pend, cap_offs;
  char note_buf[MV_LIMIT_TLOG_NOTE]; /* the batch's signed checkpoint */
  size_t note_len;
  bool behind;               /* the log files lack committed entries */
  int64_t thinned_us;        /* older checkpoints: one per 10 s already */
  int64_t thinned_coarse_us; /* older checkpoints: one per hour already */

  /* Guarded by mu: what readers may see. */
  pthread_mutex_t mu;
  int64_t visible; /* entries durable in the log (or the database) */
  char latest[MV_LIMIT_TLOG_NOTE];
  size_t latest_len; /* 0: none yet */
};

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface of the tlog module: proof generation over any source of
 * complete-subtree hashes (memory or the level files on disk), the on-disk
 * log's state, its I/O hooks for fault injection in tests, and small
 * helpers (strict base64, CRC-32C) shared by the module's files.
 */
#ifndef MV_TLOG_INT_H
#define MV_TLOG_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "mv_tlog.h"

/* Hash of the complete subtree of 2^level leaves starting at leaf
 * index << level (RFC 9162 MTH of an aligned power-of-two range). */
typedef int (*mv__tlog_node_fn)(void *ctx, unsigned level, uint64_t index,
                                uint8_t out[MV_TLOG_HASH_LEN]);

/* MTH(D[a:b]) for a range the RFC 9162 recursion produces (a is divisible
 * by the largest power of two <= b - a), folding stored subtrees. */
int mv__tlog_range_hash(mv__tlog_node_fn get, void *ctx, uint64_t a, uint64_t b,
                        uint8_t out[MV_TLOG_HASH_LEN]);
/* A shortcut for MTH(D[a:b]): true and out set when the source knows it
 * without folding (the log caches its right border), false otherwise. */
typedef bool (*mv__tlog_range_fn)(void *ctx, uint64_t a, uint64_t b,
                                  uint8_t out[MV_TLOG_HASH_LEN]);
/* RFC 9162 §2.1.3.1 PATH and §2.1.4.1 PROOF from stored subtrees; range may
 * be NULL. */
int mv__tlog_gen_inclusion(mv__tlog_node_fn get, mv__tlog_range_fn range,
                           void *ctx, uint64_t index, uint64_t size,
                           struct mv_tlog_proof *out);
int mv__tlog_gen_consistency(mv__tlog_node_fn get, mv__tlog_range_fn range,
                             void *ctx, uint64_t size1, uint64_t size2,
                             struct mv_tlog_proof *out);

/* Strict standard base64 (padding required, no whitespace, canonical: it
 * must re-encode to the same text): decodes all of len (< 1024) chars into
 * out (cap bytes). MV_EPARSE, MV_ETOOBIG. */
int mv__tlog_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
                        size_t *out_len);
/* Standard base64 with padding, NUL-terminated; out needs
 * 4 * ((len + 2) / 3) + 1 bytes. */
void mv__tlog_b64_encode(const uint8_t *in, size_t len, char *out,
                         size_t out_cap);

/* CRC-32C (Castagnoli; RFC 3720 §B.4), continued from crc (start at 0). */
uint32_t mv__tlog_crc32c(uint32_t crc, const void *data, size_t len);

/* ---- The on-disk log --------------------------------------------------- */

/* Hash levels kept in memory as well as on disk: levels >= this one. */
#define MV__TLOG_CACHE_LEVEL 6u
#define MV__TLOG_LEVELS 64u
/* Leaves whose index and hashes are recomputed at most after a crash: a
 * hash mark (all files synced) is written every so many leaves. */
#define MV__TLOG_MARK_EVERY 65536u

/* Leaf record in leaves.dat: u32 magic-and-length header, u64 index, data,
 * u32 CRC-32C over header, index and data (all little-endian). */
#define MV__TLOG_REC_MAGIC 0x4cu /* high byte of the first word: 'L' */
#define MV__TLOG_REC_OVERHEAD 16u

/* I/O used by the log; tests replace it to tear writes or fail syncs. */
struct mv__tlog_io {
  ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t len, off_t off);
  int (*fdatasync)(void *ctx, int fd);
  void *ctx;
};
/* Replace the I/O of the next mv_tlog_open calls in this process (NULL
 * restores the system calls). Tests only; not thread-safe. */
void mv__tlog_set_io(const struct mv__tlog_io *io);

/* The right edge of a tree being built leaf by leaf: how many nodes each
 * level has and the newest one (its left sibling when the next arrives). */
struct mv__tlog_frontier {
  uint64_t count[MV__TLOG_LEVELS];
  uint8_t last[MV__TLOG_LEVELS][MV_TLOG_HASH_LEN];
};
/* Called for every node a push completes, bottom-up (level 0 first). */
typedef int (*mv__tlog_emit_fn)(void *ctx, unsigned level, uint64_t index,
                                const uint8_t h[MV_TLOG_HASH_LEN]);
/* Add a leaf hash; emits it and every complete subtree it closes. */
int mv__tlog_frontier_push(struct mv__tlog_frontier *f,
                           const uint8_t leaf[MV_TLOG_HASH_LEN],
                           mv__tlog_emit_fn emit, void *ctx);
/* The frontier of the tree of n leaves from stored nodes. */
int mv__tlog_frontier_load(struct mv__tlog_frontier *f, uint64_t n,
                           mv__tlog_node_fn get, void *ctx);

struct mv__tlog_level {
  int fd;             /* level-NN.hash, -1 until created */
  uint64_t flushed;   /* hashes in the file (writer's view) */
  uint8_t *cache;     /* levels >= MV__TLOG_CACHE_LEVEL: every hash */
  uint64_t cache_cap; /* in hashes */
  uint8_t *buf;       /* hashes of the batch not yet written */
  size_t buf_n, buf_cap;
};

struct mv_tlog {
  char dir[MV_LIMIT_PATH_MAX];
  bool read_only;
  bool failed; /* an I/O error happened: writes refused until reopened */
  int lock_fd, dir_fd;
  int dat_fd, idx_fd, mark_fd;
  struct mv__tlog_io io;
  uint64_t n;              /* leaves appended (writer's view) */
  uint64_t dat_end;        /* end offset of the last record in leaves.dat */
  _Atomic uint64_t synced; /* leaves visible to readers */
  uint64_t mark_n;         /* leaves covered by the newest hash mark */
  uint64_t mark_seq;
  uint64_t mark_every; /* write a hash mark after this many new leaves */
  bool use_cache;      /* caches loaded (false during recovery) */
  bool dir_dirty;      /* a file was created: fsync the directory */
  struct mv__tlog_frontier fr;
  struct mv__tlog_level lv[MV__TLOG_LEVELS];
  pthread_rwlock_t cache_lock; /* guards reallocation of the caches and
                                  the border below */
  /* MTH(D[start_k : border_size]) for the start of each complete subtree of
   * the published tree (its right border), so proofs at the newest size
   * need no folding: set at each sync. */
  uint64_t border_size;
  unsigned border_n;
  uint64_t border_start[MV__TLOG_LEVELS];
  uint8_t border_hash[MV__TLOG_LEVELS][MV_TLOG_HASH_LEN];
  struct mv_tlog_repair repair;
  uint8_t *dbuf; /* batch of records for leaves.dat */
  size_t dbuf_n, dbuf_cap;
  uint8_t *ibuf; /* batch of offsets for leaves.idx */
  size_t ibuf_n, ibuf_cap;
};

/* Shared between store.c and recover.c. */
int mv__tlog_write_all(struct mv_tlog *t, int fd, const void *buf, size_t len,
                       uint64_t off);
/* MV_OK, MV_ENOTFOUND (end of file first), MV_EIO. */
int mv__tlog_read_full(int fd, void *buf, size_t len, uint64_t off);
/* The emit function of the writer: buffers the node for its level file
 * (and the cache). ctx is the log. */
int mv__tlog_emit_write(void *ctx, unsigned level, uint64_t index,
                        const uint8_t h[MV_TLOG_HASH_LEN]);
/* Write the buffered batch: records at t->dat_end (if any), offsets at
 * t->n * 8, hashes at each level's end. Marks the log failed on error. */
int mv__tlog_flush(struct mv_tlog *t, uint64_t n_new, uint64_t dat_new_end);
/* Load the caches of levels >= MV__TLOG_CACHE_LEVEL for a tree of n. */
int mv__tlog_load_caches(struct mv_tlog *t, uint64_t n);
/* fdatasync the index and hash files, then write a hash mark for t->n. */
int mv__tlog_write_mark(struct mv_tlog *t);
/* The root of the tree the frontier holds (n leaves). */
void mv__tlog_frontier_root(const struct mv__tlog_frontier *f, uint64_t n,
                            uint8_t out[MV_TLOG_HASH_LEN]);
/* Frame one record (index, data of len bytes) into out, which needs
 * len + MV__TLOG_REC_OVERHEAD bytes; returns the bytes written. */
size_t mv__tlog_rec_encode(uint8_t *out, uint64_t index, const void *data,
                           size_t len);
/* Check a record at p (avail bytes): MV_OK and *out_len (data bytes) when
 * complete and valid for index want; MV_ENOTFOUND when incomplete;
 * MV_ECORRUPT when invalid. */
int mv__tlog_rec_check(const uint8_t *p, size_t avail, uint64_t want,
                       size_t *out_len);
/* Writer: cache the right border of the tree of t->n leaves (before
 * publishing that size). */
void mv__tlog_border_update(struct mv_tlog *t);
/* Open-time recovery (recover.c): find the valid tail, repair or report. */
int mv__tlog_recover(struct mv_tlog *t, struct mv_diag *diag);
uint32_t mv__tlog_get32(const uint8_t *p);
uint64_t mv__tlog_get64(const uint8_t *p);
void mv__tlog_put32(uint8_t *p, uint32_t v);
void mv__tlog_put64(uint8_t *p, uint64_t v);

#define MV__TLOG_DAT_MAGIC "MVTLDAT1" /* first 8 bytes of leaves.dat */
#define MV__TLOG_DAT_HDR 8u

/* Node getter over a log's files and caches (readers and open). */
int mv__tlog_disk_get(void *ctx, unsigned level, uint64_t index,
                      uint8_t out[MV_TLOG_HASH_LEN]);
/* Close every descriptor without syncing or marking: what a crash leaves
 * (tests). Frees the log. */
void mv__tlog_abandon(struct mv_tlog *log);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log's files: leaves.dat (length-prefixed, CRC-32C checked leaf
 * records), leaves.idx (the offset of every record), level-NN.hash (the
 * hash of every complete subtree of 2^NN leaves, in order, so any root or
 * proof needs O(log n) reads: the level-ordered layout of Crosby and
 * Wallach 2009, "Efficient data structures for tamper-evident logging",
 * §3) and mark (two slots naming a size whose files are all durable).
 * Group commit: one fdatasync of leaves.dat per batch; the index and hash
 * files are derived data, synced at each hash mark and recomputed after a
 * crash (recover.c). One writer, concurrent readers below the synced size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mv_log.h"
#include "tlog_int.h"

/* ---- I/O ------------------------------------------------------------------- */

static ssize_t sys_pwrite(void *ctx, int fd, const void *buf, size_t len,
                          off_t off) {
  (void)ctx;
  return pwrite(fd, buf, len, off);
}

static int sys_fdatasync(void *ctx, int fd) {
  (void)ctx;
  return fdatasync(fd);
}

static struct mv__tlog_io g_io = {sys_pwrite, sys_fdatasync, NULL};

void mv__tlog_set_io(const struct mv__tlog_io *io) {
  if (io)
    g_io = *io;
  else
    g_io = (struct mv__tlog_io){sys_pwrite, sys_fdatasync, NULL};
}

int mv__tlog_write_all(struct mv_tlog *t, int fd, const void *buf, size_t len,
                       uint64_t off) {
  const uint8_t *p = buf;
  while (len) {
    ssize_t w = t->io.pwrite(t->io.ctx, fd, p, len, (off_t)off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      t->failed = true;
      return MV_EIO;
    }
    p += w;
    len -= (size_t)w;
    off += (uint64_t)w;
  }
  return MV_OK;
}

int mv__tlog_read_full(int fd, void *buf, size_t len, uint64_t off) {
  uint8_t *p = buf;
  while (len) {
    ssize_t r = pread(fd, p, len, (off_t)off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return MV_EIO;
    if (r == 0)
      return MV_ENOTFOUND;
    p += r;
    len -= (size_t)r;
    off += (uint64_t)r;
  }
  return MV_OK;
}

static int grow(uint8_t **buf, size_t *cap, size_t need) {
  if (need <= *cap)
    return MV_OK;
  size_t c = *cap ? *cap : 4096;
  while (c < need)
    c *= 2;
  uint8_t *nb = realloc(*buf, c);
  if (!nb)
    return MV_ENOMEM;
  *buf = nb;
  *cap = c;
  return MV_OK;
}

static int cache_put(struct mv_tlog *t, unsigned level, uint64_t index,
                     const uint8_t h[MV_TLOG_HASH_LEN]) {
  struct mv__tlog_level *lv = &t->lv[level];
  if (index >= lv->cache_cap) {
    uint64_t cap = lv->cache_cap ? lv->cache_cap : 64;
    while (cap <= index)
      cap *= 2;
    pthread_rwlock_wrlock(&t->cache_lock);
    uint8_t *nc = realloc(lv->cache, cap * MV_TLOG_HASH_LEN);
    if (nc) {
      lv->cache = nc;
      lv->cache_cap = cap;
    }
    pthread_rwlock_unlock(&t->cache_lock);
    if (!nc)
      return MV_ENOMEM;
  }
  /* Readers never read at or past the synced size: no lock needed. */
  memcpy(lv->cache + index * MV_TLOG_HASH_LEN, h, MV_TLOG_HASH_LEN);
  return MV_OK;
}

int mv__tlog_emit_write(void *ctx, unsigned level, uint64_t index,
                        const uint8_t h[MV_TLOG_HASH_LEN]) {
  struct mv_tlog *t = ctx;
  struct mv__tlog_level *lv = &t->lv[level];
  (void)index;
  if (grow(&lv->buf, &lv->buf_cap, (lv->buf_n + 1) * MV_TLOG_HASH_LEN) != MV_OK)
    return MV_ENOMEM;
  memcpy(lv->buf + lv->buf_n * MV_TLOG_HASH_LEN, h, MV_TLOG_HASH_LEN);
  lv->buf_n++;
  if (level >= MV__TLOG_CACHE_LEVEL && t->use_cache)
    return cache_put(t, level, index, h);
  return MV_OK;
}

static int level_open(struct mv_tlog *t, unsigned level, bool create) {
  char name[32];
  snprintf(name, sizeof(name), "level-%02u.hash", level);
  int flags = (t->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  if (create)
    flags |= O_CREAT;
  t->lv[level].fd = openat(t->dir_fd, name, flags, 0600);
  if (t->lv[level].fd < 0)
    return errno == ENOENT ? MV_ENOTFOUND : MV_EIO;
  if (create)
    t->dir_dirty = true;
  return MV_OK;
}

int mv__tlog_flush(struct mv_tlog *t, uint64_t n_new, uint64_t dat_new_end) {
  int rc = MV_OK;
  if (t->dbuf_n) {
    rc = mv__tlog_write_all(t, t->dat_fd, t->dbuf, t->dbuf_n, t->dat_end);
    if (rc != MV_OK)
      return rc;
  }
  if (t->ibuf_n) {
    rc = mv__tlog_write_all(t, t->idx_fd, t->ibuf, t->ibuf_n, t->n * 8);
    if (rc != MV_OK)
      return rc;
  }
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++) {
    struct mv__tlog_level *lv = &t->lv[l];
    if (lv->buf_n == 0)
      continue;
    if (lv->fd < 0 && level_open(t, l, true) != MV_OK) {
      t->failed = true;
      return MV_EIO;
    }
    rc = mv__tlog_write_all(t, lv->fd, lv->buf, lv->buf_n * MV_TLOG_HASH_LEN,
                            lv->flushed * MV_TLOG_HASH_LEN);
    if (rc != MV_OK)
      return rc;
    lv->flushed += lv->buf_n;
    lv->buf_n = 0;
  }
  t->dbuf_n = t->ibuf_n = 0;
  t->n = n_new;
  t->dat_end = dat_new_end;
  return MV_OK;
}

int mv__tlog_load_caches(struct mv_tlog *t, uint64_t n) {
  for (unsigned l = MV__TLOG_CACHE_LEVEL; l < MV__TLOG_LEVELS; l++) {
    uint64_t cnt = n >> l;
    struct mv__tlog_level *lv = &t->lv[l];
    free(lv->cache);
    lv->cache = NULL;
    lv->cache_cap = 0;
    if (cnt == 0)
      continue;
    uint64_t cap = 64;
    while (cap <= cnt)
      cap *= 2;
    lv->cache = malloc(cap * MV_TLOG_HASH_LEN);
    if (!lv->cache)
      return MV_ENOMEM;
    lv->cache_cap = cap;
    if (lv->fd < 0 || mv__tlog_read_full(lv->fd, lv->cache,
                                         cnt * MV_TLOG_HASH_LEN, 0) != MV_OK)
      return MV_ECORRUPT;
  }
  t->use_cache = true;
  return MV_OK;
}

void mv__tlog_frontier_root(const struct mv__tlog_frontier *f, uint64_t n,
                            uint8_t out[MV_TLOG_HASH_LEN]) {
  /* The complete subtrees of the tree of n leaves are the newest node of
   * every level whose bit is set in n; fold them from the right. */
  uint8_t acc[MV_TLOG_HASH_LEN];
  bool have = false;
  if (n == 0) {
    mv_tlog_hash_empty(out);
    return;
  }
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++) {
    if (!(n >> l & 1))
      continue;
    if (!have) {
      memcpy(acc, f->last[l], MV_TLOG_HASH_LEN);
      have = true;
    } else {
      mv_tlog_hash_node(f->last[l], acc, acc);
    }
  }
  memcpy(out, acc, MV_TLOG_HASH_LEN);
}

int mv__tlog_disk_get(void *ctx, unsigned level, uint64_t index,
                      uint8_t out[MV_TLOG_HASH_LEN]) {
  struct mv_tlog *t = ctx;
  if (level >= MV__TLOG_LEVELS)
    return MV_EINTERNAL;
  struct mv__tlog_level *lv = &t->lv[level];
  if (level >= MV__TLOG_CACHE_LEVEL && t->use_cache) {
    int rc = MV_OK;
    pthread_rwlock_rdlock(&t->cache_lock);
    if (index < lv->cache_cap && lv->cache)
      memcpy(out, lv->cache + index * MV_TLOG_HASH_LEN, MV_TLOG_HASH_LEN);
    else
      rc = MV_ECORRUPT;
    pthread_rwlock_unlock(&t->cache_lock);
    return rc;
  }
  if (lv->fd < 0)
    return MV_ECORRUPT;
  int rc = mv__tlog_read_full(lv->fd, out, MV_TLOG_HASH_LEN,
                              index * MV_TLOG_HASH_LEN);
  return rc == MV_ENOTFOUND ? MV_ECORRUPT : rc;
}

/* ---- open and close ---------------------------------------------------------- */

static int create_files(struct mv_tlog *t, struct mv_diag *diag) {
  /* The index and mark first, leaves.dat last: its presence means a log. */
  static const char *const names[] = {"leaves.idx", "mark"};
  for (size_t i = 0; i < 2; i++) {
    int fd = openat(t->dir_fd, names[i], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      return mv_diag_set(diag, MV_EIO, "%s/%s: %s", t->dir, names[i],
                         strerror(errno));
    close(fd);
  }
  int fd = openat(t->dir_fd, "leaves.dat.tmp",
                  O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return mv_diag_set(diag, MV_EIO, "%s/leaves.dat: %s", t->dir,
                       strerror(errno));
  bool ok = pwrite(fd, MV__TLOG_DAT_MAGIC, MV__TLOG_DAT_HDR, 0) ==
                (ssize_t)MV__TLOG_DAT_HDR &&
            fdatasync(fd) == 0;
  close(fd);
  if (!ok || renameat(t->dir_fd, "leaves.dat.tmp", t->dir_fd, "leaves.dat") ||
      fsync(t->dir_fd) != 0)
    return mv_diag_set(diag, MV_EIO, "%s/leaves.dat: cannot create", t->dir);
  return MV_OK;
}

static int open_fd(struct mv_tlog *t, const char *name, int *out,
                   struct mv_diag *diag) {
  int flags = (t->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  *out = openat(t->dir_fd, name, flags);
  if (*out < 0) {
    if (errno == ENOENT)
      return mv_diag_set(diag, MV_ECORRUPT, "%s/%s is missing", t->dir, name);
    return mv_diag_set(diag, MV_EIO, "%s/%s: %s", t->dir, name,
                       strerror(errno));
  }
  return MV_OK;
}

static void free_log(struct mv_tlog *t) {
  int *fds[] = {&t->lock_fd, &t->dir_fd, &t->dat_fd, &t->idx_fd, &t->mark_fd};
  for (size_t i = 0; i < MV_ARRAY_LEN(fds); i++)
    if (*fds[i] >= 0)
      close(*fds[i]);
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++) {
    if (t->lv[l].fd >= 0)
      close(t->lv[l].fd);
    free(t->lv[l].cache);
    free(t->lv[l].buf);
  }
  free(t->dbuf);
  free(t->ibuf);
  pthread_rwlock_destroy(&t->cache_lock);
  free(t);
}

int mv_tlog_open(const char *dir, const struct mv_tlog_open_opts *opts,
                 struct mv_tlog **out_log, struct mv_diag *diag) {
  struct mv_tlog *t = NULL;
  int rc = MV_OK;
  if (!dir || !out_log || strlen(dir) >= MV_LIMIT_PATH_MAX)
    return mv_diag_set(diag, MV_EINVAL, "bad log directory");
  t = calloc(1, sizeof(*t));
  if (!t)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  t->lock_fd = t->dir_fd = t->dat_fd = t->idx_fd = t->mark_fd = -1;
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++)
    t->lv[l].fd = -1;
  pthread_rwlock_init(&t->cache_lock, NULL);
  memcpy(t->dir, dir, strlen(dir) + 1);
  t->read_only = opts && opts->read_only;
  t->io = g_io;
  t->mark_every = MV__TLOG_MARK_EVERY;
  if (!t->read_only && opts && opts->create && mkdir(dir, 0700) != 0 &&
      errno != EEXIST) {
    rc = mv_diag_set(diag, MV_EIO, "%s: %s", dir, strerror(errno));
    goto out;
  }
  t->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (t->dir_fd < 0) {
    rc = mv_diag_set(diag, errno == ENOENT ? MV_ENOTFOUND : MV_EIO, "%s: %s",
                     dir, strerror(errno));
    goto out;
  }
  if (!t->read_only) {
    t->lock_fd = openat(t->dir_fd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (t->lock_fd < 0 || flock(t->lock_fd, LOCK_EX | LOCK_NB) != 0) {
      rc = mv_diag_set(diag, t->lock_fd < 0 ? MV_EIO : MV_EBUSY,
                       "%s: log is in use by another process", dir);
      goto out;
    }
  }
  if (faccessat(t->dir_fd, "leaves.dat", F_OK, 0) != 0) {
    if (t->read_only || !opts || !opts->create) {
      rc = mv_diag_set(diag, MV_ENOTFOUND, "%s: no log here", dir);
      goto out;
    }
    rc = create_files(t, diag);
    if (rc != MV_OK)
      goto out;
  }
  if ((rc = open_fd(t, "leaves.dat", &t->dat_fd, diag)) != MV_OK ||
      (rc = open_fd(t, "leaves.idx", &t->idx_fd, diag)) != MV_OK ||
      (rc = open_fd(t, "mark", &t->mark_fd, diag)) != MV_OK)
    goto out;
  char magic[MV__TLOG_DAT_HDR];
  if (mv__tlog_read_full(t->dat_fd, magic, sizeof(magic), 0) != MV_OK ||
      memcmp(magic, MV__TLOG_DAT_MAGIC, MV__TLOG_DAT_HDR) != 0) {
    rc = mv_diag_set(diag, MV_ECORRUPT, "%s/leaves.dat: not a medverse log",
                     dir);
    goto out;
  }
  /* Every level that exists, even after a gap (a deleted file is then
   * found missing by recovery, and the ones above it still truncated). */
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++) {
    rc = level_open(t, l, false);
    if (rc == MV_ENOTFOUND)
      continue;
    if (rc != MV_OK) {
      rc = mv_diag_set(diag, MV_EIO, "%s: cannot open level %u", dir, l);
      goto out;
    }
  }
  rc = mv__tlog_recover(t, diag);
out:
  if (rc != MV_OK) {
    free_log(t);
    return rc;
  }
  *out_log = t;
  return MV_OK;
}

void mv__tlog_abandon(struct mv_tlog *log) {
  if (log)
    free_log(log);
}

void mv_tlog_close(struct mv_tlog *log) {
  if (!log)
    return;
  if (!log->read_only && !log->failed) {
    if (log->n > mv_tlog_size(log) && mv_tlog_sync(log, NULL, NULL) != MV_OK)
      MV_LOG_ERROR("tlog", "final sync failed");
    if (!log->failed && log->n > log->mark_n &&
        mv__tlog_write_mark(log) != MV_OK)
      MV_LOG_ERROR("tlog", "hash mark at close failed");
  }
  free_log(log);
}

void mv_tlog_repair_info(const struct mv_tlog *log,
                         struct mv_tlog_repair *out) {
  *out = log->repair;
}

uint64_t mv_tlog_size(const struct mv_tlog *log) {
  return atomic_load_explicit(&log->synced, memory_order_acquire);
}

uint64_t mv_tlog_next_index(const struct mv_tlog *log) {
  return log->n;
}

/* ---- writer -------------------------------------------------------------------- */

int mv_tlog_append(struct mv_tlog *log, const struct mv_tlog_leaf *leaves,
                   size_t n, uint64_t *out_first, struct mv_diag *diag) {
  if (log->read_only)
    return mv_diag_set(diag, MV_EPERM, "log opened read-only");
  if (log->failed)
    return mv_diag_set(diag, MV_EIO, "log failed earlier; reopen it");
  if (n == 0 || !leaves)
    return mv_diag_set(diag, MV_EINVAL, "empty batch");
  if (n > MV_LIMIT_TLOG_BATCH)
    return mv_diag_set(diag, MV_ETOOBIG, "batch of more than %u leaves",
                       MV_LIMIT_TLOG_BATCH);
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    if (!leaves[i].data || leaves[i].len == 0 ||
        leaves[i].len > MV_LIMIT_TLOG_LEAF)
      return mv_diag_set(diag, MV_EINVAL,
                         "leaf %zu of the batch is empty or over %u bytes", i,
                         MV_LIMIT_TLOG_LEAF);
    bytes += leaves[i].len + MV__TLOG_REC_OVERHEAD;
  }
  if (grow(&log->dbuf, &log->dbuf_cap, bytes) != MV_OK ||
      grow(&log->ibuf, &log->ibuf_cap, n * 8) != MV_OK)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  uint64_t first = log->n, off = log->dat_end;
  log->dbuf_n = log->ibuf_n = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t h[MV_TLOG_HASH_LEN];
    size_t rl = mv__tlog_rec_encode(log->dbuf + log->dbuf_n, first + i,
                                    leaves[i].data, leaves[i].len);
    log->dbuf_n += rl;
    mv__tlog_put64(log->ibuf + log->ibuf_n, off);
    log->ibuf_n += 8;
    off += rl;
    mv_tlog_hash_leaf(leaves[i].data, leaves[i].len, h);
    if (mv__tlog_frontier_push(&log->fr, h, mv__tlog_emit_write, log) !=
        MV_OK) {
      log->failed = true;
      return mv_diag_set(diag, MV_ENOMEM, "out of memory (log failed)");
    }
  }
  if (mv__tlog_flush(log, first + n, off) != MV_OK)
    return mv_diag_set(diag, MV_EIO, "%s: write failed (log failed): %s",
                       log->dir, strerror(errno));
  if (out_first)
    *out_first = first;
  return MV_OK;
}

int mv_tlog_append_entries(struct mv_tlog *log, struct mv_tlog_entry *entries,
                           size_t n, uint64_t *out_first,
                           struct mv_diag *diag) {
  struct mv_tlog_leaf *lv = NULL;
  uint8_t *enc = NULL;
  int rc;
  if (n == 0 || !entries)
    return mv_diag_set(diag, MV_EINVAL, "empty batch");
  if (n > MV_LIMIT_TLOG_BATCH)
    return mv_diag_set(diag, MV_ETOOBIG, "batch of more than %u leaves",
                       MV_LIMIT_TLOG_BATCH);
  lv = malloc(n * sizeof(*lv));
  enc = malloc(n * MV_TLOG_ENTRY_ENC_MAX);
  if (!lv || !enc) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  uint64_t first = log->n;
  for (size_t i = 0; i < n; i++) {
    uint8_t *p = enc + i * MV_TLOG_ENTRY_ENC_MAX;
    size_t len = 0;
    struct mv_tlog_entry e = entries[i];
    e.seq = first + i;
    rc = mv_tlog_entry_encode(&e, p, MV_TLOG_ENTRY_ENC_MAX, &len, diag);
    if (rc != MV_OK)
      goto out;
    lv[i].data = p;
    lv[i].len = len;
  }
  rc = mv_tlog_append(log, lv, n, out_first, diag);
  if (rc == MV_OK)
    for (size_t i = 0; i < n; i++)
      entries[i].seq = first + i;
out:
  free(lv);
  free(enc);
  return rc;
}

int mv_tlog_sync(struct mv_tlog *log, uint64_t *out_size,
                 struct mv_diag *diag) {
  if (log->read_only)
    return mv_diag_set(diag, MV_EPERM, "log opened read-only");
  if (log->failed)
    return mv_diag_set(diag, MV_EIO, "log failed earlier; reopen it");
  if (log->n != mv_tlog_size(log)) {
    if (log->io.fdatasync(log->io.ctx, log->dat_fd) != 0) {
      log->failed = true;
      return mv_diag_set(diag, MV_EIO, "%s/leaves.dat: sync failed: %s",
                         log->dir, strerror(errno));
    }
    if (log->dir_dirty) {
      if (fsync(log->dir_fd) != 0) {
        log->failed = true;
        return mv_diag_set(diag, MV_EIO, "%s: sync failed", log->dir);
      }
      log->dir_dirty = false;
    }
    if (log->n - log->mark_n >= log->mark_every &&
        mv__tlog_write_mark(log) != MV_OK) {
      log->failed = true;
      return mv_diag_set(diag, MV_EIO, "%s: hash mark failed", log->dir);
    }
    mv__tlog_border_update(log);
    atomic_store_explicit(&log->synced, log->n, memory_order_release);
  }
  if (out_size)
    *out_size = log->n;
  return MV_OK;
}

/* ---- the right border of the published tree ------------------------------ */

/* Writer: the suffix hashes of the tree the frontier holds (n leaves), the
 * accumulators of its root fold (RFC 9162 §2.1.1 applied to the complete
 * subtrees of n, right to left). */
static void border_update(struct mv_tlog *t, uint64_t n) {
  uint64_t start = n;
  unsigned k = 0;
  uint8_t acc[MV_TLOG_HASH_LEN];
  uint64_t starts[MV__TLOG_LEVELS];
  uint8_t hashes[MV__TLOG_LEVELS][MV_TLOG_HASH_LEN];
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++) {
    if (!(n >> l & 1))
      continue;
    start -= 1ull << l;
    if (k == 0)
      memcpy(acc, t->fr.last[l], MV_TLOG_HASH_LEN);
    else
      mv_tlog_hash_node(t->fr.last[l], acc, acc);
    starts[k] = start;
    memcpy(hashes[k], acc, MV_TLOG_HASH_LEN);
    k++;
  }
  pthread_rwlock_wrlock(&t->cache_lock);
  t->border_size = n;
  t->border_n = k;
  memcpy(t->border_start, starts, k * sizeof(starts[0]));
  memcpy(t->border_hash, hashes, k * MV_TLOG_HASH_LEN);
  pthread_rwlock_unlock(&t->cache_lock);
}

void mv__tlog_border_update(struct mv_tlog *t) {
  border_update(t, t->n);
}

static bool border_range(void *ctx, uint64_t a, uint64_t b,
                         uint8_t out[MV_TLOG_HASH_LEN]) {
  struct mv_tlog *t = ctx;
  bool hit = false;
  pthread_rwlock_rdlock(&t->cache_lock);
  if (b == t->border_size && b > 0)
    for (unsigned k = 0; k < t->border_n && !hit; k++)
      if (t->border_start[k] == a) {
        memcpy(out, t->border_hash[k], MV_TLOG_HASH_LEN);
        hit = true;
      }
  pthread_rwlock_unlock(&t->cache_lock);
  return hit;
}

/* ---- readers ------------------------------------------------------------------- */

static int check_size(struct mv_tlog *log, uint64_t size,
                      struct mv_diag *diag) {
  uint64_t s = mv_tlog_size(log);
  if (size > s)
    return mv_diag_set(diag, MV_ERANGE, "tree size %llu beyond the log (%llu)",
                       (unsigned long long)size, (unsigned long long)s);
  return MV_OK;
}

int mv_tlog_root(struct mv_tlog *log, uint64_t size,
                 uint8_t out[MV_TLOG_HASH_LEN], struct mv_diag *diag) {
  int rc = check_size(log, size, diag);
  if (rc != MV_OK)
    return rc;
  if (!border_range(log, 0, size, out))
    rc = mv__tlog_range_hash(mv__tlog_disk_get, log, 0, size, out);
  return rc == MV_OK
             ? MV_OK
             : mv_diag_set(diag, rc, "%s: cannot read hashes", log->dir);
}

int mv_tlog_inclusion_proof(struct mv_tlog *log, uint64_t index, uint64_t size,
                            struct mv_tlog_proof *out, struct mv_diag *diag) {
  int rc = check_size(log, size, diag);
  if (rc != MV_OK)
    return rc;
  if (index >= size)
    return mv_diag_set(diag, MV_ERANGE, "index not below the tree size");
  rc = mv__tlog_gen_inclusion(mv__tlog_disk_get, border_range, log, index, size,
                              out);
  return rc == MV_OK
             ? MV_OK
             : mv_diag_set(diag, rc, "%s: cannot read hashes", log->dir);
}

int mv_tlog_consistency_proof(struct mv_tlog *log, uint64_t size1,
                              uint64_t size2, struct mv_tlog_proof *out,
                              struct mv_diag *diag) {
  if (size1 == 0 || size1 > size2)
    return mv_diag_set(diag, MV_EINVAL, "consistency needs 0 < size1 <= size2");
  int rc = check_size(log, size2, diag);
  if (rc != MV_OK)
    return rc;
  rc = mv__tlog_gen_consistency(mv__tlog_disk_get, border_range, log, size1,
                                size2, out);
  return rc == MV_OK
             ? MV_OK
             : mv_diag_set(diag, rc, "%s: cannot read hashes", log->dir);
}

int mv_tlog_leaf_hash(struct mv_tlog *log, uint64_t index,
                      uint8_t out[MV_TLOG_HASH_LEN], struct mv_diag *diag) {
  if (index >= mv_tlog_size(log))
    return mv_diag_set(diag, MV_ERANGE, "index beyond the log");
  int rc = mv__tlog_disk_get(log, 0, index, out);
  return rc == MV_OK
             ? MV_OK
             : mv_diag_set(diag, rc, "%s: cannot read hashes", log->dir);
}

int mv_tlog_read_leaf(struct mv_tlog *log, uint64_t index, void *buf,
                      size_t cap, size_t *out_len, struct mv_diag *diag) {
  uint8_t off8[8], hdr[12], crc4[4];
  if (index >= mv_tlog_size(log))
    return mv_diag_set(diag, MV_ERANGE, "index beyond the log");
  if (mv__tlog_read_full(log->idx_fd, off8, 8, index * 8) != MV_OK)
    return mv_diag_set(diag, MV_ECORRUPT, "leaves.idx: entry %llu missing",
                       (unsigned long long)index);
  uint64_t off = mv__tlog_get64(off8);
  if (mv__tlog_read_full(log->dat_fd, hdr, 12, off) != MV_OK)
    return mv_diag_set(diag, MV_ECORRUPT, "leaves.dat: record %llu missing",
                       (unsigned long long)index);
  uint32_t h = mv__tlog_get32(hdr);
  size_t len = h & 0xffffffu;
  if (h >> 24 != MV__TLOG_REC_MAGIC || len == 0 || len > MV_LIMIT_TLOG_LEAF ||
      mv__tlog_get64(hdr + 4) != index)
    return mv_diag_set(diag, MV_ECORRUPT,
                       "leaves.dat: record %llu has a bad header",
                       (unsigned long long)index);
  if (len > cap)
    return mv_diag_set(diag, MV_ETOOBIG, "leaf buffer too small");
  if (mv__tlog_read_full(log->dat_fd, buf, len, off + 12) != MV_OK ||
      mv__tlog_read_full(log->dat_fd, crc4, 4, off + 12 + len) != MV_OK)
    return mv_diag_set(diag, MV_ECORRUPT, "leaves.dat: record %llu truncated",
                       (unsigned long long)index);
  uint32_t crc = mv__tlog_crc32c(mv__tlog_crc32c(0, hdr, 12), buf, len);
  if (crc != mv__tlog_get32(crc4))
    return mv_diag_set(diag, MV_ECORRUPT,
                       "leaves.dat: record %llu fails its checksum",
                       (unsigned long long)index);
  *out_len = len;
  return MV_OK;
}

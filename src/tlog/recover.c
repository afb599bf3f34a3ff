/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crash recovery and full audit of the on-disk log. A hash mark names a
 * size whose records, index and hashes were all durable; after it, only
 * leaves.dat is durable (one fdatasync per batch), so on open the records
 * past the mark are re-read and checked (length, index, CRC-32C), the tail
 * is cut at the first torn or invalid record, and the index and hashes
 * past the mark are recomputed and compared. Nothing is accepted silently:
 * every repair is counted, logged and reported; damage before the mark is
 * MV_ECORRUPT. The same replay, over the whole log, is mv_tlog_verify_all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mv_log.h"
#include "tlog_int.h"

#define MARK_MAGIC "MVTLMRK1"
#define MARK_SLOT 128u
#define MARK_BODY 64u

/* ---- buffered sequential reading ------------------------------------------ */

struct rdbuf {
  int fd;
  uint64_t base; /* file offset of buf[0] */
  uint8_t *buf;
  size_t len, cap;
};

static int rd_init(struct rdbuf *r, int fd, size_t cap) {
  memset(r, 0, sizeof(*r));
  r->fd = fd;
  r->buf = malloc(cap);
  r->cap = cap;
  return r->buf ? MV_OK : MV_ENOMEM;
}

static void rd_free(struct rdbuf *r) {
  free(r->buf);
  r->buf = NULL;
}

/* Make [pos, pos+need) available if the file has it; *avail counts the
 * bytes from pos in the buffer (less than need at the end of the file). */
static int rd_at(struct rdbuf *r, uint64_t pos, size_t need, const uint8_t **p,
                 size_t *avail) {
  if (pos < r->base || pos + need > r->base + r->len) {
    r->base = pos;
    r->len = 0;
    while (r->len < r->cap) {
      ssize_t n =
          pread(r->fd, r->buf + r->len, r->cap - r->len, (off_t)(pos + r->len));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return MV_EIO;
      if (n == 0)
        break;
      r->len += (size_t)n;
    }
  }
  *p = r->buf + (pos - r->base);
  *avail = (size_t)(r->base + r->len - pos);
  return MV_OK;
}

/* ---- hash marks ---------------------------------------------------------------- */

struct mark {
  uint64_t seq, n, dat_end;
  uint8_t root[MV_TLOG_HASH_LEN];
};

static bool read_mark(struct mv_tlog *t, struct mark *out) {
  bool found = false;
  for (unsigned s = 0; s < 2; s++) {
    uint8_t b[MARK_BODY + 4];
    if (mv__tlog_read_full(t->mark_fd, b, sizeof(b), s * MARK_SLOT) != MV_OK)
      continue;
    if (memcmp(b, MARK_MAGIC, 8) != 0 ||
        mv__tlog_crc32c(0, b, MARK_BODY) != mv__tlog_get32(b + MARK_BODY))
      continue;
    uint64_t seq = mv__tlog_get64(b + 8);
    if (found && seq <= out->seq)
      continue;
    out->seq = seq;
    out->n = mv__tlog_get64(b + 16);
    out->dat_end = mv__tlog_get64(b + 24);
    memcpy(out->root, b + 32, MV_TLOG_HASH_LEN);
    found = true;
  }
  return found;
}

int mv__tlog_write_mark(struct mv_tlog *t) {
  uint8_t b[MARK_BODY + 4];
  if (t->io.fdatasync(t->io.ctx, t->dat_fd) != 0 ||
      t->io.fdatasync(t->io.ctx, t->idx_fd) != 0)
    goto fail;
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++)
    if (t->lv[l].fd >= 0 && t->io.fdatasync(t->io.ctx, t->lv[l].fd) != 0)
      goto fail;
  if (t->dir_dirty) {
    if (fsync(t->dir_fd) != 0)
      goto fail;
    t->dir_dirty = false;
  }
  memset(b, 0, sizeof(b));
  memcpy(b, MARK_MAGIC, 8);
  mv__tlog_put64(b + 8, t->mark_seq + 1);
  mv__tlog_put64(b + 16, t->n);
  mv__tlog_put64(b + 24, t->dat_end);
  mv__tlog_frontier_root(&t->fr, t->n, b + 32);
  mv__tlog_put32(b + MARK_BODY, mv__tlog_crc32c(0, b, MARK_BODY));
  /* Alternate slots: a torn mark write leaves the previous mark intact. */
  if (mv__tlog_write_all(t, t->mark_fd, b, sizeof(b),
                         ((t->mark_seq + 1) % 2) * MARK_SLOT) != MV_OK ||
      t->io.fdatasync(t->io.ctx, t->mark_fd) != 0)
    goto fail;
  t->mark_seq++;
  t->mark_n = t->n;
  return MV_OK;
fail:
  t->failed = true;
  return MV_EIO;
}

/* ---- comparing recomputed nodes with the stored ones ---------------------------- */

struct cmp {
  struct mv_tlog *t;
  uint64_t have[MV__TLOG_LEVELS]; /* hashes in each level file */
  struct rdbuf rd[MV__TLOG_LEVELS];
  uint64_t leaf;      /* the leaf being pushed */
  uint64_t bad;       /* nodes missing or different */
  uint64_t first_bad; /* leaf whose push met the first bad node */
  unsigned bad_level;
  uint64_t bad_node;
  bool missing;
};

static int cmp_init(struct cmp *c, struct mv_tlog *t) {
  memset(c, 0, sizeof(*c));
  c->t = t;
  c->first_bad = UINT64_MAX;
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++) {
    struct stat st;
    c->rd[l].fd = -1;
    if (t->lv[l].fd < 0)
      continue;
    if (fstat(t->lv[l].fd, &st) != 0)
      return MV_EIO;
    c->have[l] = (uint64_t)st.st_size / MV_TLOG_HASH_LEN;
    if (rd_init(&c->rd[l], t->lv[l].fd, 64 * 1024) != MV_OK)
      return MV_ENOMEM;
  }
  return MV_OK;
}

static void cmp_free(struct cmp *c) {
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++)
    rd_free(&c->rd[l]);
}

static int emit_cmp(void *ctx, unsigned level, uint64_t index,
                    const uint8_t h[MV_TLOG_HASH_LEN]) {
  struct cmp *c = ctx;
  const uint8_t *p = NULL;
  size_t avail = 0;
  bool ok = false, missing = true;
  if (index < c->have[level]) {
    int rc = rd_at(&c->rd[level], index * MV_TLOG_HASH_LEN, MV_TLOG_HASH_LEN,
                   &p, &avail);
    if (rc != MV_OK)
      return rc;
    if (avail >= MV_TLOG_HASH_LEN) {
      missing = false;
      ok = memcmp(p, h, MV_TLOG_HASH_LEN) == 0;
    }
  }
  if (!ok) {
    c->bad++;
    if (c->first_bad == UINT64_MAX) {
      c->first_bad = c->leaf;
      c->bad_level = level;
      c->bad_node = index;
      c->missing = missing;
    }
  }
  return MV_OK;
}

/* ---- open-time recovery ------------------------------------------------------------ */

static int file_size(int fd, uint64_t *out) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return MV_EIO;
  *out = (uint64_t)st.st_size;
  return MV_OK;
}

static int check_mark(struct mv_tlog *t, const struct mark *m,
                      struct mv_diag *diag) {
  uint64_t sz = 0;
  if (file_size(t->dat_fd, &sz) != MV_OK)
    return mv_diag_set(diag, MV_EIO, "%s: stat failed", t->dir);
  if (sz < m->dat_end)
    return mv_diag_set(diag, MV_ECORRUPT,
                       "%s/leaves.dat is shorter than its durable size "
                       "(%llu leaves were marked durable)",
                       t->dir, (unsigned long long)m->n);
  if (file_size(t->idx_fd, &sz) != MV_OK || sz < m->n * 8)
    return mv_diag_set(diag, MV_ECORRUPT,
                       "%s/leaves.idx is shorter than its durable size",
                       t->dir);
  for (unsigned l = 0; l < MV__TLOG_LEVELS && (m->n >> l) > 0; l++)
    if (t->lv[l].fd < 0 || file_size(t->lv[l].fd, &sz) != MV_OK ||
        sz < (m->n >> l) * MV_TLOG_HASH_LEN)
      return mv_diag_set(diag, MV_ECORRUPT,
                         "%s/level-%02u.hash is shorter than its durable size",
                         t->dir, l);
  if (m->n == 0)
    return MV_OK;
  uint8_t root[MV_TLOG_HASH_LEN], off8[8], rec[12];
  if (mv__tlog_range_hash(mv__tlog_disk_get, t, 0, m->n, root) != MV_OK ||
      !mv_tlog_hash_eq(root, m->root))
    return mv_diag_set(diag, MV_ECORRUPT,
                       "%s: stored hashes disagree with the hash mark at "
                       "size %llu",
                       t->dir, (unsigned long long)m->n);
  if (mv__tlog_read_full(t->idx_fd, off8, 8, (m->n - 1) * 8) != MV_OK ||
      mv__tlog_read_full(t->dat_fd, rec, 12, mv__tlog_get64(off8)) != MV_OK ||
      mv__tlog_get64(off8) + (mv__tlog_get32(rec) & 0xffffffu) +
              MV__TLOG_REC_OVERHEAD !=
          m->dat_end ||
      mv__tlog_get64(rec + 4) != m->n - 1)
    return mv_diag_set(diag, MV_ECORRUPT,
                       "%s: the last durable record (index %llu) is not "
                       "where the hash mark says",
                       t->dir, (unsigned long long)(m->n - 1));
  return MV_OK;
}

/* Truncate to the mark and recompute the index and hashes of the valid
 * records [m->n, valid_n) from leaves.dat. */
static int rebuild_tail(struct mv_tlog *t, const struct mark *m,
                        uint64_t valid_n, uint64_t valid_end) {
  struct rdbuf rd;
  int rc;
  if (ftruncate(t->dat_fd, (off_t)valid_end) != 0 ||
      ftruncate(t->idx_fd, (off_t)(m->n * 8)) != 0)
    return MV_EIO;
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++) {
    t->lv[l].flushed = m->n >> l;
    if (t->lv[l].fd >= 0 &&
        ftruncate(t->lv[l].fd, (off_t)((m->n >> l) * MV_TLOG_HASH_LEN)) != 0)
      return MV_EIO;
  }
  t->n = m->n;
  t->dat_end = m->dat_end;
  rc = mv__tlog_frontier_load(&t->fr, m->n, mv__tlog_disk_get, t);
  if (rc != MV_OK)
    return rc;
  rc = mv__tlog_load_caches(t, m->n);
  if (rc != MV_OK)
    return rc;
  if (rd_init(&rd, t->dat_fd, 1u << 20) != MV_OK)
    return MV_ENOMEM;
  uint64_t pos = m->dat_end;
  size_t batch = 0;
  t->dbuf_n = t->ibuf_n = 0;
  for (uint64_t i = m->n; i < valid_n; i++) {
    const uint8_t *p;
    size_t avail, len = 0;
    uint8_t h[MV_TLOG_HASH_LEN];
    rc =
        rd_at(&rd, pos, MV_LIMIT_TLOG_LEAF + MV__TLOG_REC_OVERHEAD, &p, &avail);
    if (rc == MV_OK && mv__tlog_rec_check(p, avail, i, &len) != MV_OK)
      rc = MV_ECORRUPT; /* changed under us */
    if (rc != MV_OK)
      goto out;
    if (t->ibuf_cap < (batch + 1) * 8) {
      size_t cap = t->ibuf_cap ? t->ibuf_cap * 2 : 65536 * 8;
      uint8_t *nb = realloc(t->ibuf, cap);
      if (!nb) {
        rc = MV_ENOMEM;
        goto out;
      }
      t->ibuf = nb;
      t->ibuf_cap = cap;
    }
    mv__tlog_put64(t->ibuf + batch * 8, pos);
    t->ibuf_n = ++batch * 8;
    mv_tlog_hash_leaf(p + 12, len, h);
    rc = mv__tlog_frontier_push(&t->fr, h, mv__tlog_emit_write, t);
    if (rc != MV_OK)
      goto out;
    pos += len + MV__TLOG_REC_OVERHEAD;
    if (batch == 65536 || i + 1 == valid_n) {
      rc = mv__tlog_flush(t, i + 1, pos);
      if (rc != MV_OK)
        goto out;
      batch = 0;
    }
  }
  if (pos != valid_end) {
    rc = MV_EINTERNAL;
    goto out;
  }
  t->mark_n = m->n;
  rc = mv__tlog_write_mark(t);
out:
  rd_free(&rd);
  return rc;
}

int mv__tlog_recover(struct mv_tlog *t, struct mv_diag *diag) {
  struct mark m = {0, 0, MV__TLOG_DAT_HDR, {0}};
  struct cmp c;
  struct rdbuf rd = {.buf = NULL};
  struct mv__tlog_frontier *fr = NULL;
  uint64_t dat_size = 0, idx_size = 0;
  int rc;
  bool have_mark = read_mark(t, &m);
  t->use_cache = false;
  rc = check_mark(t, &m, diag);
  if (rc != MV_OK)
    return rc;
  if (cmp_init(&c, t) != MV_OK) {
    cmp_free(&c);
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  }
  fr = malloc(sizeof(*fr));
  if (!fr || rd_init(&rd, t->dat_fd, 1u << 20) != MV_OK) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  if (file_size(t->dat_fd, &dat_size) != MV_OK ||
      file_size(t->idx_fd, &idx_size) != MV_OK) {
    rc = mv_diag_set(diag, MV_EIO, "%s: stat failed", t->dir);
    goto out;
  }
  rc = mv__tlog_frontier_load(fr, m.n, mv__tlog_disk_get, t);
  if (rc != MV_OK) {
    rc = mv_diag_set(diag, MV_ECORRUPT, "%s: cannot read durable hashes",
                     t->dir);
    goto out;
  }
  /* Replay the records past the mark, comparing what is stored. */
  uint64_t cur = m.n, pos = m.dat_end, idx_n = idx_size / 8, idx_bad = 0;
  struct rdbuf ird;
  if (rd_init(&ird, t->idx_fd, 64 * 1024) != MV_OK) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  for (;;) {
    const uint8_t *p, *ip;
    size_t avail, iavail, len = 0;
    uint8_t h[MV_TLOG_HASH_LEN];
    rc =
        rd_at(&rd, pos, MV_LIMIT_TLOG_LEAF + MV__TLOG_REC_OVERHEAD, &p, &avail);
    if (rc != MV_OK)
      break;
    if (mv__tlog_rec_check(p, avail, cur, &len) != MV_OK)
      break;
    bool idx_ok = false;
    if (cur < idx_n) {
      rc = rd_at(&ird, cur * 8, 8, &ip, &iavail);
      if (rc != MV_OK)
        break;
      idx_ok = iavail >= 8 && mv__tlog_get64(ip) == pos;
    }
    if (!idx_ok) {
      idx_bad++;
      if (c.first_bad > cur)
        c.first_bad = cur;
    }
    mv_tlog_hash_leaf(p + 12, len, h);
    c.leaf = cur;
    rc = mv__tlog_frontier_push(fr, h, emit_cmp, &c);
    if (rc != MV_OK)
      break;
    cur++;
    pos += len + MV__TLOG_REC_OVERHEAD;
  }
  rd_free(&ird);
  if (rc != MV_OK) {
    rc = mv_diag_set(diag, MV_EIO, "%s: read failed", t->dir);
    goto out;
  }
  uint64_t valid_n = cur, valid_end = pos, torn = dat_size - valid_end;
  bool extra = idx_n > valid_n;
  for (unsigned l = 0; l < MV__TLOG_LEVELS; l++)
    extra = extra || c.have[l] > fr->count[l];
  uint64_t hi = idx_n > c.have[0] ? idx_n : c.have[0];
  struct mv_tlog_repair *r = &t->repair;
  r->bytes_truncated = torn;
  r->hashes_recomputed = c.bad;
  r->index_rebuilt = idx_bad;
  r->leaves_dropped = hi > valid_n ? hi - valid_n : (torn ? 1 : 0);
  r->repaired = torn || c.bad || idx_bad || extra;
  t->mark_n = m.n;
  t->mark_seq = have_mark ? m.seq : 0;
  if (t->read_only) {
    uint64_t vis = valid_n < c.first_bad ? valid_n : c.first_bad;
    t->n = vis;
    rc = mv__tlog_load_caches(t, vis);
    if (rc == MV_OK && r->repaired)
      MV_LOG_WARN("tlog",
                  "read-only open: tail not repaired (normal while a writer "
                  "appends); visible size %llu of %llu valid records (%llu "
                  "bytes torn, %llu hashes and %llu index entries stale)",
                  (unsigned long long)vis, (unsigned long long)valid_n,
                  (unsigned long long)torn, (unsigned long long)c.bad,
                  (unsigned long long)idx_bad);
  } else if (r->repaired) {
    rc = rebuild_tail(t, &m, valid_n, valid_end);
    if (rc == MV_OK)
      MV_LOG_WARN("tlog",
                  "repaired the log tail: size %llu, %llu leaves dropped, "
                  "%llu bytes cut, %llu hashes and %llu index entries "
                  "recomputed",
                  (unsigned long long)valid_n,
                  (unsigned long long)r->leaves_dropped,
                  (unsigned long long)torn, (unsigned long long)c.bad,
                  (unsigned long long)idx_bad);
  } else {
    t->fr = *fr;
    t->n = valid_n;
    t->dat_end = valid_end;
    for (unsigned l = 0; l < MV__TLOG_LEVELS; l++)
      t->lv[l].flushed = fr->count[l];
    rc = mv__tlog_load_caches(t, valid_n);
  }
  if (rc != MV_OK) {
    rc = mv_diag_set(diag, rc == MV_ENOMEM ? MV_ENOMEM : MV_EIO,
                     "%s: recovery failed", t->dir);
    goto out;
  }
  if (!t->read_only)
    mv__tlog_border_update(t);
  atomic_store_explicit(&t->synced, t->n, memory_order_release);
out:
  rd_free(&rd);
  cmp_free(&c);
  free(fr);
  return rc;
}

/* ---- full audit ----------------------------------------------------------------------- */

int mv_tlog_verify_all(struct mv_tlog *log, mv_tlog_progress_fn progress,
                       void *ctx, uint8_t out_root[MV_TLOG_HASH_LEN],
                       uint64_t *out_bad_index, struct mv_diag *diag) {
  struct cmp c;
  struct rdbuf rd = {.buf = NULL}, ird = {.buf = NULL};
  struct mv__tlog_frontier *fr = NULL;
  uint64_t size = mv_tlog_size(log), pos = MV__TLOG_DAT_HDR, bad = UINT64_MAX;
  int rc = cmp_init(&c, log);
  fr = calloc(1, sizeof(*fr));
  if (rc != MV_OK || !fr || rd_init(&rd, log->dat_fd, 1u << 20) != MV_OK ||
      rd_init(&ird, log->idx_fd, 1u << 16) != MV_OK) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  for (uint64_t i = 0; i < size; i++) {
    const uint8_t *p, *ip;
    size_t avail, iavail, len = 0;
    uint8_t h[MV_TLOG_HASH_LEN];
    if (rd_at(&ird, i * 8, 8, &ip, &iavail) != MV_OK ||
        rd_at(&rd, pos, MV_LIMIT_TLOG_LEAF + MV__TLOG_REC_OVERHEAD, &p,
              &avail) != MV_OK) {
      rc = mv_diag_set(diag, MV_EIO, "%s: read failed", log->dir);
      goto out;
    }
    int r = mv__tlog_rec_check(p, avail, i, &len);
    if (r != MV_OK) {
      bad = i;
      rc = mv_diag_set(
          diag, MV_ECORRUPT, "leaf %llu: record in leaves.dat is %s",
          (unsigned long long)i,
          r == MV_ENOTFOUND ? "truncated"
                            : "invalid (length, index or checksum)");
      goto out;
    }
    if (iavail < 8 || mv__tlog_get64(ip) != pos) {
      bad = i;
      rc = mv_diag_set(diag, MV_ECORRUPT,
                       "leaf %llu: leaves.idx does not point at its record",
                       (unsigned long long)i);
      goto out;
    }
    mv_tlog_hash_leaf(p + 12, len, h);
    c.leaf = i;
    rc = mv__tlog_frontier_push(fr, h, emit_cmp, &c);
    if (rc != MV_OK) {
      rc = mv_diag_set(diag, rc, "%s: read failed", log->dir);
      goto out;
    }
    if (c.bad) {
      bad = i;
      rc = mv_diag_set(
          diag, MV_ECORRUPT, "leaf %llu: stored hash at level %u index %llu %s",
          (unsigned long long)i, c.bad_level, (unsigned long long)c.bad_node,
          c.missing ? "is missing" : "differs from the recomputed");
      goto out;
    }
    pos += len + MV__TLOG_REC_OVERHEAD;
    if (progress && ((i + 1) % 65536 == 0 || i + 1 == size) &&
        !progress(ctx, i + 1, size)) {
      rc = mv_diag_set(diag, MV_ECLOSED, "verification stopped");
      goto out;
    }
  }
  if (out_root)
    mv__tlog_frontier_root(fr, size, out_root);
  rc = MV_OK;
out:
  if (bad != UINT64_MAX && out_bad_index)
    *out_bad_index = bad;
  rd_free(&rd);
  rd_free(&ird);
  cmp_free(&c);
  free(fr);
  return rc;
}

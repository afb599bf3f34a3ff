/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger inside the group commit (issue 6, docs/decisions/0010). Every
 * record version and erasure gets an mv_tlog_entry whose leaf data is
 * inserted into the `ledger` table in the same SQLite transaction as the
 * change: the database is the source of truth. Just before COMMIT the new
 * tree root is computed from the Merkle frontier (the roots of the perfect
 * subtrees of the committed tree, RFC 9162 §2.1.1) and the batch's leaf
 * hashes, and the checkpoint (C2SP tlog-checkpoint in a signed note) for
 * the new size is signed and inserted into the same transaction. After
 * COMMIT the leaves are appended to the Merkle log files (mv_tlog) and
 * synced; only then are the writes acknowledged. A crash between the two
 * leaves the log files behind the database, and the next open appends what
 * they lack; a log ahead of the database is refused (a fork or tampering).
 * Reads, proofs and the read-only scans are in sqlite_ledger_read.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "mv_log.h"
#include "sqlite_ledger_int.h"

#define DEFAULT_ORIGIN "medverse/ledger"
#define LEDGER_DIR "ledger"
#define KEY_FILE "ledger.key"
#define VKEY_FILE "ledger.vkey"
/* Leaves appended to the log files per call while catching up at open. */
#define CATCH_UP_CHUNK 65536

/* ---- The Merkle frontier -------------------------------------------------- */

/* Push one leaf hash: merge equal-sized subtrees from the right, as the
 * binary counter of the size carries (RFC 9162 §2.1.1, MTH of a prefix). */
static void front_push(struct mv__sq_front *f, const uint8_t h[32]) {
  memcpy(f->h[f->n], h, 32);
  f->n++;
  f->size++;
  for (uint64_t s = f->size; (s & 1) == 0 && f->n >= 2; s >>= 1) {
    mv_tlog_hash_node(f->h[f->n - 2], f->h[f->n - 1], f->h[f->n - 2]);
    f->n--;
  }
}

void mv__sq_front_root(const struct mv__sq_front *f, uint8_t out[32]) {
  if (f->n == 0) {
    mv_tlog_hash_empty(out);
    return;
  }
  uint8_t r[32];
  memcpy(r, f->h[f->n - 1], 32);
  for (size_t i = f->n - 1; i-- > 0;)
    mv_tlog_hash_node(f->h[i], r, r);
  memcpy(out, r, 32);
}

/* The frontier of the log files' tree of `size` leaves, from the inclusion
 * proof of its last leaf: that leaf is the right-most one, so every hash
 * of its path is a left sibling. The first `low` hashes (low = the number
 * of trailing one bits of size - 1, the height of the smallest perfect
 * subtree) lie inside the smallest subtree and fold with the leaf into its
 * root; the rest are the roots of the larger subtrees, smallest first. */
static int front_from_log(struct mv_tlog *log, uint64_t size,
                          struct mv__sq_front *f, struct mv_diag *diag) {
  struct mv_tlog_proof *p = NULL;
  uint8_t h[32];
  int rc;
  memset(f, 0, sizeof(*f));
  if (size == 0)
    return MV_OK;
  if (!(p = malloc(sizeof(*p))))
    return MV_ENOMEM;
  if ((rc = mv_tlog_leaf_hash(log, size - 1, h, diag)) != MV_OK ||
      (rc = mv_tlog_inclusion_proof(log, size - 1, size, p, diag)) != MV_OK)
    goto out;
  unsigned low = 0;
  while (((size - 1) >> low) & 1)
    low++;
  unsigned bits = 0;
  for (uint64_t s = size; s; s >>= 1)
    bits += (unsigned)(s & 1);
  if (p->n != low + (bits - 1) || bits > MV__SQ_FRONT_MAX) {
    rc = mv_diag_set(diag, MV_ECORRUPT, "ledger: unexpected proof length");
    goto out;
  }
  for (unsigned i = 0; i < low; i++)
    mv_tlog_hash_node(p->hash[i], h, h);
  /* larger subtrees: p->hash[low..n) smallest first; frontier is largest
   * first */
  for (size_t i = p->n; i-- > low;)
    memcpy(f->h[f->n++], p->hash[i], 32);
  memcpy(f->h[f->n++], h, 32);
  f->size = size;
out:
  free(p);
  return rc;
}

/* ---- Keys ------------------------------------------------------------------ */

static int write_file(const char *dir, const char *name, const char *text,
                      mode_t mode, bool exclusive, struct mv_diag *diag) {
  char path[MV_LIMIT_PATH_MAX], tmp[MV_LIMIT_PATH_MAX];
  int n1 = snprintf(path, sizeof(path), "%s/%s", dir, name);
  int n2 =
      snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", dir, name, (long)getpid());
  if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof(path) ||
      (size_t)n2 >= sizeof(tmp))
    return mv_diag_set(diag, MV_EINVAL, "ledger directory path is too long");
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return mv_diag_set(diag, MV_EIO, "cannot create %s: %s", name,
                       strerror(errno));
  size_t len = strlen(text), off = 0;
  int rc = MV_OK;
  while (off < len && rc == MV_OK) {
    ssize_t w = write(fd, text + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      rc = MV_EIO;
    else
      off += (size_t)w;
  }
  if (rc == MV_OK && (write(fd, "\n", 1) != 1 || fsync(fd) != 0))
    rc = MV_EIO;
  close(fd);
  if (rc == MV_OK) {
    /* link: when the file must not exist yet, two processes creating it at
     * once agree on one key */
    int r = exclusive ? link(tmp, path) : rename(tmp, path);
    if (r != 0)
      rc = exclusive && errno == EEXIST ? MV_EEXISTS : MV_EIO;
  }
  unlink(tmp);
  if (rc == MV_EIO)
    return mv_diag_set(diag, MV_EIO, "cannot write %s: %s", name,
                       strerror(errno));
  if (rc == MV_OK) {
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      if (fsync(dfd) != 0)
        rc = mv_diag_set(diag, MV_EIO, "cannot sync the ledger directory");
      close(dfd);
    }
  }
  return rc;
}

/* Load the ledger key (refusing a file others may read, like the site key)
 * or create it named after origin. */
static int load_or_create_key(struct mv__sq_ledger *l, const char *dir,
                              const char *origin, bool origin_strict,
                              struct mv_diag *diag) {
  char path[MV_LIMIT_PATH_MAX];
  struct stat st;
  int rc;
  int n = snprintf(path, sizeof(path), "%s/%s", dir, KEY_FILE);
  if (n < 0 || (size_t)n >= sizeof(path))
    return mv_diag_set(diag, MV_EINVAL, "ledger directory path is too long");
  if (lstat(path, &st) != 0 && errno == ENOENT) {
    char skey[MV_TLOG_SKEY_TEXT_MAX], vkey[MV_TLOG_VKEY_TEXT_MAX];
    rc = mv_tlog_key_generate(origin, MV_TLOG_KEY_ED25519, skey, vkey, diag);
    if (rc == MV_OK)
      rc = write_file(dir, KEY_FILE, skey, 0600, true, diag);
    sodium_memzero(skey, sizeof(skey));
    if (rc == MV_OK)
      MV_LOG_INFO("store", "created the ledger signing key %s/%s", dir,
                  KEY_FILE);
    else if (rc != MV_EEXISTS)
      return rc;
    if (lstat(path, &st) != 0)
      return mv_diag_set(diag, MV_EIO, "cannot stat the ledger key: %s",
                         strerror(errno));
  }
  if (!S_ISREG(st.st_mode))
    return mv_diag_set(diag, MV_ECONFIG, "ledger key %s is not a regular file",
                       path);
  if (st.st_mode & 077)
    return mv_diag_set(diag, MV_ECONFIG,
                       "ledger key %s is accessible by group or others "
                       "(chmod 600 it)",
                       path);
  if ((rc = mv_tlog_signer_load(path, &l->key, diag)) != MV_OK)
    return rc == MV_EIO ? rc
                        : mv_diag_set(diag, MV_ECONFIG,
                                      "ledger key %s is malformed", path);
  if (l->key.type != MV_TLOG_KEY_ED25519)
    return mv_diag_set(diag, MV_ECONFIG,
                       "ledger key %s is not an Ed25519 note key", path);
  if (origin_strict && strcmp(l->key.name, origin) != 0)
    return mv_diag_set(diag, MV_ECONFIG,
                       "ledger-origin '%s' differs from the name of the "
                       "existing ledger key '%s' (the origin of a log cannot "
                       "change)",
                       origin, l->key.name);
  /* The checkpoint origin is the key's name (C2SP: verifiers look the key
   * up by origin). */
  snprintf(l->origin, sizeof(l->origin), "%s", l->key.name);
  struct mv_tlog_verifier v;
  mv_tlog_verifier_of(&l->key, &v);
  mv_tlog_verifier_format(&v, l->vkey);
  /* The verifier key beside it, for verifiers and witnesses to pin. */
  return write_file(dir, VKEY_FILE, l->vkey, 0644, false, diag);
}

/* ---- Open ------------------------------------------------------------------ */

static int load_db_size(struct mv_store_backend *be, int64_t *out,
                        struct mv_diag *diag) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(be->wdb,
                              "SELECT COALESCE(MAX(idx) + 1, 0), COUNT(*)"
                              " FROM ledger",
                              -1, &st, NULL);
  int64_t next = 0, count = 0;
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    next = sqlite3_column_int64(st, 0);
    count = sqlite3_column_int64(st, 1);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, diag, "load ledger size");
  if (next != count)
    return mv_diag_set(diag, MV_ECORRUPT,
                       "ledger table has gaps (%lld entries up to index %lld)",
                       (long long)count, (long long)next);
  *out = next;
  return MV_OK;
}

/* Copy the leaf in column col of st's row into buf. */
static int copy_leaf(sqlite3_stmt *st, int col, uint8_t *buf, size_t cap,
                     size_t *out_len) {
  const void *p = sqlite3_column_blob(st, col);
  size_t n = (size_t)sqlite3_column_bytes(st, col);
  if (!p || n == 0 || n > cap)
    return MV_ECORRUPT;
  memcpy(buf, p, n);
  *out_len = n;
  return MV_OK;
}

/* The log's last leaf must equal the database's at that index. */
static int check_last_common(struct mv_store_backend *be,
                             struct mv__sq_ledger *l, uint64_t have,
                             uint8_t *buf, struct mv_diag *diag) {
  sqlite3_stmt *st = NULL;
  uint8_t a[MV_LIMIT_TLOG_LEAF];
  size_t alen = 0, blen = 0;
  int rc = sqlite3_prepare_v2(be->wdb, "SELECT leaf FROM ledger WHERE idx = ?1",
                              -1, &st, NULL);
  if (rc != SQLITE_OK)
    return mv__sq_fail(be->wdb, rc, diag, "prepare ledger read");
  sqlite3_bind_int64(st, 1, (int64_t)have - 1);
  rc = sqlite3_step(st);
  int err = rc == SQLITE_ROW
                ? copy_leaf(st, 0, buf, MV_TLOG_ENTRY_ENC_MAX, &blen)
                : MV_ECORRUPT;
  sqlite3_finalize(st);
  if (err == MV_OK)
    err = mv_tlog_read_leaf(l->log, have - 1, a, sizeof(a), &alen, diag);
  if (err == MV_OK && (alen != blen || memcmp(a, buf, alen) != 0))
    err = mv_diag_set(diag, MV_ECORRUPT,
                      "ledger entry %llu differs between the database and "
                      "the log files: refusing to start",
                      (unsigned long long)(have - 1));
  return err;
}

/* Append the entries [log size, db size) the log files lack, in chunks of
 * one append and one sync each; refuse a log ahead of the database, or
 * whose last common leaf differs. */
static int catch_up(struct mv_store_backend *be, struct mv__sq_ledger *l,
                    int64_t db_size, struct mv_diag *diag) {
  sqlite3_stmt *st = NULL;
  uint8_t *buf = NULL;
  struct mv_tlog_leaf *leaves = NULL;
  int rc = MV_OK;
  uint64_t have = mv_tlog_size(l->log);
  if (have > (uint64_t)db_size)
    return mv_diag_set(diag, MV_ECORRUPT,
                       "the ledger files hold %llu entries but the database "
                       "only %lld: the log was forked or tampered with; "
                       "refusing to start (see docs/LEDGER.md)",
                       (unsigned long long)have, (long long)db_size);
  buf = malloc((size_t)CATCH_UP_CHUNK * MV_TLOG_ENTRY_ENC_MAX);
  leaves = calloc(CATCH_UP_CHUNK, sizeof(*leaves));
  if (!buf || !leaves) {
    rc = MV_ENOMEM;
    goto out;
  }
  if (have > 0 && (rc = check_last_common(be, l, have, buf, diag)) != MV_OK)
    goto out;
  if (have == (uint64_t)db_size)
    goto out;
  MV_LOG_WARN("store",
              "ledger files behind the database: appending %lld "
              "entries",
              (long long)(db_size - (int64_t)have));
  if ((rc = sqlite3_prepare_v2(be->wdb,
                               "SELECT idx, leaf FROM ledger WHERE idx >= ?1"
                               " AND idx < ?2 ORDER BY idx",
                               -1, &st, NULL)) != SQLITE_OK) {
    rc = mv__sq_fail(be->wdb, rc, diag, "prepare ledger read");
    goto out;
  }
  sqlite3_bind_int64(st, 1, (int64_t)have);
  sqlite3_bind_int64(st, 2, db_size);
  int64_t next = (int64_t)have;
  for (bool more = true; more;) {
    size_t k = 0, off = 0;
    int src = SQLITE_ROW;
    while (k < CATCH_UP_CHUNK && (src = sqlite3_step(st)) == SQLITE_ROW) {
      size_t len = 0;
      if (sqlite3_column_int64(st, 0) != next ||
          copy_leaf(st, 1, buf + off, MV_TLOG_ENTRY_ENC_MAX, &len) != MV_OK) {
        rc = mv_diag_set(diag, MV_ECORRUPT, "ledger entry %lld unreadable",
                         (long long)next);
        goto out;
      }
      leaves[k].data = buf + off;
      leaves[k++].len = len;
      off += len;
      next++;
    }
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
      rc = mv__sq_fail(be->wdb, src, diag, "read the ledger");
      goto out;
    }
    more = src == SQLITE_ROW;
    uint64_t first = 0;
    if (k > 0 &&
        ((rc = mv_tlog_append(l->log, leaves, k, &first, diag)) != MV_OK ||
         (rc = mv_tlog_sync(l->log, NULL, diag)) != MV_OK))
      goto out;
  }
  if (next != db_size)
    rc = mv_diag_set(diag, MV_ECORRUPT, "ledger entries missing from %lld",
                     (long long)next);
out:
  sqlite3_finalize(st);
  free(buf);
  free(leaves);
  return rc;
}

/* The newest stored checkpoint's size (-1: none). */
static int latest_ckpt(struct mv_store_backend *be, int64_t *out_size,
                       char **out_note) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(be->wdb,
                              "SELECT size, note FROM ledger_checkpoints"
                              " ORDER BY size DESC LIMIT 1",
                              -1, &st, NULL);
  *out_size = -1;
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    *out_size = sqlite3_column_int64(st, 0);
    const char *t = (const char *)sqlite3_column_text(st, 1);
    if (out_note && t && !(*out_note = strdup(t)))
      rc = SQLITE_NOMEM;
    else
      rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_OK ? MV_OK : mv__sq_map_rc(rc);
}

/* Sign the checkpoint of frontier f into l->note_buf. */
static int sign_checkpoint(struct mv__sq_ledger *l,
                           const struct mv__sq_front *f, size_t *out_len,
                           struct mv_diag *diag) {
  struct mv_tlog_checkpoint cp;
  memset(&cp, 0, sizeof(cp));
  snprintf(cp.origin, sizeof(cp.origin), "%s", l->origin);
  cp.size = f->size;
  mv__sq_front_root(f, cp.root);
  return mv_tlog_checkpoint_sign(&l->key, &cp, l->note_buf, sizeof(l->note_buf),
                                 out_len, diag);
}

static int insert_ckpt(struct mv_store_backend *be, int64_t size, int64_t t_us,
                       const char *note, size_t len) {
  sqlite3_stmt *st = be->wst[W_CKPT_INS];
  sqlite3_bind_int64(st, 1, size);
  sqlite3_bind_int64(st, 2, t_us);
  sqlite3_bind_text(st, 3, note, (int)len, SQLITE_STATIC);
  return mv__sq_step_done(st);
}

/*
 * Every batch gets a signed checkpoint, but keeping all of them would make
 * the history grow with the number of batches, not with time: a quiet
 * server commits one write per batch, and `ledger verify` checks every
 * stored signature (~40 us each). So the history is thinned in two steps:
 * checkpoints older than a minute (long after any witness fetched and
 * cosigned them) to the newest of each 10 s, keeping every cosigned one;
 * those older than a day to the newest and the newest cosigned of each
 * hour. The newest checkpoint is always kept. A verifier loses nothing:
 * each kept checkpoint commits to its whole prefix. Each step runs at most
 * once per bucket of commit time, over that span only.
 */
#define CKPT_FINE_AGE_US (60 * 1000000LL)
#define CKPT_FINE_US (10 * 1000000LL)
#define CKPT_COARSE_AGE_US (24 * 3600 * 1000000LL)
#define CKPT_COARSE_US (3600 * 1000000LL)

/* Returns MV_OK with *out_ran set when it thinned a span. */
static int thin_range(struct mv_store_backend *be, int64_t *done_us,
                      int64_t now_us, int64_t age_us, int64_t bucket_us,
                      bool keep_cosigned, bool *out_ran) {
  int64_t upto = now_us - age_us;
  *out_ran = false;
  if (upto - *done_us < bucket_us)
    return MV_OK;
  upto -= upto % bucket_us; /* whole buckets only */
  sqlite3_stmt *st = be->wst[W_CKPT_THIN];
  sqlite3_bind_int64(st, 1, *done_us);
  sqlite3_bind_int64(st, 2, upto);
  sqlite3_bind_int64(st, 3, bucket_us);
  sqlite3_bind_int(st, 4, keep_cosigned);
  int src = mv__sq_step_done(st);
  if (src != SQLITE_OK)
    return mv__sq_fail(be->wdb, src, NULL, "thin the ledger checkpoints");
  *done_us = upto;
  *out_ran = true;
  return MV_OK;
}

static int thin_checkpoints(struct mv_store_backend *be,
                            struct mv__sq_ledger *l, int64_t now_us) {
  bool ran;
  int rc = thin_range(be, &l->thinned_us, now_us, CKPT_FINE_AGE_US,
                      CKPT_FINE_US, true, &ran);
  if (rc != MV_OK)
    return rc;
  /* A day on, a witness's cosignature of every interval would keep a
   * checkpoint per interval: keep the newest cosigned one per hour. */
  rc = thin_range(be, &l->thinned_coarse_us, now_us, CKPT_COARSE_AGE_US,
                  CKPT_COARSE_US, false, &ran);
  if (rc != MV_OK || !ran)
    return rc;
  int src = mv__sq_step_done(be->wst[W_COSIG_ORPHANS]);
  if (src != SQLITE_OK)
    return mv__sq_fail(be->wdb, src, NULL, "drop thinned cosignatures");
  return MV_OK;
}

static void set_latest(struct mv__sq_ledger *l, const char *note, size_t len,
                       int64_t size) {
  pthread_mutex_lock(&l->mu);
  memcpy(l->latest, note, len);
  l->latest[len] = '\0';
  l->latest_len = len;
  l->visible = size;
  pthread_mutex_unlock(&l->mu);
}

/* Open the log files, catch up, rebuild the frontier, check it against the
 * newest checkpoint, and sign one for the current size if needed. */
static int open_log(struct mv_store_backend *be, struct mv__sq_ledger *l,
                    const char *dir, struct mv_diag *diag) {
  struct mv_tlog_open_opts oo = {.read_only = false, .create = true};
  char *note = NULL;
  int64_t ck_size = -1;
  int rc = mv_tlog_open(dir, &oo, &l->log, diag);
  if (rc != MV_OK)
    return rc;
  struct mv_tlog_repair rep;
  mv_tlog_repair_info(l->log, &rep);
  if (rep.repaired)
    MV_LOG_WARN("store",
                "ledger files repaired at open: %llu torn entries dropped "
                "(committed ones are appended again from the database)",
                (unsigned long long)rep.leaves_dropped);
  if ((rc = catch_up(be, l, l->next_idx, diag)) != MV_OK)
    return rc;
  if ((rc = front_from_log(l->log, (uint64_t)l->next_idx, &l->front, diag)) !=
      MV_OK)
    return rc;
  uint8_t root[32], froot[32];
  if ((rc = mv_tlog_root(l->log, (uint64_t)l->next_idx, root, diag)) != MV_OK)
    return rc;
  mv__sq_front_root(&l->front, froot);
  if (!mv_tlog_hash_eq(root, froot))
    return mv_diag_set(diag, MV_ECORRUPT,
                       "ledger frontier does not match "
                       "the log's root");
  if ((rc = latest_ckpt(be, &ck_size, &note)) != MV_OK)
    return mv_diag_set(diag, rc, "cannot read the ledger checkpoints");
  if (ck_size > l->next_idx) {
    free(note);
    return mv_diag_set(diag, MV_ECORRUPT,
                       "a ledger checkpoint of size %lld is newer than the "
                       "log (%lld entries)",
                       (long long)ck_size, (long long)l->next_idx);
  }
  if (ck_size == l->next_idx && note) {
    /* It must be ours and match the tree we have. */
    struct mv_tlog_verifier v;
    struct mv_tlog_checkpoint cp;
    mv_tlog_verifier_of(&l->key, &v);
    rc = mv_tlog_checkpoint_open(note, strlen(note), &v, NULL, 0, &cp, NULL,
                                 NULL, NULL);
    if (rc != MV_OK || cp.size != (uint64_t)ck_size ||
        !mv_tlog_hash_eq(cp.root, root)) {
      free(note);
      return mv_diag_set(diag, MV_ECORRUPT,
                         "the newest ledger checkpoint (size %lld) does not "
                         "verify against the ledger key and log",
                         (long long)ck_size);
    }
    set_latest(l, note, strlen(note), ck_size);
    free(note);
    return MV_OK;
  }
  free(note);
  /* Entries written by a process without the log files (or a fresh log):
   * a checkpoint for the current size, in its own transaction. */
  size_t len = 0;
  if ((rc = sign_checkpoint(l, &l->front, &len, diag)) != MV_OK)
    return rc;
  int src = insert_ckpt(be, l->next_idx, mv_clock_now_us(be->clock),
                        l->note_buf, len);
  if (src != SQLITE_OK)
    return mv__sq_fail(be->wdb, src, diag, "store a ledger checkpoint");
  set_latest(l, l->note_buf, len, l->next_idx);
  return MV_OK;
}

int mv__sq_ledger_open(struct mv_store_backend *be, const char *location,
                       const struct mv_store_opts *opts, struct mv_diag *diag) {
  struct mv__sq_ledger *l = calloc(1, sizeof(*l));
  char dir[MV_LIMIT_PATH_MAX];
  int rc;
  if (!l)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  if (pthread_mutex_init(&l->mu, NULL) != 0) {
    free(l);
    return mv_diag_set(diag, MV_ENOMEM, "cannot create the ledger lock");
  }
  be->led = l;
  l->mode = opts ? opts->ledger : MV_STORE_LEDGER_DEFER;
  if (l->mode != MV_STORE_LEDGER_DEFER && l->mode != MV_STORE_LEDGER_ON)
    return mv_diag_set(diag, MV_EINVAL, "unknown ledger mode");
  if ((rc = load_db_size(be, &l->next_idx, diag)) != MV_OK)
    return rc;
  l->visible = l->next_idx;
  if (l->mode != MV_STORE_LEDGER_ON)
    return MV_OK;
  int n = snprintf(dir, sizeof(dir), "%s/%s", location, LEDGER_DIR);
  if (n < 0 || (size_t)n >= sizeof(dir))
    return mv_diag_set(diag, MV_EINVAL, "ledger directory path is too long");
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return mv_diag_set(diag, MV_EIO, "cannot create %s: %s", dir,
                       strerror(errno));
  const char *origin = opts->ledger_origin && *opts->ledger_origin
                           ? opts->ledger_origin
                           : DEFAULT_ORIGIN;
  bool strict = opts->ledger_origin && *opts->ledger_origin &&
                !opts->ledger_origin_default;
  if ((rc = load_or_create_key(l, dir, origin, strict, diag)) != MV_OK)
    return rc;
  if ((rc = open_log(be, l, dir, diag)) != MV_OK)
    return rc;
  MV_LOG_INFO("store", "ledger open: %lld entries, origin %s",
              (long long)l->next_idx, l->origin);
  return MV_OK;
}

void mv__sq_ledger_close(struct mv_store_backend *be) {
  struct mv__sq_ledger *l = be->led;
  if (!l)
    return;
  mv_tlog_close(l->log);
  mv_tlog_signer_wipe(&l->key);
  free(l->pend);
  free(l->offs);
  pthread_mutex_destroy(&l->mu);
  free(l);
  be->led = NULL;
}

/* ---- The batch ------------------------------------------------------------- */

void mv__sq_ledger_begin(struct mv_store_backend *be) {
  struct mv__sq_ledger *l = be->led;
  l->idx0 = l->next_idx;
  l->n_pend = 0;
  l->pend_len = 0;
  l->note_len = 0;
}

int64_t mv__sq_ledger_mark(struct mv_store_backend *be) {
  return be->led->next_idx;
}

void mv__sq_ledger_rewind(struct mv_store_backend *be, int64_t mark) {
  struct mv__sq_ledger *l = be->led;
  if (mark < l->idx0 || mark > l->next_idx)
    return;
  l->n_pend = (size_t)(mark - l->idx0);
  l->pend_len = l->n_pend ? l->offs[l->n_pend] : 0;
  l->next_idx = mark;
}

void mv__sq_ledger_abort(struct mv_store_backend *be) {
  mv__sq_ledger_rewind(be, be->led->idx0);
}

static int reserve(struct mv__sq_ledger *l, size_t add) {
  if (l->n_pend + 2 > l->cap_offs) {
    size_t cap = l->cap_offs ? l->cap_offs * 2 : 256;
    size_t *p = realloc(l->offs, cap * sizeof(*p));
    if (!p)
      return MV_ENOMEM;
    l->offs = p;
    l->cap_offs = cap;
  }
  if (l->pend_len + add > l->cap_pend) {
    size_t cap = l->cap_pend ? l->cap_pend * 2 : 64 * 1024;
    while (cap < l->pend_len + add)
      cap *= 2;
    uint8_t *p = realloc(l->pend, cap);
    if (!p)
      return MV_ENOMEM;
    l->pend = p;
    l->cap_pend = cap;
  }
  return MV_OK;
}

int mv__sq_ledger_add(struct mv_store_backend *be, int action, const char *type,
                      const char *id, int64_t version, const char *actor,
                      int64_t t_us, const uint8_t *sealed, size_t sealed_len,
                      int64_t *out_idx) {
  struct mv__sq_ledger *l = be->led;
  struct mv_tlog_entry e;
  size_t len = 0;
  memset(&e, 0, sizeof(e));
  e.seq = (uint64_t)l->next_idx;
  e.t_us = t_us;
  e.action = (enum mv_tlog_action)action;
  snprintf(e.actor, sizeof(e.actor), "%s", actor && *actor ? actor : "system");
  snprintf(e.type, sizeof(e.type), "%s", type);
  snprintf(e.id, sizeof(e.id), "%s", id);
  e.version = (uint64_t)version;
  mv_tlog_commitment(sealed, sealed_len, e.commitment);
  if (reserve(l, MV_TLOG_ENTRY_ENC_MAX) != MV_OK)
    return SQLITE_NOMEM;
  if (l->n_pend == 0)
    l->offs[0] = 0;
  uint8_t *dst = l->pend + l->pend_len;
  if (mv_tlog_entry_encode(&e, dst, MV_TLOG_ENTRY_ENC_MAX, &len, NULL) !=
      MV_OK) {
    /* Inputs are validated before they are queued; an actor with a
     * character the log does not allow fails this write alone. */
    MV_LOG_ERROR("store", "ledger entry rejected by the encoder");
    return SQLITE_CONSTRAINT;
  }
  sqlite3_stmt *st = be->wst[W_LEDGER_INS];
  sqlite3_bind_int64(st, 1, l->next_idx);
  sqlite3_bind_blob(st, 2, dst, (int)len, SQLITE_STATIC);
  int rc = mv__sq_step_done(st);
  if (rc != SQLITE_OK)
    return rc;
  /* Nothing can fail after this point: the entry is the write's last
   * statement, so a savepoint rollback never leaves it pending. */
  l->pend_len += len;
  l->n_pend++;
  l->offs[l->n_pend] = l->pend_len;
  *out_idx = l->next_idx++;
  return SQLITE_OK;
}

int mv__sq_ledger_precommit(struct mv_store_backend *be, int64_t t_us) {
  struct mv__sq_ledger *l = be->led;
  if (l->mode != MV_STORE_LEDGER_ON || l->n_pend == 0)
    return MV_OK;
  l->next_front = l->front;
  for (size_t i = 0; i < l->n_pend; i++) {
    uint8_t h[32];
    mv_tlog_hash_leaf(l->pend + l->offs[i], l->offs[i + 1] - l->offs[i], h);
    front_push(&l->next_front, h);
  }
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = sign_checkpoint(l, &l->next_front, &l->note_len, &d);
  if (rc != MV_OK) {
    MV_LOG_ERROR("store", "ledger checkpoint not signed: %s", d.msg);
    return rc;
  }
  int src = insert_ckpt(be, (int64_t)l->next_front.size, t_us, l->note_buf,
                        l->note_len);
  if (src != SQLITE_OK)
    return mv__sq_fail(be->wdb, src, NULL, "store a ledger checkpoint");
  return thin_checkpoints(be, l, t_us);
}

int mv__sq_ledger_committed(struct mv_store_backend *be) {
  struct mv__sq_ledger *l = be->led;
  struct mv_diag d;
  int rc = MV_OK;
  if (l->mode != MV_STORE_LEDGER_ON) {
    pthread_mutex_lock(&l->mu);
    l->visible = l->next_idx;
    pthread_mutex_unlock(&l->mu);
    return MV_OK;
  }
  if (l->n_pend == 0 && !l->behind)
    return MV_OK;
  mv_diag_clear(&d);
  if (l->behind) {
    /* An earlier batch reached the database but not the log files. */
    if ((rc = catch_up(be, l, l->idx0, &d)) != MV_OK)
      goto out;
    l->behind = false;
  }
  if (l->n_pend > 0) {
    struct mv_tlog_leaf *lv = calloc(l->n_pend, sizeof(*lv));
    uint64_t first = 0;
    if (!lv) {
      rc = MV_ENOMEM;
      goto out;
    }
    for (size_t i = 0; i < l->n_pend; i++) {
      lv[i].data = l->pend + l->offs[i];
      lv[i].len = l->offs[i + 1] - l->offs[i];
    }
    rc = mv_tlog_append(l->log, lv, l->n_pend, &first, &d);
    free(lv);
    if (rc == MV_OK && first != (uint64_t)l->idx0) {
      mv_diag_set(&d, MV_ECORRUPT, "log index %llu, database index %lld",
                  (unsigned long long)first, (long long)l->idx0);
      rc = MV_ECORRUPT;
    }
    if (rc == MV_OK)
      rc = mv_tlog_sync(l->log, NULL, &d);
    if (rc != MV_OK)
      goto out;
    l->front = l->next_front;
    set_latest(l, l->note_buf, l->note_len, l->next_idx);
  }
out:
  if (rc != MV_OK) {
    /* The batch is durable in the database; the log files catch up at the
     * next batch or open. Its writers are told it failed. */
    l->behind = true;
    l->front = l->next_front;
    MV_LOG_ERROR("store", "ledger append failed (%s): %s", mv_err_name(rc),
                 d.msg);
    return rc == MV_ECORRUPT ? MV_ECORRUPT : MV_EIO;
  }
  return MV_OK;
}

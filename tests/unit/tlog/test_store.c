/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log on disk: append and reopen, roots and proofs from disk equal the
 * in-memory ones for every (index, size) up to 70, a torn tail is repaired
 * at every byte offset of the last record, stale or missing hash and index
 * files are recomputed, damage before a hash mark is refused, injected
 * write and sync failures fail the log, a full audit names the first bad
 * leaf, and a reader thread sees only verifiable proofs while a writer
 * appends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mv_log.h"
#include "mv_test.h"
#include "mv_tlog.h"
#include "tlog_int.h"

#define MAXL 2100

static uint8_t g_leaf_hash[MAXL][32];

/* Deterministic leaf i: 1..40 bytes. */
static size_t leaf_data(uint64_t i, uint8_t *out) {
  size_t len = 1 + (size_t)(i * 7 % 40);
  for (size_t k = 0; k < len; k++)
    out[k] = (uint8_t)(i * 31 + k * 17 + 5);
  return len;
}

static int setup(void **state) {
  (void)state;
  uint8_t d[64];
  for (uint64_t i = 0; i < MAXL; i++) {
    size_t n = leaf_data(i, d);
    mv_tlog_hash_leaf(d, n, g_leaf_hash[i]);
  }
  mv_log_set_level(MV_LOG_ERROR);
  return 0;
}

static struct mv_tlog *open_log(const char *dir, bool ro) {
  struct mv_tlog *t = NULL;
  struct mv_tlog_open_opts o = {.read_only = ro, .create = !ro};
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_tlog_open(dir, &o, &t, &d);
  if (rc != MV_OK)
    printf("open: %s: %s\n", mv_err_name(rc), d.msg);
  assert_int_equal(rc, MV_OK);
  return t;
}

/* Append leaves [from, to) in batches of batch, syncing each. */
static void append_range(struct mv_tlog *t, uint64_t from, uint64_t to,
                         size_t batch) {
  static uint8_t data[100][64];
  struct mv_tlog_leaf lv[100];
  assert_true(batch <= 100);
  while (from < to) {
    size_t n = (size_t)(to - from) < batch ? (size_t)(to - from) : batch;
    for (size_t k = 0; k < n; k++) {
      lv[k].data = data[k];
      lv[k].len = leaf_data(from + k, data[k]);
    }
    uint64_t first = 0;
    assert_int_equal(mv_tlog_append(t, lv, n, &first, NULL), MV_OK);
    assert_int_equal(first, from);
    assert_int_equal(mv_tlog_sync(t, NULL, NULL), MV_OK);
    from += n;
  }
  assert_int_equal(mv_tlog_size(t), to);
}

static void check_against_memory(struct mv_tlog *t, uint64_t size, bool all) {
  for (uint64_t n = 0; n <= size; n++) {
    uint8_t a[32], b[32];
    assert_int_equal(mv_tlog_mem_root(g_leaf_hash, n, a), MV_OK);
    assert_int_equal(mv_tlog_root(t, n, b, NULL), MV_OK);
    assert_memory_equal(a, b, 32);
    if (!all && n != size)
      continue;
    for (uint64_t i = 0; i < n; i++) {
      struct mv_tlog_proof p, q;
      assert_int_equal(mv_tlog_mem_inclusion_proof(g_leaf_hash, i, n, &p),
                       MV_OK);
      assert_int_equal(mv_tlog_inclusion_proof(t, i, n, &q, NULL), MV_OK);
      assert_int_equal(p.n, q.n);
      assert_memory_equal(p.hash, q.hash, 32 * p.n);
      assert_int_equal(mv_tlog_mem_consistency_proof(g_leaf_hash, i + 1, n, &p),
                       MV_OK);
      assert_int_equal(mv_tlog_consistency_proof(t, i + 1, n, &q, NULL), MV_OK);
      assert_int_equal(p.n, q.n);
      assert_memory_equal(p.hash, q.hash, 32 * p.n);
      uint8_t h[32];
      assert_int_equal(mv_tlog_leaf_hash(t, i, h, NULL), MV_OK);
      assert_memory_equal(h, g_leaf_hash[i], 32);
    }
  }
}

static void tlog_proofs_from_disk_equal_proofs_from_memory(void **state) {
  (void)state;
  char dir[64];
  assert_int_equal(mvt_tempdir(dir, sizeof(dir), "tlog"), 0);
  struct mv_tlog *t = open_log(dir, false);
  assert_int_equal(mv_tlog_size(t), 0);
  uint64_t at = 0;
  for (size_t b = 1; at < 70; b++) {
    uint64_t to = at + b > 70 ? 70 : at + b;
    append_range(t, at, to, b);
    at = to;
  }
  check_against_memory(t, 70, true);
  /* leaf data comes back */
  uint8_t buf[MV_LIMIT_TLOG_LEAF], want[64];
  size_t n = 0;
  assert_int_equal(mv_tlog_read_leaf(t, 33, buf, sizeof(buf), &n, NULL), MV_OK);
  assert_int_equal(n, leaf_data(33, want));
  assert_memory_equal(buf, want, n);
  assert_int_equal(mv_tlog_read_leaf(t, 33, buf, 1, &n, NULL), MV_ETOOBIG);
  assert_int_equal(mv_tlog_read_leaf(t, 70, buf, sizeof(buf), &n, NULL),
                   MV_ERANGE);
  struct mv_tlog_proof p;
  assert_int_equal(mv_tlog_inclusion_proof(t, 0, 71, &p, NULL), MV_ERANGE);
  assert_int_equal(mv_tlog_consistency_proof(t, 0, 5, &p, NULL), MV_EINVAL);
  /* a second writer is refused */
  struct mv_tlog *t2 = NULL;
  struct mv_tlog_open_opts o = {.create = true};
  assert_int_equal(mv_tlog_open(dir, &o, &t2, NULL), MV_EBUSY);
  mv_tlog_close(t);

  t = open_log(dir, false);
  struct mv_tlog_repair r;
  mv_tlog_repair_info(t, &r);
  assert_false(r.repaired);
  assert_int_equal(mv_tlog_size(t), 70);
  check_against_memory(t, 70, true);
  append_range(t, 70, 100, 7);
  check_against_memory(t, 100, false);
  uint8_t root[32], want_root[32];
  uint64_t bad = 99;
  assert_int_equal(mv_tlog_verify_all(t, NULL, NULL, root, &bad, NULL), MV_OK);
  assert_int_equal(mv_tlog_mem_root(g_leaf_hash, 100, want_root), MV_OK);
  assert_memory_equal(root, want_root, 32);
  assert_int_equal(bad, 99); /* untouched on success */
  mv_tlog_close(t);

  struct mv_tlog *ro = open_log(dir, true);
  assert_int_equal(mv_tlog_size(ro), 100);
  assert_int_equal(mv_tlog_append(ro, NULL, 0, NULL, NULL), MV_EPERM);
  check_against_memory(ro, 100, false);
  mv_tlog_close(ro);
  mvt_rm_rf(dir);
}

/* ---- crash images ------------------------------------------------------- */

static const char *const FILES[] = {
    "leaves.dat",    "leaves.idx",    "mark",          "level-00.hash",
    "level-01.hash", "level-02.hash", "level-03.hash", "level-04.hash"};

static void copy_file(const char *from, const char *to) {
  int a = open(from, O_RDONLY), b;
  if (a < 0) {
    unlink(to);
    return;
  }
  b = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(b >= 0);
  char buf[65536];
  ssize_t n;
  while ((n = read(a, buf, sizeof(buf))) > 0)
    assert_int_equal(write(b, buf, (size_t)n), n);
  close(a);
  close(b);
}

static void image(const char *dir, const char *img, bool save) {
  char a[256], b[256];
  for (size_t i = 0; i < MV_ARRAY_LEN(FILES); i++) {
    snprintf(a, sizeof(a), "%s/%s", dir, FILES[i]);
    snprintf(b, sizeof(b), "%s/%s", img, FILES[i]);
    if (save)
      copy_file(a, b);
    else
      copy_file(b, a);
  }
}

static uint64_t fsize(const char *dir, const char *name) {
  char p[256];
  struct stat st;
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  if (stat(p, &st) != 0)
    return 0;
  return (uint64_t)st.st_size;
}

static void cut(const char *dir, const char *name, uint64_t len) {
  char p[256];
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  assert_int_equal(truncate(p, (off_t)len), 0);
}

static void flip(const char *dir, const char *name, uint64_t off) {
  char p[256];
  uint8_t c;
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  int fd = open(p, O_RDWR);
  assert_true(fd >= 0);
  assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
  c ^= 0x40;
  assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
  close(fd);
}

/* A log of n leaves whose process "crashed" (no close, no hash mark). */
static void crashed_log(const char *dir, uint64_t n) {
  struct mv_tlog *t = open_log(dir, false);
  append_range(t, 0, n - 1, 3);
  append_range(t, n - 1, n, 1);
  mv__tlog_abandon(t);
}

static void tlog_torn_tail_is_repaired_at_every_byte_offset(void **state) {
  (void)state;
  char dir[64], img[64];
  assert_int_equal(mvt_tempdir(dir, sizeof(dir), "tlog"), 0);
  assert_int_equal(mvt_tempdir(img, sizeof(img), "tlogimg"), 0);
  crashed_log(dir, 10);
  image(dir, img, true);
  uint8_t d[64];
  uint64_t last_len = leaf_data(9, d) + MV__TLOG_REC_OVERHEAD;
  uint64_t end = fsize(dir, "leaves.dat"), start = end - last_len;
  for (uint64_t c = start; c < end; c++) {
    image(dir, img, false);
    cut(dir, "leaves.dat", c);
    /* read-only first: sees 9, changes nothing */
    struct mv_tlog *t = open_log(dir, true);
    struct mv_tlog_repair r;
    assert_int_equal(mv_tlog_size(t), 9);
    mv_tlog_repair_info(t, &r);
    assert_true(r.repaired);
    mv_tlog_close(t);
    assert_int_equal(fsize(dir, "leaves.dat"), c);
    /* read-write: repaired to 9 */
    t = open_log(dir, false);
    mv_tlog_repair_info(t, &r);
    assert_true(r.repaired);
    assert_int_equal(r.bytes_truncated, c - start);
    assert_true(r.leaves_dropped >= 1);
    assert_int_equal(mv_tlog_size(t), 9);
    assert_int_equal(fsize(dir, "leaves.dat"), start);
    check_against_memory(t, 9, false);
    append_range(t, 9, 12, 2);
    check_against_memory(t, 12, false);
    mv_tlog_close(t);
  }
  /* a flipped byte anywhere in the last record: dropped, not accepted */
  for (uint64_t c = start; c < end; c++) {
    image(dir, img, false);
    flip(dir, "leaves.dat", c);
    struct mv_tlog *t = open_log(dir, false);
    struct mv_tlog_repair r;
    mv_tlog_repair_info(t, &r);
    assert_true(r.repaired);
    assert_int_equal(mv_tlog_size(t), 9);
    check_against_memory(t, 9, false);
    mv_tlog_close(t);
  }
  mvt_rm_rf(dir);
  mvt_rm_rf(img);
}

static void tlog_stale_hash_and_index_files_are_recomputed(void **state) {
  (void)state;
  char dir[64], img[64];
  assert_int_equal(mvt_tempdir(dir, sizeof(dir), "tlog"), 0);
  assert_int_equal(mvt_tempdir(img, sizeof(img), "tlogimg"), 0);
  crashed_log(dir, 13);
  image(dir, img, true);
  struct {
    const char *file;
    bool flip;
    uint64_t at;
  } cases[] = {
      {"level-00.hash", false, 32 * 10}, {"level-00.hash", false, 0},
      {"level-01.hash", false, 32 * 3},  {"level-02.hash", false, 0},
      {"leaves.idx", false, 8 * 7},      {"leaves.idx", false, 5},
      {"level-00.hash", true, 32 * 12},  {"level-01.hash", true, 32 * 2 + 3},
      {"level-03.hash", true, 0},        {"leaves.idx", true, 8 * 4},
  };
  for (size_t k = 0; k <= MV_ARRAY_LEN(cases); k++) {
    image(dir, img, false);
    if (k == MV_ARRAY_LEN(cases)) {
      /* a whole hash file lost (and the ones above it kept) */
      char p[256];
      snprintf(p, sizeof(p), "%s/level-01.hash", dir);
      assert_int_equal(unlink(p), 0);
    } else if (cases[k].flip) {
      flip(dir, cases[k].file, cases[k].at);
    } else {
      cut(dir, cases[k].file, cases[k].at);
    }
    struct mv_tlog *ro = open_log(dir, true);
    assert_true(mv_tlog_size(ro) < 13);
    mv_tlog_close(ro);
    struct mv_tlog *t = open_log(dir, false);
    struct mv_tlog_repair r;
    mv_tlog_repair_info(t, &r);
    assert_true(r.repaired);
    assert_true(r.hashes_recomputed + r.index_rebuilt > 0);
    assert_int_equal(r.bytes_truncated, 0);
    assert_int_equal(mv_tlog_size(t), 13);
    check_against_memory(t, 13, true);
    assert_int_equal(mv_tlog_verify_all(t, NULL, NULL, NULL, NULL, NULL),
                     MV_OK);
    mv_tlog_close(t);
  }
  mvt_rm_rf(dir);
  mvt_rm_rf(img);
}

static void tlog_damage_before_the_mark_is_refused(void **state) {
  (void)state;
  char dir[64], img[64];
  assert_int_equal(mvt_tempdir(dir, sizeof(dir), "tlog"), 0);
  assert_int_equal(mvt_tempdir(img, sizeof(img), "tlogimg"), 0);
  struct mv_tlog *t = open_log(dir, false);
  append_range(t, 0, 20, 4);
  mv_tlog_close(t); /* writes a hash mark at 20 */
  image(dir, img, true);
  struct mv_tlog_open_opts o = {0};
  struct mv_diag d;
  /* truncated log, hash file, index */
  const char *files[] = {"leaves.dat", "level-00.hash", "leaves.idx",
                         "level-02.hash"};
  for (size_t k = 0; k < MV_ARRAY_LEN(files); k++) {
    image(dir, img, false);
    cut(dir, files[k], fsize(dir, files[k]) - 1);
    t = NULL;
    mv_diag_clear(&d);
    assert_int_equal(mv_tlog_open(dir, &o, &t, &d), MV_ECORRUPT);
    assert_null(t);
    assert_non_null(strstr(d.msg, files[k]));
  }
  /* a changed stored node on the root path */
  image(dir, img, false);
  flip(dir, "level-04.hash", 0);
  mv_diag_clear(&d);
  assert_int_equal(mv_tlog_open(dir, &o, &t, &d), MV_ECORRUPT);
  /* a changed leaf record in the middle: open succeeds (it is before the
   * mark), the full audit names it */
  image(dir, img, false);
  uint8_t dd[64];
  uint64_t off = MV__TLOG_DAT_HDR;
  for (uint64_t i = 0; i < 5; i++)
    off += leaf_data(i, dd) + MV__TLOG_REC_OVERHEAD;
  flip(dir, "leaves.dat", off + 13);
  t = open_log(dir, true);
  uint64_t bad = 0;
  mv_diag_clear(&d);
  assert_int_equal(mv_tlog_verify_all(t, NULL, NULL, NULL, &bad, &d),
                   MV_ECORRUPT);
  assert_int_equal(bad, 5);
  uint8_t buf[64];
  size_t n;
  assert_int_equal(mv_tlog_read_leaf(t, 5, buf, sizeof(buf), &n, NULL),
                   MV_ECORRUPT);
  mv_tlog_close(t);
  /* a changed leaf hash: the audit names its leaf */
  image(dir, img, false);
  flip(dir, "level-00.hash", 32 * 11 + 7);
  t = open_log(dir, true);
  assert_int_equal(mv_tlog_verify_all(t, NULL, NULL, NULL, &bad, &d),
                   MV_ECORRUPT);
  assert_int_equal(bad, 11);
  mv_tlog_close(t);
  mvt_rm_rf(dir);
  mvt_rm_rf(img);
}

static void tlog_mark_bounds_the_rescan(void **state) {
  (void)state;
  char dir[64];
  assert_int_equal(mvt_tempdir(dir, sizeof(dir), "tlog"), 0);
  struct mv_tlog *t = open_log(dir, false);
  t->mark_every = 8;
  append_range(t, 0, 30, 3);
  uint64_t mark_n = t->mark_n;
  assert_true(mark_n >= 24 && mark_n <= 30);
  mv__tlog_abandon(t);
  t = open_log(dir, false);
  assert_int_equal(t->mark_n, mark_n);
  assert_int_equal(mv_tlog_size(t), 30);
  check_against_memory(t, 30, false);
  mv__tlog_abandon(t);
  /* cutting into the marked part is corruption, not a torn tail */
  uint8_t dd[64];
  uint64_t off = MV__TLOG_DAT_HDR;
  for (uint64_t i = 0; i < 20; i++)
    off += leaf_data(i, dd) + MV__TLOG_REC_OVERHEAD;
  cut(dir, "leaves.dat", off);
  struct mv_tlog_open_opts o = {0};
  assert_int_equal(mv_tlog_open(dir, &o, &t, NULL), MV_ECORRUPT);
  mvt_rm_rf(dir);
}

/* ---- injected I/O faults ------------------------------------------------ */

struct fault {
  int fd;        /* descriptor to fault */
  int countdown; /* writes to it that succeed first */
  bool tear;     /* write half, then fail */
  bool fail_sync;
};
static struct fault g_fault;

static ssize_t f_pwrite(void *ctx, int fd, const void *buf, size_t len,
                        off_t off) {
  (void)ctx;
  if (fd == g_fault.fd && g_fault.tear && g_fault.countdown-- <= 0) {
    if (len > 1)
      assert_int_equal(pwrite(fd, buf, len / 2, off), (ssize_t)(len / 2));
    errno = ENOSPC;
    return -1;
  }
  return pwrite(fd, buf, len, off);
}

static int f_sync(void *ctx, int fd) {
  (void)ctx;
  if (fd == g_fault.fd && g_fault.fail_sync) {
    errno = EIO;
    return -1;
  }
  return fdatasync(fd);
}

static void tlog_injected_faults_fail_the_log_and_reopen_repairs(void **state) {
  (void)state;
  char dir[64];
  assert_int_equal(mvt_tempdir(dir, sizeof(dir), "tlog"), 0);
  struct mv__tlog_io io = {f_pwrite, f_sync, NULL};
  memset(&g_fault, 0, sizeof(g_fault));
  g_fault.fd = -2;
  mv__tlog_set_io(&io);
  struct mv_tlog *t = open_log(dir, false);
  append_range(t, 0, 10, 4);
  /* tear the next leaves.dat write */
  g_fault.fd = t->dat_fd;
  g_fault.tear = true;
  g_fault.countdown = 0;
  uint8_t d[64], d3[3][64];
  struct mv_tlog_leaf lv[3];
  for (int k = 0; k < 3; k++) {
    lv[k].data = d3[k];
    lv[k].len = leaf_data(10 + (uint64_t)k, d3[k]);
  }
  assert_int_equal(mv_tlog_append(t, lv, 3, NULL, NULL), MV_EIO);
  assert_int_equal(mv_tlog_append(t, lv, 1, NULL, NULL), MV_EIO);
  assert_int_equal(mv_tlog_sync(t, NULL, NULL), MV_EIO);
  assert_int_equal(mv_tlog_size(t), 10);
  mv__tlog_abandon(t);
  g_fault.fd = -2;
  t = open_log(dir, false);
  struct mv_tlog_repair r;
  mv_tlog_repair_info(t, &r);
  assert_true(r.repaired);
  /* Half of the 122-byte batch held record 10 whole (47 bytes): a complete,
   * valid record is kept (never synced, never acknowledged); 11 is cut. */
  assert_int_equal(mv_tlog_size(t), 11);
  assert_true(r.bytes_truncated > 0);
  check_against_memory(t, 11, false);
  /* tear a hash file write: leaves.dat is complete, hashes recomputed */
  g_fault.fd = t->lv[0].fd;
  g_fault.tear = true;
  g_fault.countdown = 0;
  uint8_t d2[3][64];
  for (int k = 0; k < 3; k++) {
    lv[k].data = d2[k];
    lv[k].len = leaf_data(11 + (uint64_t)k, d2[k]);
  }
  assert_int_equal(mv_tlog_append(t, lv, 3, NULL, NULL), MV_EIO);
  mv__tlog_abandon(t);
  g_fault.fd = -2;
  t = open_log(dir, false);
  mv_tlog_repair_info(t, &r);
  assert_true(r.repaired);
  assert_int_equal(mv_tlog_size(t), 14); /* the records made it */
  assert_true(r.hashes_recomputed > 0);
  check_against_memory(t, 14, false);
  /* a failing fdatasync fails the log and publishes nothing */
  g_fault.fd = t->dat_fd;
  g_fault.tear = false;
  g_fault.fail_sync = true;
  lv[0].data = d;
  lv[0].len = leaf_data(14, d);
  assert_int_equal(mv_tlog_append(t, lv, 1, NULL, NULL), MV_OK);
  assert_int_equal(mv_tlog_sync(t, NULL, NULL), MV_EIO);
  assert_int_equal(mv_tlog_size(t), 14);
  mv__tlog_abandon(t);
  memset(&g_fault, 0, sizeof(g_fault));
  g_fault.fd = -2;
  mv__tlog_set_io(NULL);
  mvt_rm_rf(dir);
}

/* ---- a reader while the writer appends ------------------------------------ */

struct race {
  struct mv_tlog *t;
  _Atomic bool done;
  long verified;
};

static void *reader(void *arg) {
  struct race *r = arg;
  uint64_t seed = 12345, prev = 0;
  uint8_t prev_root[32];
  while (!r->done) {
    uint64_t s = mv_tlog_size(r->t);
    if (s == 0)
      continue;
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t i = (seed >> 33) % s;
    struct mv_tlog_proof p;
    uint8_t root[32], h[32];
    if (mv_tlog_root(r->t, s, root, NULL) != MV_OK ||
        mv_tlog_inclusion_proof(r->t, i, s, &p, NULL) != MV_OK ||
        mv_tlog_leaf_hash(r->t, i, h, NULL) != MV_OK ||
        memcmp(h, g_leaf_hash[i], 32) != 0 ||
        mv_tlog_verify_inclusion(i, s, h, 32, &p, root, 32, NULL) != MV_OK)
      return (void *)1;
    if (prev && prev < s) {
      if (mv_tlog_consistency_proof(r->t, prev, s, &p, NULL) != MV_OK ||
          mv_tlog_verify_consistency(prev, s, prev_root, 32, root, 32, &p,
                                     NULL) != MV_OK)
        return (void *)2;
    }
    prev = s;
    memcpy(prev_root, root, 32);
    r->verified++;
  }
  return NULL;
}

static void tlog_readers_see_only_verifiable_state_while_writing(void **state) {
  (void)state;
  char dir[64];
  assert_int_equal(mvt_tempdir(dir, sizeof(dir), "tlog"), 0);
  struct race r = {.t = open_log(dir, false)};
  r.t->mark_every = 256; /* exercise marks under readers too */
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
  uint64_t at = 0;
  for (size_t b = 1; at < 2000; b = b % 97 + 1) {
    uint64_t to = at + b > 2000 ? 2000 : at + b;
    append_range(r.t, at, to, b > 100 ? 100 : b);
    at = to;
  }
  r.done = true;
  void *res;
  assert_int_equal(pthread_join(th, &res), 0);
  assert_null(res);
  printf("reader verified %ld proofs while the writer appended\n", r.verified);
  assert_true(r.verified > 0);
  mv_tlog_close(r.t);
  mvt_rm_rf(dir);
}

static void tlog_entries_append_and_read_back(void **state) {
  (void)state;
  char dir[64];
  assert_int_equal(mvt_tempdir(dir, sizeof(dir), "tlog"), 0);
  struct mv_tlog *t = open_log(dir, false);
  append_range(t, 0, 3, 3);
  struct mv_tlog_entry es[4];
  memset(es, 0, sizeof(es));
  for (int k = 0; k < 4; k++) {
    es[k].seq = 999; /* assigned by the log */
    es[k].t_us = 1700000000000000 + k;
    es[k].action = (enum mv_tlog_action)(1 + k);
    snprintf(es[k].actor, sizeof(es[k].actor), "Device/monitor-%d", k);
    snprintf(es[k].type, sizeof(es[k].type), "Observation");
    snprintf(es[k].id, sizeof(es[k].id), "id-%d", k);
    es[k].version = (uint64_t)k + 1;
    mv_tlog_commitment(&k, sizeof(k), es[k].commitment);
  }
  uint64_t first = 0;
  assert_int_equal(mv_tlog_next_index(t), 3);
  assert_int_equal(mv_tlog_append_entries(t, es, 4, &first, NULL), MV_OK);
  assert_int_equal(first, 3);
  assert_int_equal(mv_tlog_size(t), 3); /* not visible before sync */
  uint64_t size = 0;
  assert_int_equal(mv_tlog_sync(t, &size, NULL), MV_OK);
  assert_int_equal(size, 7);
  for (int k = 0; k < 4; k++) {
    uint8_t buf[MV_LIMIT_TLOG_LEAF], h[32], want[32];
    size_t n = 0;
    struct mv_tlog_entry back;
    assert_int_equal(es[k].seq, 3 + (uint64_t)k);
    assert_int_equal(
        mv_tlog_read_leaf(t, 3 + (uint64_t)k, buf, sizeof(buf), &n, NULL),
        MV_OK);
    assert_int_equal(mv_tlog_entry_decode(buf, n, &back, NULL), MV_OK);
    assert_int_equal(back.seq, 3 + (uint64_t)k);
    assert_string_equal(back.actor, es[k].actor);
    assert_memory_equal(back.commitment, es[k].commitment, 32);
    mv_tlog_hash_leaf(buf, n, want);
    assert_int_equal(mv_tlog_leaf_hash(t, 3 + (uint64_t)k, h, NULL), MV_OK);
    assert_memory_equal(h, want, 32);
  }
  /* an invalid entry fails the whole batch before anything is written */
  es[2].id[0] = ' ';
  assert_int_equal(mv_tlog_append_entries(t, es, 4, NULL, NULL), MV_EINVAL);
  assert_int_equal(mv_tlog_next_index(t), 7);
  struct mv_tlog_leaf empty = {"", 0};
  assert_int_equal(mv_tlog_append(t, &empty, 1, NULL, NULL), MV_EINVAL);
  mv_tlog_close(t);
  mvt_rm_rf(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tlog_proofs_from_disk_equal_proofs_from_memory),
      cmocka_unit_test(tlog_torn_tail_is_repaired_at_every_byte_offset),
      cmocka_unit_test(tlog_stale_hash_and_index_files_are_recomputed),
      cmocka_unit_test(tlog_damage_before_the_mark_is_refused),
      cmocka_unit_test(tlog_mark_bounds_the_rescan),
      cmocka_unit_test(tlog_injected_faults_fail_the_log_and_reopen_repairs),
      cmocka_unit_test(tlog_readers_see_only_verifiable_state_while_writing),
      cmocka_unit_test(tlog_entries_append_and_read_back),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}

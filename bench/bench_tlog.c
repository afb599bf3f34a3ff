/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark of the tamper-evident log (src/tlog): durable appends per
 * second with group commit at batch sizes 1, 10, 100 and 1000 (append +
 * mv_tlog_sync, one fdatasync per batch), then on a log of N leaves
 * (default 1,000,000): inclusion proof generation per second, proof
 * verification time, the full recompute-and-compare audit
 * (mv_tlog_verify_all), reopen time after a crash and after a clean close,
 * and checkpoint signing/verification.
 * Leaves are encoded mv_tlog_entry records (~130 bytes). Results are
 * printed as "RESULT key=value" lines with ratios to the targets
 * and to published anchors (Tessera ~2,900 writes/s on a filesystem,
 * Trillian ~60 leaves/s per tree on MySQL). Run on a real disk: tmpfs has
 * no fsync cost.
 *
 * Usage: bench_tlog [DIR [N]]   (default: a temp dir under the current
 * directory when /tmp is tmpfs, else under /tmp). DIR is removed afterwards.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "mv_log.h"
#include "mv_tlog.h"
#include "tlog_int.h" /* mv__tlog_abandon: simulate a crash */

#define TMPFS_MAGIC_NUMBER 0x01021994
#define RUN_S 2.0
#define TESSERA_WRITES_S 2900.0
#define TRILLIAN_LEAVES_S 60.0

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_entry(const char *p, const struct stat *sb, int f,
                    struct FTW *ftw) {
  (void)sb;
  (void)f;
  (void)ftw;
  return remove(p);
}

static void die(const char *what, int rc, const struct mv_diag *d) {
  fprintf(stderr, "bench_tlog: %s: %s %s\n", what, mv_err_name(rc),
          d ? d->msg : "");
  exit(1);
}

static uint64_t g_rng = 88172645463325252ull;
static uint64_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

/* An entry like the store writes: a record version's metadata and the
 * commitment to its ciphertext. */
static void make_entry(uint64_t i, struct mv_tlog_entry *e) {
  uint8_t ct[64];
  memset(e, 0, sizeof(*e));
  e->t_us = 1700000000000000 + (int64_t)i * 1000;
  e->action = (enum mv_tlog_action)(1 + i % 5);
  snprintf(e->actor, sizeof(e->actor), "Practitioner/%08llx-4c1d-4e8a-9b2f",
           (unsigned long long)(i % 997));
  snprintf(e->type, sizeof(e->type), "Observation");
  snprintf(e->id, sizeof(e->id), "%08llx-2b7c-4d1e-8f3a-%012llx",
           (unsigned long long)i, (unsigned long long)(i * 2654435761u));
  e->version = 1 + i % 3;
  memcpy(ct, &i, sizeof(i));
  memset(ct + 8, 0x5a, sizeof(ct) - 8);
  mv_tlog_commitment(ct, sizeof(ct), e->commitment);
}

static void append_batch(struct mv_tlog *t, struct mv_tlog_entry *es,
                         size_t n) {
  struct mv_diag d;
  uint64_t first = mv_tlog_next_index(t);
  for (size_t k = 0; k < n; k++)
    make_entry(first + k, &es[k]);
  int rc = mv_tlog_append_entries(t, es, n, NULL, &d);
  if (rc != MV_OK)
    die("append", rc, &d);
  rc = mv_tlog_sync(t, NULL, &d);
  if (rc != MV_OK)
    die("sync", rc, &d);
}

static struct mv_tlog *open_log(const char *dir, bool ro) {
  struct mv_tlog *t = NULL;
  struct mv_tlog_open_opts o = {.read_only = ro, .create = !ro};
  struct mv_diag d;
  int rc = mv_tlog_open(dir, &o, &t, &d);
  if (rc != MV_OK)
    die("open", rc, &d);
  return t;
}

static void bench_appends(const char *base, struct mv_tlog_entry *es) {
  static const size_t sizes[] = {1, 10, 100, 1000};
  printf("-- durable appends (append + fdatasync per batch), %.0f s each\n",
         RUN_S);
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s/appends-%zu", base, sizes[k]);
    struct mv_tlog *t = open_log(dir, false);
    uint64_t n = 0;
    double t0 = now_s(), t1;
    do {
      append_batch(t, es, sizes[k]);
      n += sizes[k];
      t1 = now_s();
    } while (t1 - t0 < RUN_S);
    double rate = (double)n / (t1 - t0);
    printf("batch %4zu: %9.0f appends/s  %7.3f ms/batch  x%.2f of target "
           "50000/s, x%.1f Tessera (2900/s), x%.0f Trillian (60/s)\n",
           sizes[k], rate, (t1 - t0) * 1e3 / ((double)n / (double)sizes[k]),
           rate / 50000.0, rate / TESSERA_WRITES_S, rate / TRILLIAN_LEAVES_S);
    printf("RESULT tlog_appends_per_s_batch%zu=%.0f\n", sizes[k], rate);
    mv_tlog_close(t);
  }
}

int main(int argc, char **argv) {
  char base[4096];
  struct statfs sf;
  uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
  mv_log_set_level(MV_LOG_WARN);
  if (argc > 1) {
    snprintf(base, sizeof(base), "%s", argv[1]);
    mkdir(base, 0700);
  } else {
    bool tmpfs = statfs("/tmp", &sf) == 0 && sf.f_type == TMPFS_MAGIC_NUMBER;
    snprintf(base, sizeof(base), "%s/bench-tlog.XXXXXX", tmpfs ? "." : "/tmp");
    if (!mkdtemp(base)) {
      perror("bench_tlog: mkdtemp");
      return 1;
    }
  }
  if (statfs(base, &sf) == 0 && sf.f_type == TMPFS_MAGIC_NUMBER)
    printf("note: %s is tmpfs: fdatasync costs nothing there\n", base);
  struct mv_tlog_entry *es = calloc(10000, sizeof(*es));
  if (!es)
    return 1;

  bench_appends(base, es);

  /* ---- a log of n leaves ---- */
  char dir[4200];
  struct mv_diag d;
  snprintf(dir, sizeof(dir), "%s/big", base);
  struct mv_tlog *t = open_log(dir, false);
  double t0 = now_s();
  while (mv_tlog_next_index(t) < n) {
    uint64_t left = n - mv_tlog_next_index(t);
    append_batch(t, es, left < 10000 ? (size_t)left : 10000);
  }
  double build = now_s() - t0;
  uint64_t tail = n - t->mark_n;
  /* a crash: no close, no hash mark; reopening rescans the tail */
  mv__tlog_abandon(t);
  t0 = now_s();
  t = open_log(dir, false);
  double recover = now_s() - t0;
  printf("-- log of %llu leaves built in %.2f s (%.0f appends/s in batches "
         "of 10000)\n",
         (unsigned long long)n, build, (double)n / build);
  printf("RESULT tlog_build_appends_per_s=%.0f\n", (double)n / build);
  printf("-- reopen after a crash: %.3f s (%llu leaves past the hash mark "
         "re-read, checked and compared)\n",
         recover, (unsigned long long)tail);
  printf("RESULT tlog_crash_reopen_s=%.3f\n", recover);

  uint8_t root[32];
  int rc = mv_tlog_root(t, n, root, &d);
  if (rc != MV_OK)
    die("root", rc, &d);
  /* inclusion proofs at the full size, random indices */
  struct mv_tlog_proof p;
  uint64_t count = 0;
  t0 = now_s();
  double t1;
  do {
    for (int k = 0; k < 1000; k++) {
      rc = mv_tlog_inclusion_proof(t, rnd() % n, n, &p, &d);
      if (rc != MV_OK)
        die("inclusion proof", rc, &d);
    }
    count += 1000;
    t1 = now_s();
  } while (t1 - t0 < RUN_S);
  double prate = (double)count / (t1 - t0);
  printf("-- inclusion proofs on %llu leaves: %.0f/s (x%.2f of target "
         "100000/s)\n",
         (unsigned long long)n, prate, prate / 100000.0);
  printf("RESULT tlog_inclusion_proofs_per_s=%.0f\n", prate);

  /* consistency proofs between random sizes */
  count = 0;
  t0 = now_s();
  do {
    for (int k = 0; k < 1000; k++) {
      uint64_t a = 1 + rnd() % n;
      rc = mv_tlog_consistency_proof(t, a, n, &p, &d);
      if (rc != MV_OK)
        die("consistency proof", rc, &d);
    }
    count += 1000;
    t1 = now_s();
  } while (t1 - t0 < RUN_S);
  printf("-- consistency proofs to %llu: %.0f/s\n", (unsigned long long)n,
         (double)count / (t1 - t0));
  printf("RESULT tlog_consistency_proofs_per_s=%.0f\n",
         (double)count / (t1 - t0));

  /* verification time */
  enum { NV = 20000 };
  static struct mv_tlog_proof proofs[64];
  static uint64_t idx[64];
  static uint8_t lh[64][32];
  for (int k = 0; k < 64; k++) {
    idx[k] = rnd() % n;
    if (mv_tlog_inclusion_proof(t, idx[k], n, &proofs[k], &d) != MV_OK ||
        mv_tlog_leaf_hash(t, idx[k], lh[k], &d) != MV_OK)
      die("proof", MV_EIO, &d);
  }
  t0 = now_s();
  for (int k = 0; k < NV; k++)
    if (mv_tlog_verify_inclusion(idx[k % 64], n, lh[k % 64], 32,
                                 &proofs[k % 64], root, 32, NULL) != MV_OK)
      die("verify", MV_EINVALID, NULL);
  double vus = (now_s() - t0) * 1e6 / NV;
  printf("-- inclusion proof verification: %.2f us (%zu hashes; target "
         "<= 20 us, x%.1f under)\n",
         vus, proofs[0].n, 20.0 / vus);
  printf("RESULT tlog_verify_inclusion_us=%.2f\n", vus);
  uint8_t r1[32];
  uint64_t s1 = n / 3 + 1;
  if (mv_tlog_root(t, s1, r1, &d) != MV_OK ||
      mv_tlog_consistency_proof(t, s1, n, &p, &d) != MV_OK)
    die("consistency", MV_EIO, &d);
  t0 = now_s();
  for (int k = 0; k < NV; k++)
    if (mv_tlog_verify_consistency(s1, n, r1, 32, root, 32, &p, NULL) != MV_OK)
      die("verify consistency", MV_EINVALID, NULL);
  vus = (now_s() - t0) * 1e6 / NV;
  printf("-- consistency proof verification: %.2f us (%zu hashes)\n", vus, p.n);
  printf("RESULT tlog_verify_consistency_us=%.2f\n", vus);
  mv_tlog_close(t);

  /* reopen (hash mark) and the full audit, read-only like a verifier */
  t0 = now_s();
  t = open_log(dir, true);
  double reopen = now_s() - t0;
  printf("-- read-only reopen of %llu leaves: %.3f s\n", (unsigned long long)n,
         reopen);
  printf("RESULT tlog_reopen_s=%.3f\n", reopen);
  uint8_t vroot[32];
  t0 = now_s();
  rc = mv_tlog_verify_all(t, NULL, NULL, vroot, NULL, &d);
  double audit = now_s() - t0;
  if (rc != MV_OK || memcmp(vroot, root, 32) != 0)
    die("verify_all", rc, &d);
  printf("-- full recompute and compare of %llu leaves: %.2f s (%.0f "
         "leaves/s; target <= 5 s for 1M, x%.1f under)\n",
         (unsigned long long)n, audit, (double)n / audit,
         5.0 * ((double)n / 1e6) / audit);
  printf("RESULT tlog_verify_all_s=%.2f\n", audit);
  mv_tlog_close(t);

  /* checkpoints */
  char sk[MV_TLOG_SKEY_TEXT_MAX], vk[MV_TLOG_VKEY_TEXT_MAX];
  struct mv_tlog_signer s;
  struct mv_tlog_verifier v;
  if (mv_tlog_key_generate("bench.medverse/log", MV_TLOG_KEY_ED25519, sk, vk,
                           &d) != MV_OK ||
      mv_tlog_signer_parse(sk, strlen(sk), &s, &d) != MV_OK ||
      mv_tlog_verifier_parse(vk, strlen(vk), &v, &d) != MV_OK)
    die("keys", MV_ECRYPTO, &d);
  struct mv_tlog_checkpoint cp = {.size = n};
  memcpy(cp.origin, "bench.medverse/log", 19);
  memcpy(cp.root, root, 32);
  char note[1024];
  size_t nl = 0;
  count = 0;
  t0 = now_s();
  do {
    for (int k = 0; k < 100; k++) {
      cp.size = n + count + (uint64_t)k;
      if (mv_tlog_checkpoint_sign(&s, &cp, note, sizeof(note), &nl, &d) !=
          MV_OK)
        die("sign", MV_ECRYPTO, &d);
    }
    count += 100;
    t1 = now_s();
  } while (t1 - t0 < 1.0);
  printf("-- checkpoint sign: %.0f/s\n", (double)count / (t1 - t0));
  printf("RESULT tlog_checkpoint_sign_per_s=%.0f\n", (double)count / (t1 - t0));
  count = 0;
  t0 = now_s();
  do {
    for (int k = 0; k < 100; k++)
      if (mv_tlog_checkpoint_open(note, nl, &v, NULL, 0, &cp, NULL, NULL, &d) !=
          MV_OK)
        die("open checkpoint", MV_ECRYPTO, &d);
    count += 100;
    t1 = now_s();
  } while (t1 - t0 < 1.0);
  printf("-- checkpoint verify: %.0f/s\n", (double)count / (t1 - t0));
  printf("RESULT tlog_checkpoint_verify_per_s=%.0f\n",
         (double)count / (t1 - t0));
  mv_tlog_signer_wipe(&s);
  free(es);
  nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

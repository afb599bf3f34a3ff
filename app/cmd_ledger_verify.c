/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse ledger verify DATA_DIR`: an offline audit of a data directory,
 * read-only, safe beside a running server. It recomputes the RFC 9162 tree
 * from the entries the database holds (the source of truth), checks every
 * stored checkpoint's signature and that its root equals the recomputed
 * root at its size, audits the Merkle log files in DATA_DIR/ledger/
 * (records, stored hashes) and checks they hold the same tree, and checks
 * every stored record version's ciphertext against its entry's commitment.
 * It names the first bad entry index and why; erased records (key
 * destroyed, ciphertext kept) are counted, not errors.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "ledger_cli.h"
#include "mv_store.h"
#include "mv_tlog.h"

#define CMD "verify"

/* What verify remembers per entry (index = position). */
struct entry_info {
  uint8_t leaf_hash[32];
  uint8_t commitment[32];
  uint64_t version;
  uint64_t name_fp; /* fingerprint of "type/id" */
  uint8_t action;
  bool seen; /* a record version refers to it */
};

struct cp_info {
  uint64_t size;
  uint8_t root[32];
  char *note; /* the signed note, until its signature is checked */
  int sig_rc; /* mv_tlog_checkpoint_open's answer (signature thread) */
};

/* The RFC 9162 compact range of the first `size` leaves: the roots of the
 * perfect subtrees of its binary decomposition, largest first. */
struct frontier {
  uint8_t hash[64][32];
  uint8_t height[64];
  size_t n;
  uint64_t size;
};

struct verify {
  struct mv_tlog_verifier log_key;
  struct entry_info *e;
  size_t n, cap;
  struct cp_info *cp;
  size_t n_cp, cap_cp;
  size_t next_cp; /* first checkpoint not yet compared */
  struct frontier fr;
  struct lcli_progress prog;
  uint64_t versions, erased, deleted, pre_ledger, newer;
  /* The first (lowest index) problem found. */
  bool bad;
  uint64_t bad_index;
  char why[400];
  /* A problem without an entry index (e.g. the key), reported first. */
  char fatal[400];
};

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --timings: seconds per phase on stderr (for the benchmark). */
static void phase(bool on, const char *name, double *t) {
  double now = mono_s();
  if (on)
    fprintf(stderr, "verify phase %-12s %.3f s\n", name, now - *t);
  *t = now;
}

static void problem(struct verify *v, uint64_t index, const char *fmt, ...)
    MV_PRINTF(3, 4);
static void problem(struct verify *v, uint64_t index, const char *fmt, ...) {
  if (v->bad && v->bad_index <= index)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v->why, sizeof v->why, fmt, ap);
  va_end(ap);
  v->bad = true;
  v->bad_index = index;
}

/* A keyed 64-bit fingerprint of "type/id" (SipHash-2-4, libsodium's
 * crypto_shorthash, under a key drawn per run so that nobody can prepare
 * colliding names); the commitment, not this, binds the content. */
static uint8_t fp_key[crypto_shorthash_KEYBYTES];

static uint64_t name_fp(const char *type, const char *id) {
  uint8_t buf[MV_TLOG_TYPE_MAX + MV_TLOG_ID_MAX + 2];
  uint8_t h[crypto_shorthash_BYTES];
  size_t tl = strnlen(type, MV_TLOG_TYPE_MAX);
  size_t il = strnlen(id, MV_TLOG_ID_MAX);
  memcpy(buf, type, tl);
  buf[tl] = '/';
  memcpy(buf + tl + 1, id, il);
  crypto_shorthash(h, buf, (unsigned long long)(tl + 1 + il), fp_key);
  uint64_t x;
  memcpy(&x, h, sizeof x);
  return x;
}

static void frontier_push(struct frontier *f, const uint8_t h[32]) {
  memcpy(f->hash[f->n], h, 32);
  f->height[f->n] = 0;
  f->n++;
  while (f->n >= 2 && f->height[f->n - 1] == f->height[f->n - 2]) {
    mv_tlog_hash_node(f->hash[f->n - 2], f->hash[f->n - 1], f->hash[f->n - 2]);
    f->height[f->n - 2]++;
    f->n--;
  }
  f->size++;
}

static void frontier_root(const struct frontier *f, uint8_t out[32]) {
  if (f->n == 0) {
    mv_tlog_hash_empty(out);
    return;
  }
  memcpy(out, f->hash[f->n - 1], 32);
  for (size_t i = f->n - 1; i-- > 0;)
    mv_tlog_hash_node(f->hash[i], out, out);
}

/* Compare the checkpoints whose size the recomputed tree has reached. */
static void compare_checkpoints(struct verify *v) {
  while (v->next_cp < v->n_cp && v->cp[v->next_cp].size <= v->fr.size) {
    const struct cp_info *c = &v->cp[v->next_cp++];
    if (c->size != v->fr.size)
      continue; /* passed over: an entry was missing; reported elsewhere */
    uint8_t root[32];
    frontier_root(&v->fr, root);
    if (!mv_tlog_hash_eq(root, c->root))
      problem(v, c->size ? c->size - 1 : 0,
              "checkpoint at size %llu: its root differs from the tree "
              "recomputed from the entries (entries before index %llu were "
              "altered, reordered or replaced)",
              (unsigned long long)c->size, (unsigned long long)c->size);
  }
}

/* The body is parsed here, in order, so that the roots are ready for the
 * tree; the signatures (Ed25519, ~30 us each: most of the time when the
 * server signed a checkpoint per small batch) are checked on a thread of
 * their own (check_signatures). */
static int on_checkpoint(void *ctx, int64_t size, const char *note,
                         const char *const *cosigs, size_t n_cosigs) {
  struct verify *v = ctx;
  struct mv_tlog_checkpoint cp;
  struct mv_diag d;
  mv_diag_clear(&d);
  (void)cosigs;
  (void)n_cosigs;
  uint64_t at = size > 0 ? (uint64_t)size - 1 : 0;
  const char *sep = strstr(note, "\n\n");
  int rc =
      sep ? mv_tlog_checkpoint_parse(note, (size_t)(sep - note) + 1, &cp, &d)
          : mv_diag_set(&d, MV_EPARSE, "no signature block");
  if (rc != MV_OK) {
    problem(v, at, "checkpoint at size %lld: malformed (%s)", (long long)size,
            d.msg);
    return 0;
  }
  if (cp.size != (uint64_t)size) {
    problem(v, at, "checkpoint stored for size %lld says size %llu",
            (long long)size, (unsigned long long)cp.size);
    return 0;
  }
  if (v->n_cp == v->cap_cp) {
    size_t nc = v->cap_cp ? v->cap_cp * 2 : 256;
    struct cp_info *p = realloc(v->cp, nc * sizeof *p);
    if (!p)
      return MV_ENOMEM;
    v->cp = p;
    v->cap_cp = nc;
  }
  struct cp_info *c = &v->cp[v->n_cp];
  c->size = cp.size;
  memcpy(c->root, cp.root, 32);
  c->sig_rc = MV_OK;
  c->note = strdup(note);
  if (!c->note)
    return MV_ENOMEM;
  v->n_cp++;
  return 0;
}

static void *check_signatures(void *arg) {
  struct verify *v = arg;
  for (size_t i = 0; i < v->n_cp; i++) {
    struct cp_info *c = &v->cp[i];
    struct mv_tlog_checkpoint cp;
    if (!c->note)
      continue;
    c->sig_rc = mv_tlog_checkpoint_open(c->note, strlen(c->note), &v->log_key,
                                        NULL, 0, &cp, NULL, NULL, NULL);
    if (c->sig_rc == MV_OK &&
        (cp.size != c->size || !mv_tlog_hash_eq(cp.root, c->root)))
      c->sig_rc = MV_EINVALID;
  }
  return NULL;
}

/* After check_signatures: report the first bad one (sizes ascending). */
static void report_signatures(struct verify *v) {
  for (size_t i = 0; i < v->n_cp; i++) {
    struct cp_info *c = &v->cp[i];
    struct mv_tlog_checkpoint cp;
    struct mv_diag d;
    if (c->sig_rc == MV_OK)
      continue;
    mv_diag_clear(&d);
    int rc = mv_tlog_checkpoint_open(c->note, strlen(c->note), &v->log_key,
                                     NULL, 0, &cp, NULL, NULL, &d);
    uint64_t at = c->size ? c->size - 1 : 0;
    if (v->bad && v->bad_index == at)
      v->bad = false; /* a bad signature explains a wrong root at this size */
    problem(v, c->size ? c->size - 1 : 0, "checkpoint at size %llu: %s (%s)",
            (unsigned long long)c->size,
            rc == MV_ECRYPTO     ? "bad signature"
            : rc == MV_ENOTFOUND ? "not signed by the log's key"
                                 : "malformed",
            d.msg);
    return;
  }
}

static int on_leaf(void *ctx, int64_t index, const uint8_t *leaf, size_t len) {
  struct verify *v = ctx;
  struct mv_tlog_entry e;
  struct mv_diag d;
  d.msg[0] = '\0'; /* set by the decoder on error (no full clear per leaf) */
  if (index != (int64_t)v->n) {
    /* A gap or a duplicate: the tree cannot be recomputed past it. */
    problem(v, v->n,
            "missing from the database (the next stored entry is %lld)",
            (long long)index);
    return 1;
  }
  if (v->n == v->cap) {
    size_t nc = v->cap ? v->cap * 2 : 4096;
    struct entry_info *p = realloc(v->e, nc * sizeof *p);
    if (!p)
      return MV_ENOMEM;
    v->e = p;
    v->cap = nc;
  }
  struct entry_info *ei = &v->e[v->n];
  memset(ei, 0, sizeof *ei);
  mv_tlog_hash_leaf(leaf, len, ei->leaf_hash);
  if (mv_tlog_entry_decode(leaf, len, &e, &d) != MV_OK) {
    problem(v, v->n, "entry %zu: malformed leaf (%s)", v->n, d.msg);
  } else {
    if (e.seq != (uint64_t)index)
      problem(v, v->n,
              "entry %zu: its sequence number says %llu (entries reordered "
              "or moved)",
              v->n, (unsigned long long)e.seq);
    memcpy(ei->commitment, e.commitment, 32);
    ei->version = e.version;
    ei->name_fp = name_fp(e.type, e.id);
    ei->action = (uint8_t)e.action;
  }
  frontier_push(&v->fr, ei->leaf_hash);
  v->n++;
  compare_checkpoints(v);
  lcli_progress_step(&v->prog, v->n);
  return 0;
}

static int on_version(void *ctx, const struct mv_store_ledger_version *rv) {
  struct verify *v = ctx;
  if (rv->ledger_index < 0) {
    v->pre_ledger++; /* stored before the ledger existed */
    return 0;
  }
  uint64_t i = (uint64_t)rv->ledger_index;
  if (i >= v->n) {
    /* Written after the entries were read (a running server): the next
     * audit covers it. A log that lost entries is caught by the
     * checkpoints that cover them (or a witness's, --checkpoint). */
    v->newer++;
    return 0;
  }
  v->versions++;
  if (rv->erased)
    v->erased++;
  if (rv->deleted)
    v->deleted++;
  struct entry_info *ei = &v->e[i];
  if (ei->seen)
    problem(v, i, "entry %llu: claimed by two record versions",
            (unsigned long long)i);
  ei->seen = true;
  if (ei->name_fp != name_fp(rv->type, rv->id) ||
      ei->version != (uint64_t)rv->version) {
    problem(v, i,
            "entry %llu: names another record than the stored %s version "
            "%lld (entries reordered or record moved)",
            (unsigned long long)i, rv->type, (long long)rv->version);
    return 0;
  }
  uint8_t c[32];
  mv_tlog_commitment(rv->deleted ? NULL : rv->sealed,
                     rv->deleted ? 0 : rv->sealed_len, c);
  if (!mv_tlog_hash_eq(c, ei->commitment))
    problem(v, i,
            "entry %llu: the stored ciphertext of %s version %lld does not "
            "match the entry's commitment (record altered)",
            (unsigned long long)i, rv->type, (long long)rv->version);
  return 0;
}

static int cmp_cp(const void *a, const void *b) {
  const struct cp_info *x = a, *y = b;
  return x->size < y->size ? -1 : x->size > y->size;
}

/* A checkpoint from outside the data directory (--checkpoint): it must
 * verify under the log key and agree with the recomputed tree like the
 * stored ones. EXIT_USAGE when unreadable or not a checkpoint of this log. */
static int add_external(struct verify *v, const char *file) {
  struct mv_buf b;
  char err[512];
  struct mv_tlog_checkpoint cp;
  struct mv_diag d;
  mv_diag_clear(&d);
  if (lcli_read_file(file, MV_LIMIT_TLOG_NOTE, &b, err, sizeof err) != 0) {
    fprintf(stderr, "medverse ledger verify: --checkpoint: %s\n", err);
    mv_buf_release(&b);
    return EXIT_USAGE;
  }
  int rc = mv_tlog_checkpoint_open(b.data ? b.data : "", b.len, &v->log_key,
                                   NULL, 0, &cp, NULL, NULL, &d);
  mv_buf_release(&b);
  if (rc != MV_OK) {
    fprintf(stderr, "%s: not a checkpoint signed by this log's key (%s)\n",
            file, d.msg);
    return EXIT_USAGE;
  }
  if (v->n_cp == v->cap_cp) {
    struct cp_info *p = realloc(v->cp, (v->cap_cp + 1) * sizeof *p);
    if (!p)
      return 1;
    v->cp = p;
    v->cap_cp++;
  }
  v->cp[v->n_cp].size = cp.size;
  memcpy(v->cp[v->n_cp].root, cp.root, 32);
  v->cp[v->n_cp].note = NULL; /* verified above */
  v->cp[v->n_cp].sig_rc = MV_OK;
  v->n_cp++;
  qsort(v->cp, v->n_cp, sizeof *v->cp, cmp_cp);
  return 0;
}

/*
 * The Merkle log files are audited on a second thread (mv_tlog_verify_all
 * re-reads every record, recomputes every hash and compares it with the
 * stored one) while the main thread reads the database; both are mostly
 * hashing, so two cores halve the wall time.
 */
struct files_audit {
  const char *dir;
  pthread_t thread;
  struct mv_tlog *log;
  int open_rc, verify_rc;
  struct mv_diag open_d, verify_d;
  struct mv_tlog_repair rep;
  uint64_t size, bad;
  uint8_t root[32];
};

static void *files_audit_run(void *arg) {
  struct files_audit *fa = arg;
  struct mv_tlog_open_opts o = {.read_only = true, .create = false};
  mv_diag_clear(&fa->open_d);
  mv_diag_clear(&fa->verify_d);
  fa->open_rc = mv_tlog_open(fa->dir, &o, &fa->log, &fa->open_d);
  if (fa->open_rc != MV_OK)
    return NULL;
  mv_tlog_repair_info(fa->log, &fa->rep);
  fa->size = mv_tlog_size(fa->log);
  fa->verify_rc = mv_tlog_verify_all(fa->log, NULL, NULL, fa->root, &fa->bad,
                                     &fa->verify_d);
  return NULL;
}

/*
 * The log files must hold the same tree as the database. The server
 * appends a batch to the files after committing it (entries and checkpoint)
 * to the database, on its one writer thread: the files may lag the database
 * by the newest batch (or, after a crash, by what the next start re-appends),
 * but never by a batch older than the newest checkpoint. min_files is the
 * size of the checkpoint before the newest.
 */
static void files_compare(struct verify *v, struct files_audit *fa,
                          uint64_t min_files) {
  struct mv_diag d;
  uint8_t root[32], want[32];
  mv_diag_clear(&d);
  if (fa->open_rc == MV_ECORRUPT) {
    /* Durable data missing or inconsistent before the tail: the files
     * cannot be read far enough to name an entry. */
    snprintf(v->fatal, sizeof v->fatal,
             "log files corrupt or truncated (%s); the database holds %zu "
             "entries",
             fa->open_d.msg, v->n);
    return;
  }
  if (fa->open_rc != MV_OK) {
    if (v->n > 0)
      snprintf(v->fatal, sizeof v->fatal, "log files in %s: %s (%s)", fa->dir,
               mv_strerror(fa->open_rc), fa->open_d.msg);
    return;
  }
  if (fa->verify_rc == MV_ECORRUPT) {
    problem(v, fa->bad, "entry %llu: log files corrupt: %s",
            (unsigned long long)fa->bad, fa->verify_d.msg);
    return;
  }
  if (fa->verify_rc != MV_OK) {
    snprintf(v->fatal, sizeof v->fatal, "log files in %s: %s (%s)", fa->dir,
             mv_strerror(fa->verify_rc), fa->verify_d.msg);
    return;
  }
  /* Compare the common prefix (a server may have appended since we read
   * the database); leaf by leaf only when the roots differ. */
  uint64_t common = fa->size < v->n ? fa->size : v->n;
  bool same;
  if (common == v->n && common == fa->size) {
    frontier_root(&v->fr, want);
    same = mv_tlog_hash_eq(fa->root, want);
  } else {
    struct frontier f;
    memset(&f, 0, sizeof f);
    for (uint64_t i = 0; i < common; i++)
      frontier_push(&f, v->e[i].leaf_hash);
    frontier_root(&f, want);
    same = mv_tlog_root(fa->log, common, root, &d) == MV_OK &&
           mv_tlog_hash_eq(root, want);
  }
  if (!same) {
    for (uint64_t i = 0; i < common; i++) {
      uint8_t h[32];
      if (mv_tlog_leaf_hash(fa->log, i, h, &d) != MV_OK ||
          !mv_tlog_hash_eq(h, v->e[i].leaf_hash)) {
        problem(v, i,
                "entry %llu: the log files hold a different leaf than the "
                "database (altered, reordered or forked)",
                (unsigned long long)i);
        break;
      }
    }
  }
  if (fa->size < min_files)
    problem(v, fa->size,
            "entry %llu: missing from the log files (they hold %llu "
            "entries%s; checkpoints cover %llu: log truncated)",
            (unsigned long long)fa->size, (unsigned long long)fa->size,
            fa->rep.repaired ? " before a torn or invalid record" : "",
            (unsigned long long)min_files);
}

/* After the database was read: checkpoints beyond the entries (the log
 * lost its tail) and entries whose record version is gone. */
static void check_coverage(struct verify *v) {
  for (size_t i = v->next_cp; i < v->n_cp; i++)
    if (v->cp[i].size > v->n) {
      problem(v, v->n,
              "entry %zu: missing, but a checkpoint covers %llu entries "
              "(log truncated)",
              v->n, (unsigned long long)v->cp[i].size);
      break;
    }
  for (size_t i = 0; i < v->n; i++)
    if (!v->e[i].seen && v->e[i].action != MV_TLOG_ERASE &&
        v->e[i].action != 0) {
      problem(v, i,
              "entry %zu: its record version is missing from the database "
              "(record removed)",
              i);
      break;
    }
}

/* The verdict: one line on stdout (0) or the first problem on stderr (1). */
static int print_result(const struct verify *v, uint64_t files, double secs,
                        bool quiet) {
  if (v->fatal[0]) {
    fprintf(stderr, "medverse ledger verify: FAILED: %s\n", v->fatal);
    return 1;
  }
  if (v->bad) {
    /* Messages start with "entry N: " for the log; the line names it once. */
    const char *why = v->why;
    if (strncmp(why, "entry ", 6) == 0) {
      const char *p = why + 6;
      while (*p >= '0' && *p <= '9')
        p++;
      if (p[0] == ':' && p[1] == ' ')
        why = p + 2;
    }
    fprintf(stderr, "medverse ledger verify: FAILED at entry %llu: %s\n",
            (unsigned long long)v->bad_index, why);
    return 1;
  }
  if (v->n_cp == 0 && v->n > 0) {
    fprintf(stderr,
            "medverse ledger verify: FAILED: %zu entries but no signed "
            "checkpoint\n",
            v->n);
    return 1;
  }
  if (!quiet)
    printf("ledger ok: %zu entries, %zu checkpoints (latest size %llu), "
           "%llu record versions checked (%llu erased, %llu deletes), "
           "log files %llu entries%s, %.2f s\n",
           v->n, v->n_cp,
           (unsigned long long)(v->n_cp ? v->cp[v->n_cp - 1].size : 0),
           (unsigned long long)v->versions, (unsigned long long)v->erased,
           (unsigned long long)v->deleted, (unsigned long long)files,
           v->pre_ledger ? ", older versions without entries skipped" : "",
           secs);
  return 0;
}

/* The problem recorded so far, to retry a comparison. */
struct verify_verdict {
  bool bad;
  uint64_t bad_index;
  char why[400];
  char fatal[400];
};

_Static_assert(sizeof(((struct verify *)0)->why) ==
                       sizeof(((struct verify_verdict *)0)->why) &&
                   sizeof(((struct verify *)0)->fatal) ==
                       sizeof(((struct verify_verdict *)0)->fatal),
               "verdict copies whole messages");

static void verdict_save(const struct verify *v, struct verify_verdict *o) {
  o->bad = v->bad;
  o->bad_index = v->bad_index;
  memcpy(o->why, v->why, sizeof o->why);
  memcpy(o->fatal, v->fatal, sizeof o->fatal);
}

static bool verdict_changed(const struct verify *v,
                            const struct verify_verdict *o) {
  return v->bad != o->bad || v->bad_index != o->bad_index ||
         strcmp(v->why, o->why) != 0 || strcmp(v->fatal, o->fatal) != 0;
}

static void verdict_restore(struct verify *v, const struct verify_verdict *o) {
  v->bad = o->bad;
  v->bad_index = o->bad_index;
  memcpy(v->why, o->why, sizeof o->why);
  memcpy(v->fatal, o->fatal, sizeof o->fatal);
}

/* One run: the state, the two helper threads and the phase clock. */
struct run {
  struct verify v;
  struct files_audit fa;
  pthread_t sig_thread;
  bool audit_started, audit_joined, sig_started, sig_joined;
  bool timings;
  double tp;
};

static void join_threads(struct run *r) {
  if (r->audit_started && !r->audit_joined)
    pthread_join(r->fa.thread, NULL);
  r->audit_joined = true;
  if (r->sig_started && !r->sig_joined)
    pthread_join(r->sig_thread, NULL);
  r->sig_joined = true;
}

/* The database side (main thread), with the log files audited and the
 * signatures checked on the helper threads meanwhile. 0, EXIT_USAGE or 1
 * (the database could not be read). */
static int audit(struct run *r, const char *dir, const char *ext_cp) {
  struct verify *v = &r->v;
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_store_ledger_scan_checkpoints(dir, on_checkpoint, v, &d);
  if (rc == MV_OK && ext_cp && (rc = add_external(v, ext_cp)) != 0)
    return rc;
  phase(r->timings, "checkpoints", &r->tp);
  /* The files are opened after the checkpoints were read, so they hold
   * at least every batch but the newest of those checkpoints. */
  r->audit_started =
      pthread_create(&r->fa.thread, NULL, files_audit_run, &r->fa) == 0;
  if (rc == MV_OK) {
    r->sig_started =
        pthread_create(&r->sig_thread, NULL, check_signatures, v) == 0;
    lcli_progress_init(&v->prog, "entries",
                       v->n_cp ? v->cp[v->n_cp - 1].size : 0);
    rc = mv_store_ledger_scan_leaves(dir, on_leaf, v, &d);
    lcli_progress_done(&v->prog);
    phase(r->timings, "entries", &r->tp);
  }
  if (rc == MV_OK || rc == 1)
    rc = mv_store_ledger_scan_versions(dir, on_version, v, &d);
  phase(r->timings, "records", &r->tp);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse ledger verify: %s: %s (%s)\n", dir,
            mv_strerror(rc), d.msg);
    return 1;
  }
  check_coverage(v);
  if (!r->audit_started)
    files_audit_run(&r->fa);
  if (!r->sig_started)
    check_signatures(v);
  join_threads(r);
  phase(r->timings, "log files and signatures", &r->tp);
  report_signatures(v);
  uint64_t min_files = v->n_cp >= 2 ? v->cp[v->n_cp - 2].size : 0;
  struct verify_verdict before;
  verdict_save(v, &before);
  files_compare(v, &r->fa, min_files);
  if (verdict_changed(v, &before)) {
    /* A server appending while we read can make the files look odd for an
     * instant; damage stays. Look once more, at a fresh view of the files. */
    verdict_restore(v, &before);
    mv_tlog_close(r->fa.log);
    r->fa.log = NULL;
    files_audit_run(&r->fa);
    files_compare(v, &r->fa, min_files);
  }
  return 0;
}

int cmd_ledger_verify(int argc, char **argv) {
  const char *log_key_file = NULL, *quiet = NULL, *timings = NULL,
             *ext_cp = NULL;
  const struct lcli_flag flags[] = {
      {"log-key", "VKEYFILE",
       "the log's verifier key, obtained out of band (default: "
       "DATA_DIR/ledger/ledger.vkey)",
       &log_key_file},
      {"checkpoint", "FILE",
       "also check a checkpoint kept elsewhere, e.g. a witness's "
       "STATE/checkpoint: catches a history rewritten by someone holding "
       "the log key",
       &ext_cp},
      {"quiet", NULL, "print nothing when intact", &quiet},
      {"timings", NULL, "print the time of each phase on stderr", &timings},
  };
  const char *pos[1];
  size_t n_pos;
  bool help;
  struct mv_diag d;
  char path[MV_LIMIT_PATH_MAX], ldir[MV_LIMIT_PATH_MAX];
  struct run *r = NULL;
  int rc = lcli_parse(
      CMD, argc, argv, flags, sizeof flags / sizeof flags[0], "DATA_DIR",
      "Audit the tamper-evident log of a data directory (read-only; the "
      "server may be\nrunning). Exit 0 with a one-line summary when intact, "
      "1 naming the first bad\nentry index and why.",
      pos, 1, 1, &n_pos, &help);
  if (rc != 0 || help)
    return rc;
  const char *dir = pos[0];
  if ((rc = lcli_data_dir(CMD, dir, ldir, sizeof ldir)) != 0)
    return rc;
  if (lcli_vkey_path(ldir, log_key_file, path, sizeof path) != 0) {
    fprintf(stderr, "medverse ledger verify: --log-key: path too long\n");
    return EXIT_USAGE;
  }
  r = calloc(1, sizeof *r);
  if (!r)
    return 1;
  double t0 = mono_s();
  r->tp = t0;
  r->timings = timings != NULL;
  r->fa.dir = ldir;
  randombytes_buf(fp_key, sizeof fp_key);
  mv_diag_clear(&d);
  if (mv_tlog_verifier_load(path, &r->v.log_key, &d) != MV_OK ||
      r->v.log_key.type != MV_TLOG_KEY_ED25519) {
    fprintf(stderr, "%s: %s\n", path,
            d.msg[0] ? d.msg : "not an Ed25519 note verifier key");
    rc = log_key_file ? EXIT_USAGE : 1;
    goto out;
  }
  rc = audit(r, dir, ext_cp);
  if (rc == 0)
    rc = print_result(&r->v, r->fa.size, mono_s() - t0, quiet != NULL);
out:
  join_threads(r);
  mv_tlog_close(r->fa.log);
  for (size_t i = 0; i < r->v.n_cp; i++)
    free(r->v.cp[i].note);
  free(r->v.e);
  free(r->v.cp);
  free(r);
  return rc;
}

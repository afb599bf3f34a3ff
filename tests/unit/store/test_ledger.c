/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger inside the store's group commit (issue 6): every record
 * version and erasure gets one entry whose commitment matches the stored
 * ciphertext, failed writes get none, every batch's signed checkpoint
 * covers the log files' root, proofs verify, erasure keeps the log
 * verifiable, and crashes (a torn log tail, lost log files, kill -9) never
 * lose an acknowledged entry, while a log ahead of the database is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mv_store.h"
#include "mv_tlog.h"
#include "store_fx.h"

static int setup(void **state) {
  return fx_setup(state, "mv-ledger-test");
}

static int teardown(void **state) {
  return fx_teardown(state);
}

static struct mv_store *open_mode(struct fx *f, int mode, int *out_rc,
                                  struct mv_diag *d) {
  struct mv_store_opts o = {.url = f->url,
                            .batch_delay_us = 200,
                            .ledger = mode,
                            .ledger_origin = "test.example/ledger"};
  struct mv_store *s = NULL;
  mv_diag_clear(d);
  *out_rc = mv_store_open(&o, &s, d);
  return s;
}

static struct mv_store *open_on(struct fx *f) {
  struct mv_diag d;
  int rc;
  struct mv_store *s = open_mode(f, MV_STORE_LEDGER_ON, &rc, &d);
  if (rc != MV_OK)
    fprintf(stderr, "open failed: %s: %s\n", mv_err_name(rc), d.msg);
  assert_int_equal(rc, MV_OK);
  return s;
}

static struct mv_store_write wr(enum mv_store_op op, const char *type,
                                const char *id, const char *pid,
                                const char *body) {
  struct mv_store_write w = {.op = op,
                             .type = type,
                             .id = id,
                             .body = body,
                             .body_len = body ? strlen(body) : 0,
                             .patient_id = pid,
                             .date_us = MV_STORE_NO_DATE,
                             .actor = "Practitioner/dr-1"};
  return w;
}

static int64_t put(struct mv_store *s, enum mv_store_op op, const char *type,
                   const char *id, const char *pid, const char *body) {
  struct mv_store_write w = wr(op, type, id, pid, body);
  struct mv_store_result r;
  assert_int_equal(mv_store_write_sync(s, &w, &r), MV_OK);
  return r.ledger_index;
}

/* ---- Reading back what the database holds -------------------------------- */

#define MAXL 512

struct dump {
  size_t n;
  struct mv_tlog_entry e[MAXL];
  uint8_t h[MAXL][32]; /* leaf hashes */
};

static int dump_leaf(void *ctx, int64_t index, const uint8_t *leaf,
                     size_t len) {
  struct dump *d = ctx;
  assert_int_equal(index, (int64_t)d->n);
  assert_true(d->n < MAXL);
  assert_int_equal(mv_tlog_entry_decode(leaf, len, &d->e[d->n], NULL), MV_OK);
  assert_int_equal(d->e[d->n].seq, (uint64_t)index);
  mv_tlog_hash_leaf(leaf, len, d->h[d->n]);
  d->n++;
  return 0;
}

static struct dump *dump_leaves(struct fx *f) {
  struct dump *d = calloc(1, sizeof(*d));
  assert_non_null(d);
  assert_int_equal(mv_store_ledger_scan_leaves(f->dir, dump_leaf, d, NULL),
                   MV_OK);
  return d;
}

struct vcheck {
  const struct dump *d;
  size_t versions, erased, deleted;
};

/* Every stored version's commitment equals the one in its entry. */
static int check_version(void *ctx, const struct mv_store_ledger_version *v) {
  struct vcheck *c = ctx;
  uint8_t h[32];
  assert_true(v->ledger_index >= 0);
  assert_true((size_t)v->ledger_index < c->d->n);
  const struct mv_tlog_entry *e = &c->d->e[v->ledger_index];
  assert_string_equal(e->type, v->type);
  assert_string_equal(e->id, v->id);
  assert_int_equal(e->version, (uint64_t)v->version);
  mv_tlog_commitment(v->sealed, v->sealed_len, h);
  assert_memory_equal(h, e->commitment, 32);
  c->versions++;
  c->erased += v->erased;
  c->deleted += v->deleted;
  return 0;
}

static void check_versions(struct fx *f, const struct dump *d,
                           struct vcheck *c) {
  memset(c, 0, sizeof(*c));
  c->d = d;
  assert_int_equal(
      mv_store_ledger_scan_versions(f->dir, check_version, c, NULL), MV_OK);
}

/* The served checkpoint verifies under the ledger key and its root is the
 * root of the leaves in the database. */
static void check_checkpoint(struct mv_store *s, const struct dump *d,
                             uint8_t out_root[32]) {
  char vk[MV_TLOG_VKEY_TEXT_MAX], *note = NULL;
  size_t len = 0;
  struct mv_tlog_verifier v;
  struct mv_tlog_checkpoint cp;
  uint8_t root[32];
  assert_int_equal(mv_store_ledger_verifier_key(s, vk, sizeof(vk)), MV_OK);
  assert_int_equal(mv_tlog_verifier_parse(vk, strlen(vk), &v, NULL), MV_OK);
  assert_int_equal(mv_store_ledger_checkpoint(s, 0, NULL, 0, &note, &len),
                   MV_OK);
  assert_int_equal(len, strlen(note));
  assert_int_equal(
      mv_tlog_checkpoint_open(note, len, &v, NULL, 0, &cp, NULL, NULL, NULL),
      MV_OK);
  assert_string_equal(cp.origin, "test.example/ledger");
  assert_int_equal(cp.size, d->n);
  assert_int_equal(mv_tlog_mem_root((const uint8_t(*)[32])d->h, d->n, root),
                   MV_OK);
  assert_memory_equal(cp.root, root, 32);
  if (out_root)
    memcpy(out_root, root, 32);
  free(note);
}

/* ---- Tests ------------------------------------------------------------------- */

static void ledger_every_change_gets_one_entry(void **state) {
  struct fx *f = *state;
  f->s = open_on(f);
  assert_int_equal(put(f->s, MV_STORE_CREATE, "Patient", "p1", "p1", "{}"), 0);
  assert_int_equal(
      put(f->s, MV_STORE_CREATE, "Observation", "o1", "p1", "{\"v\":1}"), 1);
  assert_int_equal(
      put(f->s, MV_STORE_UPDATE, "Observation", "o1", "p1", "{\"v\":2}"), 2);
  assert_int_equal(put(f->s, MV_STORE_DELETE, "Observation", "o1", NULL, NULL),
                   3);
  /* deleting a deleted resource records nothing */
  assert_int_equal(put(f->s, MV_STORE_DELETE, "Observation", "o1", NULL, NULL),
                   -1);
  struct mv_store_write tx[] = {
      wr(MV_STORE_CREATE, "Observation", "o2", "p1", "{\"v\":3}"),
      wr(MV_STORE_CREATE, "AuditEvent", "a1", "p1", "{\"r\":1}"),
  };
  struct mv_store_result res[2];
  assert_int_equal(mv_store_write_tx_sync(f->s, tx, 2, res, NULL), MV_OK);
  assert_int_equal(res[0].ledger_index, 4);
  assert_int_equal(res[1].ledger_index, 5);
  int64_t n = 0, li = -1, size = 0;
  assert_int_equal(
      mv_store_erase_patient_ledger(f->s, "p1", "Practitioner/adm", &n, &li),
      MV_OK);
  assert_int_equal(li, 6);
  assert_int_equal(mv_store_ledger_size(f->s, &size), MV_OK);
  assert_int_equal(size, 7);

  struct dump *d = dump_leaves(f);
  assert_int_equal(d->n, 7);
  assert_int_equal(d->e[0].action, MV_TLOG_CREATE);
  assert_string_equal(d->e[0].actor, "Practitioner/dr-1");
  assert_int_equal(d->e[2].action, MV_TLOG_UPDATE);
  assert_int_equal(d->e[2].version, 2);
  assert_int_equal(d->e[3].action, MV_TLOG_DELETE);
  assert_int_equal(d->e[6].action, MV_TLOG_ERASE);
  assert_string_equal(d->e[6].type, "Patient");
  assert_string_equal(d->e[6].id, "p1");
  assert_string_equal(d->e[6].actor, "Practitioner/adm");
  /* a delete and an erasure commit to zero bytes */
  uint8_t empty[32];
  mv_tlog_commitment(NULL, 0, empty);
  assert_memory_equal(d->e[3].commitment, empty, 32);
  assert_memory_equal(d->e[6].commitment, empty, 32);

  /* Erasure kept the log verifiable: every version's ciphertext still
   * matches its commitment, though no key can open it any more. */
  struct vcheck c;
  check_versions(f, d, &c);
  assert_int_equal(c.versions, 6);
  assert_int_equal(c.deleted, 1);
  assert_int_equal(c.erased, 6);
  struct mv_store_record rec;
  assert_int_equal(mv_store_read(f->s, "Observation", "o2", 0, &rec), MV_EGONE);
  check_checkpoint(f->s, d, NULL);
  free(d);
}

static void ledger_failed_writes_get_no_entry(void **state) {
  struct fx *f = *state;
  f->s = open_on(f);
  assert_int_equal(put(f->s, MV_STORE_CREATE, "Patient", "p1", "p1", "{}"), 0);
  struct mv_store_write dup = wr(MV_STORE_CREATE, "Patient", "p1", "p1", "{}");
  struct mv_store_result r;
  assert_int_equal(mv_store_write_sync(f->s, &dup, &r), MV_EEXISTS);
  struct mv_store_write tx[] = {
      wr(MV_STORE_CREATE, "Observation", "x1", "p1", "{}"),
      wr(MV_STORE_CREATE, "Patient", "p1", "p1", "{}"), /* exists: rollback */
  };
  size_t failed = 0;
  assert_int_equal(mv_store_write_tx_sync(f->s, tx, 2, NULL, &failed),
                   MV_EEXISTS);
  assert_int_equal(failed, 1);
  /* an actor with characters a ledger entry may not hold */
  struct mv_store_write bad = wr(MV_STORE_CREATE, "Patient", "p9", "p9", "{}");
  bad.actor = "Dr. Who <x>";
  assert_int_equal(mv_store_write_sync(f->s, &bad, &r), MV_EINVAL);
  /* the next write takes the next index: no gap */
  assert_int_equal(put(f->s, MV_STORE_CREATE, "Patient", "p2", "p2", "{}"), 1);
  struct dump *d = dump_leaves(f);
  assert_int_equal(d->n, 2);
  assert_string_equal(d->e[1].id, "p2");
  check_checkpoint(f->s, d, NULL);
  free(d);
}

static void ledger_proofs_verify_against_checkpoints(void **state) {
  struct fx *f = *state;
  f->s = open_on(f);
  char id[16];
  for (int i = 0; i < 3; i++) {
    snprintf(id, sizeof(id), "q%d", i);
    put(f->s, MV_STORE_CREATE, "Patient", id, id, "{}");
  }
  char *old = NULL;
  size_t old_len = 0;
  assert_int_equal(mv_store_ledger_checkpoint_at(f->s, 3, &old, &old_len),
                   MV_OK);
  for (int i = 3; i < 21; i++) {
    snprintf(id, sizeof(id), "q%d", i);
    put(f->s, MV_STORE_CREATE, "Patient", id, id, "{}");
  }
  struct dump *d = dump_leaves(f);
  uint8_t root[32];
  check_checkpoint(f->s, d, root);
  uint8_t(*h)[32] = malloc(MV_TLOG_PROOF_MAX * 32);
  struct mv_tlog_proof *p = calloc(1, sizeof(*p));
  assert_non_null(h);
  assert_non_null(p);
  for (uint64_t i = 0; i < d->n; i++) {
    size_t n = 0;
    assert_int_equal(mv_store_ledger_inclusion(f->s, (int64_t)i, (int64_t)d->n,
                                               h, MV_TLOG_PROOF_MAX, &n),
                     MV_OK);
    p->n = n;
    memcpy(p->hash, h, n * 32);
    assert_int_equal(
        mv_tlog_verify_inclusion(i, d->n, d->h[i], 32, p, root, 32, NULL),
        MV_OK);
  }
  /* consistency from the stored checkpoint of size 3 */
  struct mv_tlog_checkpoint cp3;
  char vk[MV_TLOG_VKEY_TEXT_MAX];
  struct mv_tlog_verifier v;
  assert_int_equal(mv_store_ledger_verifier_key(f->s, vk, sizeof(vk)), MV_OK);
  assert_int_equal(mv_tlog_verifier_parse(vk, strlen(vk), &v, NULL), MV_OK);
  assert_int_equal(mv_tlog_checkpoint_open(old, old_len, &v, NULL, 0, &cp3,
                                           NULL, NULL, NULL),
                   MV_OK);
  assert_int_equal(cp3.size, 3);
  size_t n = 0;
  assert_int_equal(mv_store_ledger_consistency(f->s, 3, (int64_t)d->n, h,
                                               MV_TLOG_PROOF_MAX, &n),
                   MV_OK);
  p->n = n;
  memcpy(p->hash, h, n * 32);
  assert_int_equal(
      mv_tlog_verify_consistency(3, d->n, cp3.root, 32, root, 32, p, NULL),
      MV_OK);
  /* out of range */
  assert_int_equal(
      mv_store_ledger_inclusion(f->s, 21, 21, h, MV_TLOG_PROOF_MAX, &n),
      MV_ERANGE);
  assert_int_equal(
      mv_store_ledger_inclusion(f->s, 0, 22, h, MV_TLOG_PROOF_MAX, &n),
      MV_ERANGE);
  assert_int_equal(
      mv_store_ledger_consistency(f->s, 0, 5, h, MV_TLOG_PROOF_MAX, &n),
      MV_ERANGE);
  assert_int_equal(
      mv_store_ledger_consistency(f->s, 6, 5, h, MV_TLOG_PROOF_MAX, &n),
      MV_ERANGE);
  free(h);
  free(p);
  free(old);
  free(d);
}

static void ledger_cosignatures_are_served_by_quorum(void **state) {
  struct fx *f = *state;
  f->s = open_on(f);
  put(f->s, MV_STORE_CREATE, "Patient", "c1", "c1", "{}");
  put(f->s, MV_STORE_CREATE, "Patient", "c2", "c2", "{}");
  char *note = NULL, *got = NULL;
  size_t len = 0, glen = 0;
  assert_int_equal(mv_store_ledger_checkpoint_at(f->s, 1, &note, &len), MV_OK);
  /* a witness cosigns the checkpoint of size 1 */
  char skey[MV_TLOG_SKEY_TEXT_MAX], vkey[MV_TLOG_VKEY_TEXT_MAX];
  struct mv_tlog_signer w;
  struct mv_tlog_verifier wv, lv;
  assert_int_equal(mv_tlog_key_generate("witness.example", MV_TLOG_KEY_COSIG_V1,
                                        skey, vkey, NULL),
                   MV_OK);
  assert_int_equal(mv_tlog_signer_parse(skey, strlen(skey), &w, NULL), MV_OK);
  assert_int_equal(mv_tlog_verifier_parse(vkey, strlen(vkey), &wv, NULL),
                   MV_OK);
  size_t body = (size_t)(strstr(note, "\n\n") - note) + 1;
  char line[MV_TLOG_SIG_LINE_MAX];
  size_t line_len = 0;
  assert_int_equal(
      mv_tlog_cosign(&w, note, body, 1700000000u, line, &line_len, NULL),
      MV_OK);
  assert_int_equal(mv_store_ledger_add_cosignature(f->s, 99, "w", line),
                   MV_ENOTFOUND);
  assert_int_equal(mv_store_ledger_checkpoint(f->s, 1, NULL, 0, &got, &glen),
                   MV_ENOTFOUND);
  assert_int_equal(mv_store_ledger_add_cosignature(f->s, 1, "w", line), MV_OK);
  /* quorum 1 serves the older, cosigned checkpoint with the line merged */
  assert_int_equal(mv_store_ledger_checkpoint(f->s, 1, NULL, 0, &got, &glen),
                   MV_OK);
  char vk[MV_TLOG_VKEY_TEXT_MAX];
  assert_int_equal(mv_store_ledger_verifier_key(f->s, vk, sizeof(vk)), MV_OK);
  assert_int_equal(mv_tlog_verifier_parse(vk, strlen(vk), &lv, NULL), MV_OK);
  struct mv_tlog_checkpoint cp;
  size_t cosigned = 0;
  assert_int_equal(mv_tlog_checkpoint_open(got, glen, &lv, &wv, 1, &cp,
                                           &cosigned, NULL, NULL),
                   MV_OK);
  assert_int_equal(cp.size, 1);
  assert_int_equal(cosigned, 1);
  free(got);
  /* a witness no longer configured stops counting, and is not served */
  const char *const others[] = {"someone-else+01020304"};
  const char *const ours[] = {"someone-else+01020304", "w"};
  assert_int_equal(mv_store_ledger_checkpoint(f->s, 1, others, 1, &got, &glen),
                   MV_ENOTFOUND);
  assert_int_equal(mv_store_ledger_checkpoint(f->s, 1, ours, 2, &got, &glen),
                   MV_OK);
  free(got);
  assert_int_equal(mv_store_ledger_checkpoint_at(f->s, 1, &got, &glen), MV_OK);
  assert_null(strstr(got, "witness.example"));
  free(got);
  /* quorum 0: the newest (size 2), without that cosignature */
  assert_int_equal(mv_store_ledger_checkpoint(f->s, 0, NULL, 0, &got, &glen),
                   MV_OK);
  assert_int_equal(mv_tlog_checkpoint_open(got, glen, &lv, &wv, 1, &cp,
                                           &cosigned, NULL, NULL),
                   MV_OK);
  assert_int_equal(cp.size, 2);
  assert_int_equal(cosigned, 0);
  free(got);
  free(note);
  mv_tlog_signer_wipe(&w);
}

/* ---- Crashes and tampering ------------------------------------------------- */

static void ledger_path(struct fx *f, const char *name, char *out, size_t cap) {
  snprintf(out, cap, "%s/ledger/%s", f->dir, name);
}

static void ledger_torn_log_tail_is_repaired_from_the_database(void **state) {
  struct fx *f = *state;
  char id[16], path[256];
  f->s = open_on(f);
  for (int i = 0; i < 10; i++) {
    snprintf(id, sizeof(id), "t%d", i);
    put(f->s, MV_STORE_CREATE, "Patient", id, id, "{}");
  }
  mv_store_close(f->s);
  f->s = NULL;
  /* a crash in the middle of appending the next batch: half a record */
  ledger_path(f, "leaves.dat", path, sizeof(path));
  int fd = open(path, O_WRONLY | O_APPEND);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "\x40\x00\x00\x00\x07torn", 9), 9);
  close(fd);
  f->s = open_on(f);
  int64_t size = 0;
  assert_int_equal(mv_store_ledger_size(f->s, &size), MV_OK);
  assert_int_equal(size, 10);
  put(f->s, MV_STORE_CREATE, "Patient", "after", "after", "{}");
  struct dump *d = dump_leaves(f);
  assert_int_equal(d->n, 11);
  check_checkpoint(f->s, d, NULL);
  free(d);
}

static void ledger_lost_log_files_are_rebuilt(void **state) {
  struct fx *f = *state;
  char id[16], path[256];
  f->s = open_on(f);
  for (int i = 0; i < 5; i++) {
    snprintf(id, sizeof(id), "l%d", i);
    put(f->s, MV_STORE_CREATE, "Patient", id, id, "{}");
  }
  mv_store_close(f->s);
  f->s = NULL;
  static const char *const files[] = {"leaves.dat", "leaves.idx", "mark"};
  for (size_t i = 0; i < MV_ARRAY_LEN(files); i++) {
    ledger_path(f, files[i], path, sizeof(path));
    unlink(path);
  }
  for (int l = 0; l < 64; l++) {
    char name[32];
    snprintf(name, sizeof(name), "level-%02d.hash", l);
    ledger_path(f, name, path, sizeof(path));
    unlink(path);
  }
  f->s = open_on(f);
  struct dump *d = dump_leaves(f);
  assert_int_equal(d->n, 5);
  int64_t size = 0;
  assert_int_equal(mv_store_ledger_size(f->s, &size), MV_OK);
  assert_int_equal(size, 5);
  check_checkpoint(f->s, d, NULL);
  free(d);
}

static void ledger_log_ahead_of_the_database_is_refused(void **state) {
  struct fx *f = *state;
  char dir[256];
  f->s = open_on(f);
  put(f->s, MV_STORE_CREATE, "Patient", "a", "a", "{}");
  mv_store_close(f->s);
  f->s = NULL;
  /* someone appends an entry the database never had */
  struct mv_tlog *log = NULL;
  snprintf(dir, sizeof(dir), "%s/ledger", f->dir);
  assert_int_equal(mv_tlog_open(dir, NULL, &log, NULL), MV_OK);
  struct mv_tlog_leaf leaf = {"forged", 6};
  uint64_t first = 0;
  assert_int_equal(mv_tlog_append(log, &leaf, 1, &first, NULL), MV_OK);
  assert_int_equal(mv_tlog_sync(log, NULL, NULL), MV_OK);
  mv_tlog_close(log);
  struct mv_diag d;
  int rc;
  struct mv_store *s = open_mode(f, MV_STORE_LEDGER_ON, &rc, &d);
  assert_null(s);
  assert_int_equal(rc, MV_ECORRUPT);
  assert_non_null(strstr(d.msg, "forked or tampered"));
}

static void ledger_key_must_be_private(void **state) {
  struct fx *f = *state;
  char path[256];
  f->s = open_on(f);
  mv_store_close(f->s);
  f->s = NULL;
  ledger_path(f, "ledger.key", path, sizeof(path));
  assert_int_equal(chmod(path, 0644), 0);
  struct mv_diag d;
  int rc;
  assert_null(open_mode(f, MV_STORE_LEDGER_ON, &rc, &d));
  assert_int_equal(rc, MV_ECONFIG);
  assert_non_null(strstr(d.msg, "group or others"));
  assert_int_equal(chmod(path, 0600), 0);
  /* another origin for the same key is refused */
  struct mv_store_opts o = {.url = f->url,
                            .ledger = MV_STORE_LEDGER_ON,
                            .ledger_origin = "other.example/ledger"};
  struct mv_store *s = NULL;
  mv_diag_clear(&d);
  assert_int_equal(mv_store_open(&o, &s, &d), MV_ECONFIG);
  assert_non_null(strstr(d.msg, "cannot change"));
  /* unless it was only a default */
  o.ledger_origin_default = true;
  assert_int_equal(mv_store_open(&o, &s, &d), MV_OK);
  mv_store_close(s);
}

static void ledger_deferred_writes_reach_the_log_at_next_open(void **state) {
  struct fx *f = *state;
  struct mv_diag d;
  int rc;
  f->s = open_mode(f, MV_STORE_LEDGER_DEFER, &rc, &d);
  assert_int_equal(rc, MV_OK);
  put(f->s, MV_STORE_CREATE, "Patient", "d1", "d1", "{}");
  put(f->s, MV_STORE_CREATE, "Patient", "d2", "d2", "{}");
  int64_t size = 0;
  assert_int_equal(mv_store_ledger_size(f->s, &size), MV_OK);
  assert_int_equal(size, 2);
  mv_store_close(f->s);
  f->s = open_on(f);
  struct dump *dd = dump_leaves(f);
  assert_int_equal(dd->n, 2);
  check_checkpoint(f->s, dd, NULL);
  free(dd);
}

/* A writer killed with SIGKILL: every write it had acknowledged is in the
 * database and in the log after reopening. */
static void ledger_kill9_loses_nothing_acknowledged(void **state) {
  struct fx *f = *state;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    struct mv_diag d;
    int rc;
    struct mv_store *s = open_mode(f, MV_STORE_LEDGER_ON, &rc, &d);
    if (rc != MV_OK)
      _exit(3);
    for (int i = 0;; i++) {
      char id[16];
      snprintf(id, sizeof(id), "k%d", i);
      struct mv_store_write w = wr(MV_STORE_CREATE, "Patient", id, id, "{}");
      struct mv_store_result r;
      if (mv_store_write_sync(s, &w, &r) != MV_OK)
        _exit(4);
      int64_t li = r.ledger_index;
      if (write(fds[1], &li, sizeof(li)) != sizeof(li))
        _exit(5);
    }
  }
  close(fds[1]);
  int64_t li = -1, last = -1;
  int got = 0;
  while (got < 40 && read(fds[0], &li, sizeof(li)) == sizeof(li)) {
    last = li;
    got++;
  }
  kill(pid, SIGKILL);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  close(fds[0]);
  assert_int_equal(got, 40);
  f->s = open_on(f);
  int64_t size = 0;
  assert_int_equal(mv_store_ledger_size(f->s, &size), MV_OK);
  assert_true(size >= last + 1);
  struct mv_store_record rec;
  for (int i = 0; i <= last; i++) {
    char id[16];
    snprintf(id, sizeof(id), "k%d", i);
    assert_int_equal(mv_store_read(f->s, "Patient", id, 0, &rec), MV_OK);
    mv_store_record_release(&rec);
  }
  struct dump *d = dump_leaves(f);
  assert_int_equal((int64_t)d->n, size);
  check_checkpoint(f->s, d, NULL);
  free(d);
}

static int count_ckpt(void *ctx, int64_t size, const char *note,
                      const char *const *cosigs, size_t n_cosigs) {
  (void)size;
  (void)note;
  (void)cosigs;
  (void)n_cosigs;
  (*(int *)ctx)++;
  return 0;
}

/* One write per batch (a quiet server): every batch is signed, but once
 * older than a minute the history keeps the newest checkpoint of each 10 s,
 * and once older than a day the newest of each hour (plus the newest
 * overall), so `ledger verify` checks signatures in proportion to time, not
 * to batches. */
/* Wall time the test sets; monotonic time real (the writer's batching
 * waits on it). */
static int64_t wall_us;
static int64_t wall_now(const struct mv_clock *c) {
  (void)c;
  return wall_us;
}
static int64_t real_mono(const struct mv_clock *c) {
  (void)c;
  return mv_clock_mono_us(mv_clock_system());
}

static void ledger_old_checkpoints_are_thinned_by_age(void **state) {
  struct fx *f = *state;
  static const struct mv_clock clk = {.now_us = wall_now, .mono_us = real_mono};
  wall_us = 1700000000LL * 1000000; /* a 10 s boundary */
  struct mv_store_opts o = {.url = f->url,
                            .batch_delay_us = 200,
                            .clock = &clk,
                            .ledger = MV_STORE_LEDGER_ON,
                            .ledger_origin = "test.example/ledger"};
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_store_open(&o, &f->s, &d), MV_OK);
  char id[32];
  for (int i = 0; i < 40; i++) { /* 40 batches, one per second */
    snprintf(id, sizeof(id), "t%d", i);
    put(f->s, MV_STORE_CREATE, "Patient", id, id, "{}");
    wall_us += 1000000;
  }
  int n = 0;
  assert_int_equal(mv_store_ledger_scan_checkpoints(f->dir, count_ckpt, &n, &d),
                   MV_OK);
  assert_true(n >= 40); /* all younger than a minute: all kept */
  /* A witness cosigned two of them, in the same hour. */
  char skey[MV_TLOG_SKEY_TEXT_MAX], vkey[MV_TLOG_VKEY_TEXT_MAX];
  struct mv_tlog_signer w;
  assert_int_equal(mv_tlog_key_generate("witness.example", MV_TLOG_KEY_COSIG_V1,
                                        skey, vkey, NULL),
                   MV_OK);
  assert_int_equal(mv_tlog_signer_parse(skey, strlen(skey), &w, NULL), MV_OK);
  for (int64_t sz = 5; sz <= 15; sz += 10) {
    char *cn = NULL, line[MV_TLOG_SIG_LINE_MAX];
    size_t cn_len = 0, line_len = 0;
    assert_int_equal(mv_store_ledger_checkpoint_at(f->s, sz, &cn, &cn_len),
                     MV_OK);
    size_t body = (size_t)(strstr(cn, "\n\n") - cn) + 1;
    assert_int_equal(
        mv_tlog_cosign(&w, cn, body, 1700000000u, line, &line_len, NULL),
        MV_OK);
    assert_int_equal(mv_store_ledger_add_cosignature(f->s, sz, "w", line),
                     MV_OK);
    free(cn);
  }
  wall_us += 120 * 1000000LL;
  put(f->s, MV_STORE_CREATE, "Patient", "late", "late", "{}");
  n = 0;
  assert_int_equal(mv_store_ledger_scan_checkpoints(f->dir, count_ckpt, &n, &d),
                   MV_OK);
  /* 40 s of batches = 4 buckets of 10 s, the two cosigned ones, plus the
   * one just signed (and the empty store's first checkpoint, if any). */
  assert_true(n >= 7 && n <= 8);
  char *at = NULL;
  size_t at_len = 0;
  assert_int_equal(mv_store_ledger_checkpoint_at(f->s, 5, &at, &at_len), MV_OK);
  free(at);
  /* The newest still verifies and proves every entry. */
  char *note = NULL;
  size_t len = 0;
  assert_int_equal(mv_store_ledger_checkpoint(f->s, 0, NULL, 0, &note, &len),
                   MV_OK);
  assert_non_null(strstr(note, "\n41\n"));
  free(note);
  /* Two days later the first hour's buckets merge: the newest and the
   * newest cosigned checkpoint of that hour (the 40 s and "late" share it),
   * and the new one; the older cosigned one goes, with its cosignature. */
  wall_us += 2 * 24 * 3600 * 1000000LL;
  put(f->s, MV_STORE_CREATE, "Patient", "later", "later", "{}");
  n = 0;
  assert_int_equal(mv_store_ledger_scan_checkpoints(f->dir, count_ckpt, &n, &d),
                   MV_OK);
  assert_int_equal(n, 3);
  assert_int_equal(mv_store_ledger_checkpoint_at(f->s, 5, &at, &at_len),
                   MV_ENOTFOUND);
  assert_int_equal(mv_store_ledger_checkpoint_at(f->s, 15, &at, &at_len),
                   MV_OK);
  free(at);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(ledger_every_change_gets_one_entry),
      T(ledger_failed_writes_get_no_entry),
      T(ledger_proofs_verify_against_checkpoints),
      T(ledger_cosignatures_are_served_by_quorum),
      T(ledger_torn_log_tail_is_repaired_from_the_database),
      T(ledger_lost_log_files_are_rebuilt),
      T(ledger_log_ahead_of_the_database_is_refused),
      T(ledger_key_must_be_private),
      T(ledger_deferred_writes_reach_the_log_at_next_open),
      T(ledger_kill9_loses_nothing_acknowledged),
      T(ledger_old_checkpoints_are_thinned_by_age),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

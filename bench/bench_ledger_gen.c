/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builds a data directory for the `medverse ledger verify` benchmark: N
 * record versions, each with its ledger entry (database row and Merkle log
 * files) and a signed checkpoint every BATCH entries, as the server would
 * leave them but written directly (the store creates the schema and the
 * ledger key; the rest goes through SQLite and the tlog API in large
 * batches) so that a million entries take seconds, not an hour of
 * HTTP. Record bodies are random bytes standing in for ciphertext: verify
 * only hashes them. A server signs one checkpoint per group commit, so
 * CP_EVERY (entries per checkpoint) stands for the batch size under load.
 * Usage: bench_ledger_gen DATA_DIR [N=1000000] [CP_EVERY=1000]
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mv_store.h"
#include "mv_tlog.h"

#define BODY_LEN 256

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void) { /* xorshift64 (Marsaglia 2003) */
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static int fail(const char *what, const char *msg) {
  fprintf(stderr, "bench_ledger_gen: %s: %s\n", what, msg);
  return 1;
}

struct gen {
  sqlite3 *db;
  sqlite3_stmt *ins_leaf, *ins_res, *ins_cp;
  struct mv_tlog *log;
  struct mv_tlog_signer key;
  uint8_t (*leaves)[MV_TLOG_ENTRY_ENC_MAX];
  struct mv_tlog_leaf *batch;
};

#define APPEND_BATCH 10000u /* leaves per append + sync */

/* Append the batch to the log files and sync; then sign and store a
 * checkpoint at every multiple of cp_every the batch reached (and at its
 * end when it is the last). */
static int flush(struct gen *g, size_t n, uint64_t cp_every, bool last,
                 int64_t t_us) {
  struct mv_diag d;
  uint64_t first, size;
  struct mv_tlog_checkpoint cp;
  char note[MV_LIMIT_TLOG_NOTE];
  size_t note_len;
  mv_diag_clear(&d);
  if (mv_tlog_append(g->log, g->batch, n, &first, &d) != MV_OK ||
      mv_tlog_sync(g->log, &size, &d) != MV_OK)
    return fail("append", d.msg);
  for (uint64_t at = (first / cp_every + 1) * cp_every;; at += cp_every) {
    if (at > size) {
      if (!last || size % cp_every == 0)
        break;
      at = size;
    }
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", g->key.name);
    cp.size = at;
    if (mv_tlog_root(g->log, at, cp.root, &d) != MV_OK ||
        mv_tlog_checkpoint_sign(&g->key, &cp, note, sizeof note, &note_len,
                                &d) != MV_OK)
      return fail("checkpoint", d.msg);
    sqlite3_bind_int64(g->ins_cp, 1, (sqlite3_int64)at);
    sqlite3_bind_int64(g->ins_cp, 2, t_us);
    sqlite3_bind_text(g->ins_cp, 3, note, (int)note_len, SQLITE_STATIC);
    if (sqlite3_step(g->ins_cp) != SQLITE_DONE)
      return fail("insert checkpoint", sqlite3_errmsg(g->db));
    sqlite3_reset(g->ins_cp);
    if (at == size)
      break;
  }
  return 0;
}

int main(int argc, char **argv) {
  struct gen g;
  struct mv_store *s = NULL;
  struct mv_diag d;
  char path[4096], msg[512];
  int rc = 1;
  if (argc < 2) {
    fprintf(stderr, "usage: bench_ledger_gen DATA_DIR [N] [CP_EVERY]\n");
    return 2;
  }
  unsigned long long n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000ull;
  unsigned long long cp_every =
      argc > 3 ? strtoull(argv[3], NULL, 10) : 1000ull;
  size_t batch = APPEND_BATCH;
  if (n == 0 || cp_every == 0) {
    fprintf(stderr, "bench_ledger_gen: N and CP_EVERY must be positive\n");
    return 2;
  }
  memset(&g, 0, sizeof g);
  mv_diag_clear(&d);
  /* The store creates the schema, the ledger key and the log files. */
  struct mv_store_opts o = {.url = argv[1],
                            .ledger = MV_STORE_LEDGER_ON,
                            .ledger_origin = "bench.example/medverse/ledger"};
  if (mv_store_open(&o, &s, &d) != MV_OK)
    return fail("open store", mv_diag_format(&d, msg, sizeof msg));
  mv_store_close(s);
  double t0 = now_s();
  snprintf(path, sizeof path, "%s/ledger/ledger.key", argv[1]);
  if (mv_tlog_signer_load(path, &g.key, &d) != MV_OK)
    return fail(path, d.msg);
  snprintf(path, sizeof path, "%s/ledger", argv[1]);
  struct mv_tlog_open_opts lo = {.read_only = false, .create = false};
  if (mv_tlog_open(path, &lo, &g.log, &d) != MV_OK) {
    fail(path, d.msg);
    goto out;
  }
  if (mv_tlog_size(g.log) != 0) {
    fail(path, "not a new data directory");
    goto out;
  }
  snprintf(path, sizeof path, "%s/medverse.db", argv[1]);
  g.leaves = malloc(batch * sizeof *g.leaves);
  g.batch = malloc(batch * sizeof *g.batch);
  if (!g.leaves || !g.batch || sqlite3_open(path, &g.db) != SQLITE_OK ||
      sqlite3_exec(g.db,
                   "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;"
                   "BEGIN",
                   NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(g.db, "INSERT INTO ledger(idx, leaf) VALUES (?1, ?2)",
                         -1, &g.ins_leaf, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(
          g.db,
          "INSERT INTO resources(type, id, version, deleted, updated_us, seq,"
          " body, ledger_idx) VALUES ('Observation', ?1, 1, 0, ?2, ?3, ?4,"
          " ?5)",
          -1, &g.ins_res, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(g.db,
                         "INSERT INTO ledger_checkpoints(size, t_us, note)"
                         " VALUES (?1, ?2, ?3)",
                         -1, &g.ins_cp, NULL) != SQLITE_OK) {
    fail(path, g.db ? sqlite3_errmsg(g.db) : "out of memory");
    goto out;
  }
  int64_t t_us = 1767225600000000LL; /* 2026-01-01 */
  size_t in_batch = 0;
  for (uint64_t i = 0; i < n; i++, t_us += 1000) {
    uint8_t body[BODY_LEN];
    for (size_t k = 0; k < BODY_LEN; k += 8) {
      uint64_t r = next_rand();
      memcpy(body + k, &r, 8);
    }
    struct mv_tlog_entry e;
    memset(&e, 0, sizeof e);
    e.seq = i;
    e.t_us = t_us;
    e.action = MV_TLOG_CREATE;
    snprintf(e.actor, sizeof e.actor, "Device/bench-monitor");
    snprintf(e.type, sizeof e.type, "Observation");
    snprintf(e.id, sizeof e.id, "bench-%llu", (unsigned long long)i);
    e.version = 1;
    mv_tlog_commitment(body, sizeof body, e.commitment);
    size_t len;
    if (mv_tlog_entry_encode(&e, g.leaves[in_batch], MV_TLOG_ENTRY_ENC_MAX,
                             &len, &d) != MV_OK) {
      fail("encode", d.msg);
      goto out;
    }
    g.batch[in_batch].data = g.leaves[in_batch];
    g.batch[in_batch].len = len;
    sqlite3_bind_int64(g.ins_leaf, 1, (sqlite3_int64)i);
    sqlite3_bind_blob(g.ins_leaf, 2, g.leaves[in_batch], (int)len,
                      SQLITE_STATIC);
    sqlite3_bind_text(g.ins_res, 1, e.id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(g.ins_res, 2, t_us);
    sqlite3_bind_int64(g.ins_res, 3, (sqlite3_int64)i + 1);
    sqlite3_bind_blob(g.ins_res, 4, body, sizeof body, SQLITE_STATIC);
    sqlite3_bind_int64(g.ins_res, 5, (sqlite3_int64)i);
    if (sqlite3_step(g.ins_leaf) != SQLITE_DONE ||
        sqlite3_step(g.ins_res) != SQLITE_DONE) {
      fail("insert", sqlite3_errmsg(g.db));
      goto out;
    }
    sqlite3_reset(g.ins_leaf);
    sqlite3_reset(g.ins_res);
    if (++in_batch == batch || i + 1 == n) {
      if (flush(&g, in_batch, cp_every, i + 1 == n, t_us) != 0)
        goto out;
      in_batch = 0;
    }
  }
  if (sqlite3_exec(g.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    fail("commit", sqlite3_errmsg(g.db));
    goto out;
  }
  printf("RESULT ledger_gen entries=%llu cp_every=%llu seconds=%.1f\n", n,
         cp_every, now_s() - t0);
  rc = 0;
out:
  sqlite3_finalize(g.ins_leaf);
  sqlite3_finalize(g.ins_res);
  sqlite3_finalize(g.ins_cp);
  sqlite3_close(g.db);
  mv_tlog_close(g.log);
  mv_tlog_signer_wipe(&g.key);
  free(g.leaves);
  free(g.batch);
  return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface of the store module (after SQLite's btree.h/btreeInt.h
 * split). The generic layer in store.c owns the queue, the writer thread,
 * group commit, callbacks and statistics; a backend (sqlite.c now, a
 * PostgreSQL one later) only implements the table of operations below and
 * never sees threads or callbacks. Also declares hooks used by the unit tests
 * and the benchmark; no production caller uses them.
 */
#ifndef MV_STORE_INT_H
#define MV_STORE_INT_H

#include "mv_limits.h"
#include "mv_store.h"

/* Longest patient_id, code or status index value accepted by the store.
 * Private because no other module produces these strings directly; it bounds
 * the memory a queued write can pin besides its body. */
#define MV__STORE_INDEX_MAX MV_LIMIT_STORE_INDEX_VALUE

/* One write inside a queue item: copied, strings NUL-terminated, with its
 * own outcome. */
struct mv__store_op {
  struct mv_store_write w;    /* copied (terms too) */
  int status;                 /* out: MV_OK or this write's own error */
  struct mv_store_result res; /* out: valid when status is MV_OK */
};

enum mv__store_kind {
  MV__ITEM_WRITE = 1, /* one write (ops[0]); fails alone in its batch */
  MV__ITEM_TX,        /* n writes, all or none */
  MV__ITEM_ERASE,     /* crypto-shred one patient */
};

typedef void (*mv__store_erase_fn)(void *ctx, int status, int64_t records,
                                   int64_t ledger_index);

/*
 * One queue item. The generic layer allocates it in one block holding the
 * ops and every copied string, body and term. A backend reads kind, ops[].w,
 * updated_us and patient_id, and writes the out fields; the others belong to
 * the generic layer.
 */
struct mv__store_item {
  enum mv__store_kind kind;
  size_t n;                 /* ops: 1 (write), 1..MV_STORE_TX_MAX (tx), 0 */
  struct mv__store_op *ops; /* n entries inside this block */
  const char *patient_id;   /* erase: the patient */
  int64_t updated_us;       /* in: lastUpdated for every write of the item */
  int status;               /* out, tx and erase: the item's outcome */
  size_t failed_index;      /* out, tx: the failed write, SIZE_MAX if none */
  int64_t erased;           /* out, erase: resources affected */
  const char *actor;        /* erase: who (NULL = "system") */
  int64_t ledger_index;     /* out, erase: its ledger entry, -1 if none */
  /* tx: the device stream cursor checked and advanced with the writes
   * (mv_store_submit_tx_cursor); has_cursor false = none. */
  bool has_cursor;
  int64_t cursor_seq;
  char cursor_stream[MV_STORE_STREAM_MAX + 1];

  size_t bytes; /* body bytes, counted against the queue's byte cap */
  union {
    mv_store_done_fn write;
    mv_store_tx_done_fn tx;
    mv__store_erase_fn erase;
  } cb;
  void *ctx;
  int64_t enq_mono_us; /* when it was queued (store clock, monotonic) */
  struct mv__store_item *next;
};

/* ---- Checks and queue items (item.c) ---------------------------------- */

bool mv__store_valid_type(const char *t); /* [A-Za-z0-9]{1,TYPE_LEN} */
bool mv__store_valid_id(const char *id);  /* [A-Za-z0-9\-\.]{1,64} */
/* A NUL-terminated string of 1..size-1 bytes within a size-byte field. */
bool mv__store_field_ok(const char *f, size_t size);
bool mv__store_user_ok(const struct mv_store_user *u);
/* MV_OK, MV_EINVAL or MV_ETOOBIG, as mv_store_submit / mv_store_search. */
int mv__store_validate_write(const struct mv_store_write *w);
int mv__store_validate_query(const struct mv_store_query *q);
/* A queue item of n (validated) writes, or an erase of patient_id (ws NULL,
 * n 0), all copied. Returned, caller frees with free(); NULL when out of
 * memory. */
struct mv__store_item *mv__store_item_new(enum mv__store_kind kind,
                                          const struct mv_store_write *ws,
                                          size_t n, const char *patient_id);
/* An erase item of patient_id by actor (may be NULL), both copied. */
struct mv__store_item *mv__store_item_erase(const char *patient_id,
                                            const char *actor);
/* The results array a transaction item carries for its callback. */
struct mv_store_result *mv__store_item_results(struct mv__store_item *it);

/* ---- Cryptography (crypt.c, keyfile.c) -------------------------------- */

#define MV__SITE_KEY_ID_MAX 32 /* key ids: [A-Za-z0-9._-]{1,32} */
#define MV__KEYFILE_KEYS_MAX 4
/* nonce (24) + wrapped key (32) + tag (16) */
#define MV__WRAPPED_LEN 72
/* format byte (1) + nonce (24) + tag (16) around a body */
#define MV__BODY_OVERHEAD 41
/* Bytes of a blind-index hash (keyed BLAKE2b-128). */
#define MV__BLIND_LEN 16
/* Unwrapped patient keys cached in memory. */
#define MV__KEY_CACHE_MAX 4096
/* The patient_keys row of the general data key (resources without a
 * patient) and of the root of derived keys; neither is a valid FHIR id. */
#define MV__GENERAL_KEY_ID ""
#define MV__ROOT_KEY_ID "#root"

struct mv__site_key {
  char id[MV__SITE_KEY_ID_MAX + 1];
  uint8_t key[32];
};
struct mv__keyfile {
  size_t n; /* keys[0] is current */
  struct mv__site_key keys[MV__KEYFILE_KEYS_MAX];
};

/* Read and check the key file: MV_ENOTFOUND when it does not exist,
 * MV_ECONFIG when it is not a private regular file or is malformed,
 * MV_EIO. out is wiped on error. */
int mv__keyfile_read(const char *path, struct mv__keyfile *out,
                     struct mv_diag *diag);
/* Write kf to path crash-safely (temporary file, fsync, rename or link,
 * fsync of the directory), mode 0600. exclusive: fail with MV_EEXISTS (no
 * diag) if path exists. */
int mv__keyfile_write(const char *path, const struct mv__keyfile *kf,
                      bool exclusive, struct mv_diag *diag);
void mv__site_key_generate(struct mv__site_key *out);

/* The site keys, the patient key cache and the root of derived keys.
 * Thread-safe. Returned by new, freed (and wiped) with free. */
struct mv__crypt;
int mv__crypt_new(const char *key_path, size_t cache_cap,
                  struct mv__crypt **out);
void mv__crypt_free(struct mv__crypt *c);
/* (Re)load the key file. MV_ENOTFOUND when missing. */
int mv__crypt_load(struct mv__crypt *c, struct mv_diag *diag);
/* Create the key file with a fresh key, or load it when another process
 * created it first. */
int mv__crypt_create(struct mv__crypt *c, struct mv_diag *diag);
/* The key file's path (borrowed for the crypt's life). */
const char *mv__crypt_path(const struct mv__crypt *c);
size_t mv__crypt_key_count(struct mv__crypt *c);
void mv__crypt_current_id(struct mv__crypt *c,
                          char out[MV__SITE_KEY_ID_MAX + 1]);
/* Rotation steps 1 and 3 (the backend does step 2, the re-wrap): write the
 * key file as (new, current); rewrite it with the first key only. */
int mv__crypt_rotate_begin(struct mv__crypt *c, struct mv_diag *diag);
int mv__crypt_rotate_finish(struct mv__crypt *c, struct mv_diag *diag);
/* Wrap a 32-byte key under the current site key, bound to label (a patient
 * id); out_key_id names the site key used. MV_ECONFIG without a key. */
int mv__crypt_wrap(struct mv__crypt *c, const char *label,
                   const uint8_t key[32], uint8_t out[MV__WRAPPED_LEN],
                   char out_key_id[MV__SITE_KEY_ID_MAX + 1]);
/* Unwrap; reloads the key file once when key_id is unknown (a rotation by
 * another process). MV_ECONFIG: key_id not in the key file; MV_ECORRUPT:
 * authentication failed. */
int mv__crypt_unwrap(struct mv__crypt *c, const char *key_id, const char *label,
                     const uint8_t *wrapped, size_t len, uint8_t out[32]);
/* Seal a body into out (len + MV__BODY_OVERHEAD bytes), bound to
 * type/id/version. */
void mv__crypt_seal(const uint8_t key[32], const char *type, const char *id,
                    int64_t version, const char *body, size_t len,
                    uint8_t *out);
/* Open a sealed body: returned NUL-terminated, caller frees with free().
 * MV_ECORRUPT when authentication fails, MV_ENOMEM. */
int mv__crypt_open(const uint8_t key[32], const char *type, const char *id,
                   int64_t version, const uint8_t *blob, size_t blob_len,
                   char **out_body, size_t *out_len);
/* Install the root of derived keys (copied; done once at open). */
void mv__crypt_set_root(struct mv__crypt *c, const uint8_t root[32]);
int mv__crypt_derive(struct mv__crypt *c, uint64_t subkey_id,
                     const char ctx8[8], uint8_t out[32]);
/* The blind-index hash of one string prefix (len bytes) for type/param. */
void mv__crypt_blind(const struct mv__crypt *c, const char *type,
                     const char *param, const char *prefix, size_t len,
                     uint8_t out[MV__BLIND_LEN]);
/* Bytes in the first `chars` UTF-8 characters of s (len bytes). */
size_t mv__utf8_prefix_len(const char *s, size_t len, size_t chars);
/* The cache of unwrapped patient keys. get copies a hit into out and always
 * reports the cache's erase epoch; put stores a key unless a drop happened
 * since that epoch (so a key destroyed meanwhile never comes back) or it is
 * already there; drop
 * wipes an entry and starts a new epoch. */
bool mv__crypt_cache_get(struct mv__crypt *c, const char *pid, uint8_t out[32],
                         uint64_t *out_epoch);
void mv__crypt_cache_put(struct mv__crypt *c, const char *pid,
                         const uint8_t key[32], uint64_t epoch);
/* The epoch the writer passes for keys it knows are current (it is the
 * only one that destroys keys): insert or replace whatever the epoch. */
#define MV__CACHE_FORCE UINT64_MAX
void mv__crypt_cache_drop(struct mv__crypt *c, const char *pid);
size_t mv__crypt_cache_size(struct mv__crypt *c);

/* A backend instance; each backend defines its own struct. */
struct mv_store_backend;

/*
 * The operations table of a backend. All functions return MV_OK or a
 * negative mv_err. Threading contract, enforced by the generic layer:
 * write_batch, rotate and user_put are never called concurrently with each
 * other (one writer); the reads (read, history, count, search,
 * history_type, user_get, user_list) may be called from any thread at any
 * time, also concurrently with a write.
 */
struct mv_store_backend_ops {
  const char *name;
  /* location: the part of the url after "<scheme>:" (borrowed for the call);
   * clock and crypt: borrowed for the backend's life. Creates and migrates
   * the database, then loads or creates the site key through crypt (the
   * backend knows whether the database already holds wrapped keys), and
   * finishes a rotation an earlier crash interrupted. Returned, freed with
   * close. */
  int (*open)(const char *location, const struct mv_clock *clock,
              struct mv__crypt *crypt, const struct mv_store_opts *opts,
              struct mv_store_backend **out_be, struct mv_diag *diag);
  void (*close)(struct mv_store_backend *be); /* accepts NULL */
  int (*schema_version)(struct mv_store_backend *be);
  /*
   * Apply n queue items in ONE transaction and commit it durably. A write
   * item gets its own status in ops[0]: one that fails on its own
   * (MV_EEXISTS, MV_ECONFLICT, MV_ENOTFOUND, MV_EGONE, or an isolated
   * MV_EDB) leaves the other items of the batch intact. A tx item is applied
   * whole or not at all (status, failed_index). An erase item destroys the
   * patient's key (status, erased). Returns MV_OK when the transaction
   * committed; any other value means nothing of the batch is durable (item
   * statuses are then meaningless and the caller fails every item with the
   * returned error).
   */
  int (*write_batch)(struct mv_store_backend *be, struct mv__store_item **items,
                     size_t n);
  /* Semantics of mv_store_read / history / count / search / history_type. */
  int (*read)(struct mv_store_backend *be, const char *type, const char *id,
              int64_t version, struct mv_store_record *out_rec);
  int (*history)(struct mv_store_backend *be, const char *type, const char *id,
                 unsigned limit, mv_store_visit_fn fn, void *ctx);
  int (*count)(struct mv_store_backend *be, const char *type,
               int64_t *out_count);
  int (*search)(struct mv_store_backend *be, const struct mv_store_query *q,
                mv_store_search_fn fn, void *ctx, int64_t *out_total);
  int (*history_type)(struct mv_store_backend *be, const char *type,
                      int64_t since_us, unsigned limit, unsigned offset,
                      mv_store_search_fn fn, void *ctx, int64_t *out_total);
  /* Site key rotation, steps 1..`steps` of 3 (tests stop early to simulate
   * a crash; production passes 3). */
  int (*rotate)(struct mv_store_backend *be, int steps, struct mv_diag *diag);
  /* created_us: time to record if the user is new. */
  int (*user_put)(struct mv_store_backend *be, const struct mv_store_user *u,
                  int64_t created_us);
  int (*user_get)(struct mv_store_backend *be, const char *username,
                  struct mv_store_user *out_user);
  int (*user_list)(struct mv_store_backend *be, mv_store_user_fn fn, void *ctx);
  /* The ledger (mv_store.h "Ledger"): same semantics. add_cosignature is
   * a write (serialised with write_batch); the others are reads. */
  int (*ledger_size)(struct mv_store_backend *be, int64_t *out_size);
  int (*ledger_leaves)(struct mv_store_backend *be, int64_t start, int64_t end,
                       mv_store_ledger_leaf_fn fn, void *ctx);
  /* witnesses_json: a JSON array of witness ids, or NULL for all. */
  int (*ledger_checkpoint)(struct mv_store_backend *be, unsigned quorum,
                           const char *witnesses_json, int64_t exact_size,
                           char **out_note, size_t *out_len);
  int (*ledger_add_cosignature)(struct mv_store_backend *be, int64_t size,
                                const char *witness, const char *line);
  int (*ledger_proof)(struct mv_store_backend *be, bool consistency, int64_t a,
                      int64_t b, uint8_t (*out)[32], size_t cap, size_t *out_n);
  int (*ledger_vkey)(struct mv_store_backend *be, char *out, size_t cap);
  /* mv_store_cursor_get (a read). */
  int (*cursor_get)(struct mv_store_backend *be, const char *stream,
                    int64_t *out_seq);
};

/* The SQLite backend (sqlite.c). */
extern const struct mv_store_backend_ops mv__store_sqlite_ops;

/* ---- Hooks for tests and benchmarks ---------------------------------- */

/* A snapshot of the counters behind mv_store_metrics_write. */
struct mv__store_stats {
  uint64_t writes;  /* completed writes, any status */
  uint64_t batches; /* transactions attempted */
  uint64_t errors;  /* completed writes whose status was not MV_OK */
  size_t queue_depth;
};
void mv__store_stats_get(struct mv_store *s, struct mv__store_stats *out);

/* While paused the writer takes no new batch, so a test can fill the queue
 * deterministically. mv_store_close() unpauses. */
void mv__store_test_pause(struct mv_store *s, bool paused);

/* Stop accepting writes, commit everything queued (callbacks run) and join
 * the writer, without freeing: later writes fail with MV_ECLOSED while reads
 * still work. mv_store_close() does this first. Idempotent. */
void mv__store_shutdown(struct mv_store *s);

/* Called on the writer thread after each batch with its size and the time
 * spent in the backend (transaction and commit), in µs. Set before the first
 * write; fn NULL removes it. */
typedef void (*mv__store_commit_fn)(void *ctx, size_t n, int64_t commit_us);
void mv__store_set_commit_observer(struct mv_store *s, mv__store_commit_fn fn,
                                   void *ctx);

/* Run rotation steps 1..steps (1: new key file with both keys; 2: re-wrap
 * every patient key) and stop, as a crash there would. */
int mv__store_rotate_partial(struct mv_store *s, int steps,
                             struct mv_diag *diag);

/* How many unwrapped patient keys are cached now. */
size_t mv__store_key_cache_size(struct mv_store *s);

/*
 * Bulk loading for benchmarks: apply n writes (n <= MV__STORE_BULK_MAX) in
 * one transaction on the caller's thread, bypassing the queue (serialised
 * with the writer). Each write succeeds or fails alone as in a batch;
 * out_status (n entries, may be NULL) gets each write's status. Returns
 * MV_OK when the transaction committed.
 */
#define MV__STORE_BULK_MAX 100000u
int mv__store_write_bulk(struct mv_store *s, const struct mv_store_write *ws,
                         size_t n, int *out_status);

/*
 * A synthetic vital-signs population for benchmarks: n Observations with
 * ids "<id_prefix>o<k>" (k = first_index ...), spread round-robin over
 * n_patients patients "<id_prefix>p<j>" (j = k mod n_patients), each
 * patient cycling through five LOINC codes (code index (k / n_patients) mod
 * 5: 8867-4 heart rate, 59408-5 SpO2, 9279-1 respiratory rate, 8310-5 body
 * temperature, 85354-9 blood pressure) with system http://loinc.org, token
 * terms `code` (system|code) and `category` (vital-signs), status "final",
 * and effective time t = t0_us + k * step_us at second precision (the
 * range [t, t + 999999]). Bodies are realistic ~700-byte FHIR JSON. Writes
 * go through mv__store_write_bulk in transactions of `per_tx` (0 = 5000).
 * out_written (may be NULL) gets the number written.
 */
struct mv__store_synth {
  const char *id_prefix;
  uint64_t first_index;
  uint64_t n;
  unsigned n_patients;
  int64_t t0_us, step_us;
  unsigned per_tx;
};
int mv__store_load_synthetic(struct mv_store *s,
                             const struct mv__store_synth *spec,
                             uint64_t *out_written);

#endif

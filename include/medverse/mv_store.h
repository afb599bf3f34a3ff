/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage interface. Callers see only this header; backends live behind a
 * table of operations in src/store/store_int.h (SQLite now, PostgreSQL for
 * scale-out later) so adding a backend touches no caller.
 *
 * Resources are stored as encrypted JSON with search index rows (patient,
 * tokens, blind string hashes, date range, status). Every write creates a new
 * version; old versions are kept (history). Writes are queued to one writer
 * thread that commits them in groups (a batch closes after batch_delay_us or
 * batch_max queue items), so one fsync covers many writes. A write's callback
 * runs only once its batch is durable: an acknowledgement built on it means
 * the data survives a crash. Reads may run on any thread concurrently with
 * the writer.
 *
 * Encryption at rest: each body is sealed with XChaCha20-Poly1305 under the
 * key of its patient (a random 32-byte key per patient; resources without a
 * patient use a general data key). Patient keys are stored wrapped by the
 * site key, which lives in a key file outside the database. Erasing a patient
 * destroys their key (crypto-shredding): their records become unreadable
 * (MV_EGONE) while everything else keeps working.
 */
#ifndef MV_STORE_H
#define MV_STORE_H

#include "mv_clock.h"
#include "mv_buf.h"
#include "mv_err.h"
#include "mv_limits.h"

struct mv_store;

struct mv_store_opts {
  /* Backend and location: "sqlite:DIR", or a plain directory (SQLite).
   * The SQLite file is DIR/medverse.db; DIR is created if missing. */
  const char *url;
  /* Queue items (writes or transactions) per group commit;
   * 0 = MV_LIMIT_STORE_BATCH_MAX. */
  unsigned batch_max;
  /* Longest wait in µs to fill a batch; 0 = MV_LIMIT_STORE_BATCH_DELAY_US. */
  unsigned batch_delay_us;
  /* Pending queue items before MV_EBUSY; 0 = MV_LIMIT_STORE_QUEUE. */
  unsigned queue_cap;
  /* Borrowed for the store's life; NULL = the system clock. */
  const struct mv_clock *clock;
  /* The site key file (borrowed for the call); NULL = "<DIR>/site.key".
   * Created on first open (mode 0600, a fresh random key). An existing file
   * must be a regular file with no group or other permissions. Format: the
   * line "medverse-site-key v1", then lines "<key_id> <base64 32-byte key>";
   * the first key is current, later ones are older keys kept during a
   * rotation. Keep a copy with every backup of the database: without it the
   * data cannot be read. */
  const char *key_file;
};

/* Open (create, migrate to the current schema version, load or create the
 * site key). Returned, caller frees with mv_store_close(). Errors: MV_EIO,
 * MV_EDB, MV_EBUSY (another process held the database lock too long),
 * MV_ECORRUPT (schema newer than this binary), MV_EINVAL (bad url),
 * MV_ECONFIG (key file readable by others, malformed, missing while the
 * database holds wrapped keys, or not matching the database), with detail in
 * diag. */
MV_API MV_NODISCARD int mv_store_open(const struct mv_store_opts *opts,
                                      struct mv_store **out_store,
                                      struct mv_diag *diag);
/* Commit every queued write (their callbacks run), stop the writer, wipe the
 * keys held in memory and close. Accepts NULL. */
MV_API void mv_store_close(struct mv_store *s);

/* The schema version this store is at (after migrations). */
MV_API int mv_store_schema_version(struct mv_store *s);

enum mv_store_op {
  MV_STORE_CREATE =
      1, /* fails with MV_EEXISTS if type/id exists (even deleted) */
  MV_STORE_UPDATE = 2, /* creates version n+1; creates version 1 if absent */
  MV_STORE_DELETE =
      3, /* records a deleted version n+1; MV_ENOTFOUND if absent */
};

#define MV_STORE_NO_DATE INT64_MIN

/* Index terms of one write (see struct mv_store_write). */
enum mv_store_term_kind {
  /* An exact (system, code) pair, stored in clear: codes, identifiers,
   * gender, category. Compared case-sensitively. */
  MV_STORE_TERM_TOKEN = 1,
  /* One normalised word of a name (lower-case, see the fhir module). Never
   * stored in clear: the store keeps a keyed BLAKE2b hash of each of its
   * prefixes of 1..MV_STORE_STRING_PREFIX_MAX UTF-8 characters, so a search
   * for a prefix finds it (FHIR's default starts-with match). */
  MV_STORE_TERM_STRING = 2,
};

struct mv_store_term {
  enum mv_store_term_kind kind;
  const char *param;  /* search parameter, 1..MV_STORE_PARAM_MAX bytes */
  const char *system; /* token: NULL or "" = no system; ignored for strings */
  const char *value;  /* 1..MV_LIMIT_STORE_INDEX_VALUE bytes */
};

/* Caps on one write's terms and one query (enforced with MV_ETOOBIG). */
#define MV_STORE_PARAM_MAX MV_LIMIT_STORE_PARAM /* bytes in a parameter name */
#define MV_STORE_TERMS_MAX MV_LIMIT_STORE_TERMS /* terms per write */
#define MV_STORE_STRING_PREFIX_MAX                                             \
  MV_LIMIT_STORE_STRING_PREFIX /* UTF-8 characters hashed per word */
#define MV_STORE_QUERY_VALUES_MAX                                              \
  MV_LIMIT_STORE_QUERY_VALUES /* values over all lists of a query */
#define MV_STORE_QUERY_LIMIT_MAX                                               \
  MV_LIMIT_STORE_QUERY_ROWS               /* rows per search page */
#define MV_STORE_TX_MAX MV_LIMIT_STORE_TX /* writes per transaction */

/* One write. Everything is copied by mv_store_submit(). */
struct mv_store_write {
  enum mv_store_op op;
  const char *type;   /* resource type, 1..MV_LIMIT_TYPE_LEN bytes */
  const char *id;     /* resource id, 1..MV_LIMIT_ID_LEN bytes */
  int64_t if_version; /* update/delete: current version must equal this
                       * (else MV_ECONFLICT); 0 = no check */
  const char *body;   /* JSON text (not parsed here); NULL for delete */
  size_t body_len;    /* <= MV_LIMIT_STORE_RESOURCE_MAX */
  /* The Patient the resource belongs to (its compartment, and the key its
   * body is encrypted with); NULL or "" = none (general data key). A delete
   * keeps the patient of the version it deletes when this is NULL. */
  const char *patient_id;
  const char *code; /* legacy "system|code" column; prefer a token term */
  /* The resource's main date as the range [date_us, date_hi_us], µs since
   * the epoch, hi inclusive. date_us MV_STORE_NO_DATE = no date; date_hi_us
   * MV_STORE_NO_DATE or 0 = the single instant date_us. */
  int64_t date_us;
  const char *status; /* searchable as a status list; NULL = none */
  int64_t date_hi_us;
  /* Search index terms; on each write the resource's index rows are
   * replaced by these (a delete has none). */
  const struct mv_store_term *terms;
  size_t n_terms; /* <= MV_STORE_TERMS_MAX */
};

struct mv_store_result {
  int64_t version;    /* new version number (1-based) */
  int64_t seq;        /* store-wide commit sequence of this write */
  int64_t updated_us; /* lastUpdated assigned by the store */
};

/* Called exactly once on the store's writer thread, after the write's batch
 * is durable (status MV_OK) or failed (MV_EEXISTS, MV_ECONFLICT, MV_ENOTFOUND,
 * MV_EGONE for a resource or patient that was erased, MV_EDB, MV_EIO,
 * MV_ECONFIG / MV_ECORRUPT for key trouble). res is borrowed for the call.
 * Keep it short: post to your own thread (e.g. mv_server_post) for real
 * work. */
typedef void (*mv_store_done_fn)(void *ctx, int status,
                                 const struct mv_store_result *res);

/* Queue a write. On MV_OK, cb(ctx, ...) will be called exactly once.
 * On error (MV_EINVAL, MV_ETOOBIG, MV_EBUSY queue full, MV_ECLOSED) cb is
 * never called. */
MV_API MV_NODISCARD int mv_store_submit(struct mv_store *s,
                                        const struct mv_store_write *w,
                                        mv_store_done_fn cb, void *ctx);
/* Submit and wait for durability. out_res may be NULL. Never call it from a
 * store callback (MV_EINVAL). */
MV_API MV_NODISCARD int mv_store_write_sync(struct mv_store *s,
                                            const struct mv_store_write *w,
                                            struct mv_store_result *out_res);

/* Atomic transactions (FHIR transaction Bundles): n writes applied all or
 * none, inside one savepoint of a group-commit batch. A transaction is one
 * queue item (its body bytes add up against the queue's byte cap).
 * Called exactly once on the writer thread: status MV_OK and results[0..n)
 * filled; or the error of the first write that failed (failed_index = its
 * index; results are then zero) with nothing applied; or a whole-batch
 * failure (MV_EDB, MV_EIO; failed_index = SIZE_MAX). results is borrowed for
 * the call. */
typedef void (*mv_store_tx_done_fn)(void *ctx, int status, size_t failed_index,
                                    const struct mv_store_result *results);
/* Queue a transaction of n (1..MV_STORE_TX_MAX) writes; everything is
 * copied. Errors as mv_store_submit (then cb is never called); an invalid
 * write makes the whole call fail with MV_EINVAL / MV_ETOOBIG. */
MV_API MV_NODISCARD int mv_store_submit_tx(struct mv_store *s,
                                           const struct mv_store_write *ws,
                                           size_t n, mv_store_tx_done_fn cb,
                                           void *ctx);
/* Submit a transaction and wait. out_results (n entries) and
 * out_failed_index may be NULL; out_results is filled on MV_OK only,
 * *out_failed_index is set whenever the call got as far as the writer
 * (SIZE_MAX on success or a whole-batch failure). */
MV_API MV_NODISCARD int
mv_store_write_tx_sync(struct mv_store *s, const struct mv_store_write *ws,
                       size_t n, struct mv_store_result *out_results,
                       size_t *out_failed_index);

/* Wait until every write submitted before this call is committed. */
MV_API MV_NODISCARD int mv_store_flush(struct mv_store *s);

/* One stored version. body is returned, release with mv_store_record_release.
 * Bodies are decrypted by the store; a body whose authentication fails
 * (tampered or damaged) makes the read fail with MV_ECORRUPT. */
struct mv_store_record {
  int64_t version;
  int64_t updated_us;
  bool deleted;
  char *body; /* NUL-terminated; NULL when deleted */
  size_t body_len;
};
MV_API void mv_store_record_release(struct mv_store_record *r);

/* Read the latest version (version 0) or a given one. MV_ENOTFOUND when the
 * resource or version does not exist; MV_EGONE when version 0 is asked and
 * the latest version is a delete (out_rec is filled with it then), and for
 * any version of a resource whose patient was erased (out_rec untouched
 * then); MV_ECORRUPT when the stored body fails authentication. */
MV_API MV_NODISCARD int mv_store_read(struct mv_store *s, const char *type,
                                      const char *id, int64_t version,
                                      struct mv_store_record *out_rec);

/* Visit the versions of one resource, newest first, at most `limit`
 * (0 = all). rec is borrowed for the call; return non-zero to stop.
 * MV_EGONE when its patient was erased (fn is not called). */
typedef int (*mv_store_visit_fn)(void *ctx, const struct mv_store_record *rec);
MV_API MV_NODISCARD int mv_store_history(struct mv_store *s, const char *type,
                                         const char *id, unsigned limit,
                                         mv_store_visit_fn fn, void *ctx);

/* Count current resources of a type (not deleted, not erased). */
MV_API MV_NODISCARD int mv_store_count(struct mv_store *s, const char *type,
                                       int64_t *out_count);

/* ---- Search ------------------------------------------------------------- */

/* Date comparison prefixes of FHIR R4 (search §3.1.1.4.2). With the search
 * range [lo_us, hi_us] and a resource's range [rlo, rhi]:
 * eq: rlo >= lo && rhi <= hi;  ne: not eq;  gt: rhi > hi;  lt: rlo < lo;
 * ge: rhi >= lo;  le: rlo <= hi. A resource without a date never matches. */
enum mv_store_prefix {
  MV_STORE_EQ = 1,
  MV_STORE_NE,
  MV_STORE_GT,
  MV_STORE_LT,
  MV_STORE_GE,
  MV_STORE_LE,
};

struct mv_store_date_cond {
  enum mv_store_prefix prefix;
  int64_t lo_us, hi_us; /* the search value's range, hi inclusive, lo <= hi */
};

struct mv_store_token_value {
  const char *system; /* NULL = any system; "" = no system */
  const char *value;
};

/* A resource matches when it has a token `param` equal to one of values. */
struct mv_store_token_cond {
  const char *param;
  const struct mv_store_token_value *values;
  size_t n_values; /* >= 1 */
};

/* A resource matches when some word stored for `param` starts with one of
 * values (each one normalised word, as the fhir module produces). */
struct mv_store_string_cond {
  const char *param;
  const char *const *values;
  size_t n_values; /* >= 1 */
  /* Whole words only (FHIR :exact): a value matches a stored word equal
   * to it, not one it is a prefix of. Each stored word also has a keyed
   * hash of the whole word for this. */
  bool exact;
};

enum mv_store_sort {
  /* A deterministic order of the store's choice (by id, or newest date
   * first when patient_ids is set). */
  MV_STORE_SORT_NONE = 0,
  MV_STORE_SORT_DATE_ASC,  /* by the start of the date range */
  MV_STORE_SORT_DATE_DESC, /* by the end of the date range */
  MV_STORE_SORT_UPDATED_ASC,
  MV_STORE_SORT_UPDATED_DESC,
};

/*
 * A search over the current, not deleted, not erased resources of one type.
 * All lists are borrowed for the call. Conditions of different kinds, and
 * the entries of tokens, strings, dates and updated, are ANDed; the values
 * inside one list are ORed. Ties of every sort are broken by id.
 */
struct mv_store_query {
  const char *type;
  /* NULL = any patient. Otherwise only resources of one of these patients:
   * an empty non-NULL list (n_patient_ids 0) matches nothing, so an access
   * restriction to "no patients" can never widen into "all patients". */
  const char *const *patient_ids;
  size_t n_patient_ids;
  const char *const *ids; /* _id; NULL/0 = any */
  size_t n_ids;
  const struct mv_store_token_cond *tokens;
  size_t n_tokens;
  const struct mv_store_string_cond *strings;
  size_t n_strings;
  const char *const *statuses; /* NULL/0 = any */
  size_t n_statuses;
  const struct mv_store_date_cond *dates; /* on [date_us, date_hi_us] */
  size_t n_dates;
  const struct mv_store_date_cond *updated; /* _lastUpdated (an instant) */
  size_t n_updated;
  enum mv_store_sort sort;
  unsigned limit;  /* rows to return, <= MV_STORE_QUERY_LIMIT_MAX; 0 = none */
  unsigned offset; /* rows to skip first */
  bool want_total; /* also count every match (costs a second query) */
};

/* One search result: the resource id and its current version (decrypted
 * body), both borrowed for the call. Return non-zero to stop. */
typedef int (*mv_store_search_fn)(void *ctx, const char *id,
                                  const struct mv_store_record *rec);

/* Run q: fn is called for each row of the page in order (no database
 * connection is held while it runs, so it may call the store). out_total
 * (may be NULL) gets the number of matches when q->want_total, else -1.
 * Errors: MV_EINVAL (bad type, empty param or value list, lo > hi, unknown
 * prefix or sort, limit over MV_STORE_QUERY_LIMIT_MAX), MV_ETOOBIG (more
 * than MV_STORE_QUERY_VALUES_MAX values), MV_EDB, MV_ECORRUPT. */
MV_API MV_NODISCARD int mv_store_search(struct mv_store *s,
                                        const struct mv_store_query *q,
                                        mv_store_search_fn fn, void *ctx,
                                        int64_t *out_total);

/* Type-level _history: every version of every resource of `type`
 * (deletes included, as records with deleted set and no body) whose
 * lastUpdated is >= since_us (INT64_MIN = all), newest first, skipping
 * `offset` and returning at most `limit` (<= MV_STORE_QUERY_LIMIT_MAX).
 * Versions of erased patients are left out. fn as for mv_store_search;
 * out_total (may be NULL) gets the number of matching versions. */
MV_API MV_NODISCARD int
mv_store_history_type(struct mv_store *s, const char *type, int64_t since_us,
                      unsigned limit, unsigned offset, mv_store_search_fn fn,
                      void *ctx, int64_t *out_total);

/* ---- Keys and erasure --------------------------------------------------- */

/* Erase a patient (crypto-shredding), ordered with the queued writes: their
 * key is destroyed (overwritten in the database file), their search rows
 * removed, and every resource of theirs then reads, searches and writes as
 * MV_EGONE; new writes for that patient id fail with MV_EGONE too. Other
 * patients are unaffected. Waits until durable. out_records (may be NULL)
 * gets the number of resources affected. MV_ENOTFOUND when the store holds
 * nothing for that patient; MV_EINVAL for a bad id or when called from a
 * store callback. Erasing twice is MV_OK with 0 records. */
MV_API MV_NODISCARD int mv_store_erase_patient(struct mv_store *s,
                                               const char *patient_id,
                                               int64_t *out_records);

/* Replace the site key: write a new key file holding the new key then the
 * old one, re-wrap every patient key under the new key in one transaction,
 * then rewrite the key file with the new key only. A crash at any point
 * leaves a store that opens and reads; the next open finishes an interrupted
 * rotation. Patient keys, bodies and derived keys (mv_store_derive_key) do
 * not change. Errors: MV_EIO, MV_EDB, MV_EBUSY, MV_ECONFIG, with detail in
 * diag. */
MV_API MV_NODISCARD int mv_store_rotate_site_key(struct mv_store *s,
                                                 struct mv_diag *diag);

/* Derive a 32-byte subkey for another module (e.g. token MACs) with
 * libsodium crypto_kdf_derive_from_key: subkey_id and the 8-byte context
 * ctx8 (not NUL-terminated) select it. The root is a random key of this
 * store, kept wrapped by the site key, so subkeys survive key rotation.
 * out is caller-owned; wipe it with sodium_memzero when done. */
MV_API MV_NODISCARD int mv_store_derive_key(struct mv_store *s,
                                            uint64_t subkey_id,
                                            const char ctx8[8],
                                            uint8_t out[32]);

/* ---- Accounts ----------------------------------------------------------- */

/* Accounts (used by `medverse demo`, the admin CLI and the auth layer).
 * Every field is a NUL-terminated string within its array. pw_hash is an
 * Argon2id string from libsodium crypto_pwhash_str; never a password.
 * role is one of "patient", "clinician", "admin", "auditor", "device".
 * fhir_id links the account to FHIR: the Patient id for role patient, the
 * Practitioner id for clinician, the assigned Patient id for device; ""
 * when none. org_id is an Organization id or "". Both are "" or a FHIR id
 * ([A-Za-z0-9-.]{1,64}). */
struct mv_store_user {
  char username[65];
  char role[16];
  char pw_hash[128];
  bool disabled;
  char fhir_id[65];
  char org_id[65];
};
/* Create or replace the account `u->username` (copied). Works while another
 * process has the same store open (the admin CLI beside a running server):
 * it waits up to a few seconds for that process's write lock, then fails
 * with MV_EBUSY. MV_EINVAL for an empty or unterminated field, an unknown
 * role or a bad fhir_id/org_id. */
MV_API MV_NODISCARD int mv_store_user_put(struct mv_store *s,
                                          const struct mv_store_user *u);
/* MV_ENOTFOUND when absent; out_user untouched on error. */
MV_API MV_NODISCARD int mv_store_user_get(struct mv_store *s,
                                          const char *username,
                                          struct mv_store_user *out_user);
/* Visit every account in username order (bytewise). u is borrowed for the
 * call; fn may call the store (no database connection is held while it
 * runs) and returns non-zero to stop (mv_store_user_list then returns
 * MV_OK). */
typedef int (*mv_store_user_fn)(void *ctx, const struct mv_store_user *u);
MV_API MV_NODISCARD int mv_store_user_list(struct mv_store *s,
                                           mv_store_user_fn fn, void *ctx);

/* Append Prometheus text for the store: writes, batches, batch-size and
 * commit-latency histograms, queue depth (metric names mv_store_*). */
MV_API MV_NODISCARD int mv_store_metrics_write(struct mv_store *s,
                                               struct mv_buf *b);

#endif

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
  /* The tamper-evident ledger (issue 6; see "Ledger" below). Every record
   * version, deletion and erasure always gets its log entry in the
   * database, in the same transaction. With MV_STORE_LEDGER_ON this store
   * also owns the Merkle log files in DIR/ledger/ (appends each batch's
   * entries after its commit, before acknowledging it, and signs a
   * checkpoint per batch); MV_STORE_LEDGER_DEFER (0, the default) leaves
   * the files alone (another process, the server, owns them; its next open
   * appends whatever it lacks). */
  int ledger; /* enum mv_store_ledger_mode */
  /* The checkpoint origin (C2SP tlog-checkpoint), which is also the name
   * of the ledger key: a key is created under this name; an existing key
   * whose name differs is refused (MV_ECONFIG: a log's origin cannot
   * change) unless ledger_origin_default is set, when the key's name wins.
   * NULL or "" = "medverse/ledger". */
  const char *ledger_origin;
  bool ledger_origin_default;
};

enum mv_store_ledger_mode {
  MV_STORE_LEDGER_DEFER = 0,
  MV_STORE_LEDGER_ON = 1,
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
  /* Who made the change, for the ledger entry: "Practitioner/x",
   * "Device/y", "Patient/z" (opaque ids, never names); NULL or "" =
   * "system". At most MV_LIMIT_LEDGER_ACTOR bytes. */
  const char *actor;
};

struct mv_store_result {
  int64_t version;    /* new version number (1-based) */
  int64_t seq;        /* store-wide commit sequence of this write */
  int64_t updated_us; /* lastUpdated assigned by the store */
  /* The index of this version's entry in the ledger (0-based); -1 when
   * the write recorded nothing (deleting a deleted resource). */
  int64_t ledger_index;
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

/*
 * Device stream cursors (sqlite_cursor.c). A device stream (a WebSocket
 * device connection's stream name, an MLLP sender) numbers its messages;
 * the store keeps the highest sequence number it has durably stored per
 * stream, in the same transaction as the stream's writes, so a device that
 * resumes after a crash or a lost acknowledgement is never stored twice.
 * Stream names are 1..MV_STORE_STREAM_MAX bytes of [A-Za-z0-9._:/@-] (not
 * patient data; still bounded). Sequence numbers are >= 0.
 */
#define MV_STORE_STREAM_MAX 64u
struct mv_store_cursor {
  const char *stream; /* copied by the submit call */
  int64_t seq;        /* the highest sequence number the writes complete */
};
/* Is s a valid stream name? */
MV_API bool mv_store_stream_ok(const char *s);
/* mv_store_submit_tx, and in the same transaction: when cursor is non-NULL,
 * refuse the whole transaction (nothing applied, status MV_ECONFLICT,
 * failed_index n) unless cursor->seq is greater than the stream's stored
 * sequence, and store cursor->seq as the stream's new sequence. The check
 * and the update are atomic with the writes: of two transactions carrying
 * the same stream and seq, however they race, at most one is stored.
 * MV_EINVAL (cb never called) for a bad stream name or a negative seq. */
MV_API MV_NODISCARD int
mv_store_submit_tx_cursor(struct mv_store *s, const struct mv_store_write *ws,
                          size_t n, const struct mv_store_cursor *cursor,
                          mv_store_tx_done_fn cb, void *ctx);
/* The stream's last durable sequence number; -1 when it never wrote.
 * Reads the database (any thread). MV_EINVAL for a bad name, MV_EDB. */
MV_API MV_NODISCARD int
mv_store_cursor_get(struct mv_store *s, const char *stream, int64_t *out_seq);

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

/* ---- Ledger (issue 6; docs/LEDGER.md "Server and API") ------------------ */

/*
 * Every record version (create, update, delete; AuditEvents included, which
 * is how reads are logged) and every erasure gets one entry in the ledger:
 * an mv_tlog_entry (mv_tlog.h) whose commitment is the hash of the stored
 * ciphertext of that version (mv_tlog_commitment; a delete or an erasure
 * has no ciphertext: the commitment of zero bytes). The entries are written
 * to the database in the same transaction as the change, which makes the
 * database the source of truth; with MV_STORE_LEDGER_ON they are appended
 * to the Merkle log files in DIR/ledger/ after the commit and before the
 * write is acknowledged, and a checkpoint signed with the ledger key
 * (DIR/ledger/ledger.key, created on first open, mode 0600) is stored for
 * the new size in the same transaction. On open, entries the log files lack
 * are appended; a log holding entries the database lacks is refused
 * (MV_ECORRUPT: a fork or tampering).
 */

/* Like mv_store_erase_patient; actor as in struct mv_store_write (NULL =
 * "system"); *out_ledger_index (may be NULL) gets the index of the
 * erasure's entry (-1 when nothing was erased). */
MV_API MV_NODISCARD int
mv_store_erase_patient_ledger(struct mv_store *s, const char *patient_id,
                              const char *actor, int64_t *out_records,
                              int64_t *out_ledger_index);

/* Entries committed so far (the next entry's index). */
MV_API MV_NODISCARD int mv_store_ledger_size(struct mv_store *s,
                                             int64_t *out_size);

/* Visit the leaf data of entries [start, end) in index order; leaf is
 * borrowed for the call; return non-zero to stop. MV_ERANGE unless
 * 0 <= start <= end <= size, MV_ETOOBIG past MV_LIMIT_LEDGER_ENTRIES. */
typedef int (*mv_store_ledger_leaf_fn)(void *ctx, int64_t index,
                                       const uint8_t *leaf, size_t len);
MV_API MV_NODISCARD int mv_store_ledger_leaves(struct mv_store *s,
                                               int64_t start, int64_t end,
                                               mv_store_ledger_leaf_fn fn,
                                               void *ctx);

/* The newest stored checkpoint (a signed note, text) that carries at least
 * `quorum` witness cosignatures, with its cosignature lines merged in
 * (quorum 0: the newest checkpoint). Only the cosignatures of the
 * witnesses named in `witnesses` (n ids "<key name>+<8 hex digits key
 * id>", borrowed; NULL = every stored one) count and are served, so a
 * witness key removed from the configuration stops counting. Returned
 * NUL-terminated, caller frees with free(). MV_ENOTFOUND when there is
 * none yet. */
MV_API MV_NODISCARD int mv_store_ledger_checkpoint(struct mv_store *s,
                                                   unsigned quorum,
                                                   const char *const *witnesses,
                                                   size_t n, char **out_note,
                                                   size_t *out_len);
/* The stored checkpoint for exactly tree size `size` (without cosignatures),
 * as above; MV_ENOTFOUND when none was signed at that size. */
MV_API MV_NODISCARD int mv_store_ledger_checkpoint_at(struct mv_store *s,
                                                      int64_t size,
                                                      char **out_note,
                                                      size_t *out_len);
/* Keep a witness's cosignature line (copied; the caller verified it) for
 * the checkpoint of `size`; `witness` names its key (one line per witness
 * and size: a newer one replaces it). MV_ENOTFOUND when no checkpoint of
 * that size exists. */
MV_API MV_NODISCARD int mv_store_ledger_add_cosignature(struct mv_store *s,
                                                        int64_t size,
                                                        const char *witness,
                                                        const char *line);

/* Proofs from the log files (MV_STORE_LEDGER_ON only, else
 * MV_EUNSUPPORTED): RFC 9162 §2.1.3 inclusion of `index` in the tree of
 * `size`, §2.1.4 consistency of `from` with `to`; hashes (32 bytes each)
 * written to out (cap hashes), their number to *out_n. MV_ERANGE for
 * indexes outside the committed log (index >= size, size > log size,
 * from 0, from > to). */
MV_API MV_NODISCARD int mv_store_ledger_inclusion(struct mv_store *s,
                                                  int64_t index, int64_t size,
                                                  uint8_t (*out)[32],
                                                  size_t cap, size_t *out_n);
MV_API MV_NODISCARD int mv_store_ledger_consistency(struct mv_store *s,
                                                    int64_t from, int64_t to,
                                                    uint8_t (*out)[32],
                                                    size_t cap, size_t *out_n);
/* The ledger's verifier key in note format ("<name>+<hex id>+<base64>"),
 * NUL-terminated into out (cap bytes). MV_EUNSUPPORTED unless
 * MV_STORE_LEDGER_ON. */
MV_API MV_NODISCARD int mv_store_ledger_verifier_key(struct mv_store *s,
                                                     char *out, size_t cap);

/*
 * Read-only scan of a data directory for `medverse ledger verify`: opens
 * DIR/medverse.db read-only (needs no key; works while a server runs),
 * without migrating. Every field is borrowed for the call; fn returns
 * non-zero to stop. MV_ENOTFOUND: no database; MV_ECORRUPT: a schema
 * without the ledger, or malformed rows; MV_EDB, MV_EIO.
 */
struct mv_store_ledger_version {
  int64_t ledger_index; /* its entry; -1 for versions from before the ledger */
  const char *type;
  const char *id;
  int64_t version;
  int64_t updated_us;
  bool deleted; /* a delete: no ciphertext (sealed NULL, sealed_len 0) */
  bool erased;  /* its patient was erased: the ciphertext stays (so the
                 * commitment still checks) but no key can open it */
  const uint8_t *sealed; /* the stored ciphertext the commitment covers */
  size_t sealed_len;
};
typedef int (*mv_store_ledger_version_fn)(
    void *ctx, const struct mv_store_ledger_version *v);
/* Every stored record version, in ledger index order (pre-ledger versions,
 * index -1, first). */
MV_API MV_NODISCARD int
mv_store_ledger_scan_versions(const char *data_dir,
                              mv_store_ledger_version_fn fn, void *ctx,
                              struct mv_diag *diag);
/* Every entry's leaf data as the database holds it, in index order. */
MV_API MV_NODISCARD int mv_store_ledger_scan_leaves(const char *data_dir,
                                                    mv_store_ledger_leaf_fn fn,
                                                    void *ctx,
                                                    struct mv_diag *diag);
/* Every stored checkpoint note (without cosignatures) in size order, and
 * the cosignature lines kept for it (n_cosigs, each NUL-terminated). */
typedef int (*mv_store_ledger_checkpoint_fn)(void *ctx, int64_t size,
                                             const char *note,
                                             const char *const *cosigs,
                                             size_t n_cosigs);
MV_API MV_NODISCARD int
mv_store_ledger_scan_checkpoints(const char *data_dir,
                                 mv_store_ledger_checkpoint_fn fn, void *ctx,
                                 struct mv_diag *diag);

/* Append Prometheus text for the store: writes, batches, batch-size and
 * commit-latency histograms, queue depth (metric names mv_store_*). */
MV_API MV_NODISCARD int mv_store_metrics_write(struct mv_store *s,
                                               struct mv_buf *b);

/* ---- Surveillance data (src/store/sqlite_epi.c) --------------------------
 *
 * Aggregated case counts per (site, region, disease, day), surveillance
 * alerts and the per-series summaries of the last run. These are counts,
 * not patient data: stored in clear in tables of the same database (created
 * by mv_store_open's migration), through a connection of their own with
 * synchronous=FULL, so every call that returns MV_OK is durable. Calls are
 * thread-safe (serialised per handle); writes wait up to a few seconds for
 * the store's writer (MV_EBUSY after that). Names (site, region, disease)
 * are 1..MV_STORE_EPI_NAME bytes without control characters. Visitor
 * callbacks run while the handle is held: they must not call back into it.
 */
#define MV_STORE_EPI_NAME MV_LIMIT_EPI_SRV_NAME
struct mv_store_epi;

/* Open the surveillance tables of the store at url (as mv_store_opts.url;
 * mv_store_open must have created/migrated it first). Returned, caller
 * frees with mv_store_epi_close(). MV_EIO, MV_EDB, MV_ECONFIG (schema
 * without the surveillance tables). */
MV_API MV_NODISCARD int mv_store_epi_open(const char *url,
                                          struct mv_store_epi **out,
                                          struct mv_diag *diag);
/* Accepts NULL. */
MV_API void mv_store_epi_close(struct mv_store_epi *e);

/* One case count. population is NAN when unknown. */
struct mv_store_epi_count {
  char site[MV_STORE_EPI_NAME + 1];
  char region[MV_STORE_EPI_NAME + 1];
  char disease[MV_STORE_EPI_NAME + 1];
  int32_t day;      /* days since 1970-01-01 */
  int64_t observed; /* >= 0 */
  double population;
};

/* Is s a valid name (1..MV_STORE_EPI_NAME bytes, no control characters)? */
MV_API bool mv_store_epi_name_ok(const char *s);

/* Insert or replace n counts (borrowed) in one durable transaction: a
 * count for an existing (site, region, disease, day) replaces it, so a
 * re-upload is idempotent. *out_replaced (may be NULL) gets how many rows
 * existed with a different value. MV_EINVAL for a bad name or a negative
 * count (nothing written). */
MV_API MV_NODISCARD int
mv_store_epi_put_counts(struct mv_store_epi *e,
                        const struct mv_store_epi_count *c, size_t n,
                        int64_t now_us, size_t *out_replaced);

/* The series of (region, disease) summed over sites, one call per day with
 * counts, in day order. population is NAN when no site gave one. fn returns
 * non-zero to stop. */
typedef int (*mv_store_epi_day_fn)(void *ctx, int32_t day, int64_t observed,
                                   double population);
MV_API MV_NODISCARD int mv_store_epi_series(struct mv_store_epi *e,
                                            const char *region,
                                            const char *disease,
                                            mv_store_epi_day_fn fn, void *ctx);

/* Every (region, disease) with counts (disease NULL = all), in (disease,
 * region) order, with its number of days and first/last day. */
typedef int (*mv_store_epi_key_fn)(void *ctx, const char *region,
                                   const char *disease, int64_t n_days,
                                   int32_t first_day, int32_t last_day);
MV_API MV_NODISCARD int mv_store_epi_keys(struct mv_store_epi *e,
                                          const char *disease,
                                          mv_store_epi_key_fn fn, void *ctx);

/* Counts of one disease summed per (region, day) over sites and the days
 * [from_day, to_day], in (region, day) order (the sharing export). */
typedef int (*mv_store_epi_cell_fn)(void *ctx, const char *region, int32_t day,
                                    int64_t observed);
MV_API MV_NODISCARD int mv_store_epi_cells(struct mv_store_epi *e,
                                           const char *disease,
                                           int32_t from_day, int32_t to_day,
                                           mv_store_epi_cell_fn fn, void *ctx);

/* A surveillance alert: a new alarm at the latest time point of a series. */
struct mv_store_epi_alert {
  int64_t id; /* assigned by the store */
  char region[MV_STORE_EPI_NAME + 1];
  char disease[MV_STORE_EPI_NAME + 1];
  char method[16];
  int32_t day;
  int64_t observed;
  double upperbound;
  int64_t created_us;
  char acked_by[MV_STORE_EPI_NAME + 1]; /* "" while open */
  int64_t acked_us;                     /* 0 while open */
};

/* A series' summary after a run: its risk score and a JSON text (copied). */
struct mv_store_epi_summary {
  const char *region, *disease;
  double risk;
  const char *json;
};

/* Save one run in one durable transaction: replace the summaries of the
 * given series and add the alerts. An alert whose (region, disease, day,
 * method) already exists is not added again: its id is set to 0 (so the
 * caller knows it is not new); new alerts get their id. */
MV_API MV_NODISCARD int
mv_store_epi_save_run(struct mv_store_epi *e,
                      const struct mv_store_epi_summary *sums, size_t n_sums,
                      struct mv_store_epi_alert *alerts, size_t n_alerts,
                      int64_t now_us);

/* Summaries of the last runs (disease NULL = all), highest risk first. */
typedef int (*mv_store_epi_summary_fn)(void *ctx, const char *region,
                                       const char *disease, double risk,
                                       int64_t run_us, const char *json);
MV_API MV_NODISCARD int mv_store_epi_summaries(struct mv_store_epi *e,
                                               const char *disease,
                                               mv_store_epi_summary_fn fn,
                                               void *ctx);

/* Alerts, newest first, at most limit (<= MV_LIMIT_EPI_SRV_ALERTS); only
 * unacknowledged ones when open_only. a is borrowed for the call. */
typedef int (*mv_store_epi_alert_fn)(void *ctx,
                                     const struct mv_store_epi_alert *a);
MV_API MV_NODISCARD int mv_store_epi_alerts(struct mv_store_epi *e,
                                            bool open_only, unsigned limit,
                                            mv_store_epi_alert_fn fn,
                                            void *ctx);

/* Acknowledge alert id by `by` (a username). MV_ENOTFOUND when there is no
 * such alert; acknowledging again keeps the first acknowledgement (MV_OK).
 * out (may be NULL) gets the alert as stored. */
MV_API MV_NODISCARD int mv_store_epi_alert_ack(struct mv_store_epi *e,
                                               int64_t id, const char *by,
                                               int64_t now_us,
                                               struct mv_store_epi_alert *out);

/* Per-disease settings: the parametric serial interval (days). get:
 * MV_ENOTFOUND when none was set. */
MV_API MV_NODISCARD int mv_store_epi_disease_put(struct mv_store_epi *e,
                                                 const char *disease,
                                                 double si_mean, double si_sd,
                                                 int64_t now_us);
MV_API MV_NODISCARD int mv_store_epi_disease_get(struct mv_store_epi *e,
                                                 const char *disease,
                                                 double *out_si_mean,
                                                 double *out_si_sd);

#endif

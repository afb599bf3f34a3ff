/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tamper-evident log: an RFC 6962 / RFC 9162 Merkle tree over opaque
 * leaves, stored append-only in a directory, with inclusion and consistency
 * proofs, their verification, and the leaf entry our log stores (metadata
 * and a commitment to a record version's ciphertext, never patient data).
 * Signed notes, checkpoints, cosignatures and witness logic are in
 * mv_tlog_note.h (included here). Computational module: no network code.
 *
 * Threading: one writer thread calls mv_tlog_append/mv_tlog_sync; any
 * number of reader threads may concurrently call the read functions
 * (mv_tlog_size, _root, _inclusion_proof, _consistency_proof, _leaf_hash,
 * _read_leaf) for sizes and indices below the last synced size. Readers
 * never see leaves that are not yet durable.
 */
#ifndef MV_TLOG_H
#define MV_TLOG_H

#include "mv_err.h"
#include "mv_limits.h"

#define MV_TLOG_HASH_LEN 32u
/* Longest proof for any 64-bit tree size (inclusion <= 64, consistency
 * <= 65 hashes); proofs are fixed-size value types. */
#define MV_TLOG_PROOF_MAX 66u

/* ---- RFC 9162 §2.1 hashing (SHA-256, libsodium) ------------------------ */

/* SHA-256(0x00 || data). data borrowed (may be NULL when len == 0). */
MV_API void mv_tlog_hash_leaf(const void *data, size_t len,
                              uint8_t out[MV_TLOG_HASH_LEN]);
/* SHA-256(0x01 || left || right). out may alias left or right. */
MV_API void mv_tlog_hash_node(const uint8_t left[MV_TLOG_HASH_LEN],
                              const uint8_t right[MV_TLOG_HASH_LEN],
                              uint8_t out[MV_TLOG_HASH_LEN]);
/* The root of the empty tree, SHA-256(""). */
MV_API void mv_tlog_hash_empty(uint8_t out[MV_TLOG_HASH_LEN]);

/* Standard base64 of exactly 32 bytes (44 chars + NUL into out[45]). */
MV_API void mv_tlog_hash_to_b64(const uint8_t h[MV_TLOG_HASH_LEN],
                                char out[45]);
/* Decode strict standard base64 (len chars, borrowed) that must decode to
 * exactly 32 bytes. MV_EPARSE (bad base64) or MV_EINVAL (wrong length);
 * out untouched on error. */
MV_API MV_NODISCARD int mv_tlog_hash_from_b64(const char *b64, size_t len,
                                              uint8_t out[MV_TLOG_HASH_LEN]);
/* Constant-time equality of two 32-byte hashes. */
MV_API bool mv_tlog_hash_eq(const uint8_t a[MV_TLOG_HASH_LEN],
                            const uint8_t b[MV_TLOG_HASH_LEN]);

/* ---- Proofs ------------------------------------------------------------ */

/* An inclusion or consistency proof: n hashes in RFC 9162 order. A value
 * type (about 2 KiB); embed it or allocate it, no release needed. */
struct mv_tlog_proof {
  size_t n;
  uint8_t hash[MV_TLOG_PROOF_MAX][MV_TLOG_HASH_LEN];
};

/* Append one base64 hash to a proof (len chars, borrowed). MV_EPARSE,
 * MV_EINVAL (not 32 bytes), MV_ETOOBIG (proof already has
 * MV_TLOG_PROOF_MAX hashes); proof untouched on error. */
MV_API MV_NODISCARD int mv_tlog_proof_push_b64(struct mv_tlog_proof *p,
                                               const char *b64, size_t len);

/* The expected number of hashes in an inclusion proof of index in a tree
 * of size (0 when index >= size), and in a consistency proof size1->size2
 * (0 when the pair is invalid or size1 == size2). */
MV_API size_t mv_tlog_inclusion_proof_len(uint64_t index, uint64_t size);
MV_API size_t mv_tlog_consistency_proof_len(uint64_t size1, uint64_t size2);

/*
 * Verify that leaf_hash is leaf `index` of the tree of `size` leaves with
 * root `root` (RFC 9162 §2.1.3.2). leaf_hash and root are borrowed with
 * their lengths so that a hash of the wrong length is rejected here.
 * MV_OK only when the proof verifies. MV_EINVAL: a hash not 32 bytes,
 * index >= size, wrong proof length; MV_EINVALID: the proof is well formed
 * but yields a different root. diag (may be NULL) says which.
 */
MV_API MV_NODISCARD int
mv_tlog_verify_inclusion(uint64_t index, uint64_t size,
                         const uint8_t *leaf_hash, size_t leaf_hash_len,
                         const struct mv_tlog_proof *proof, const uint8_t *root,
                         size_t root_len, struct mv_diag *diag);
/*
 * Verify that the tree of size2 (root2) extends the tree of size1 (root1)
 * (RFC 9162 §2.1.4.2). Rules (those of transparency-dev/merkle): size1 == 0
 * is an error (even when size2 == 0); size1 > size2 is an error; size1 ==
 * size2 needs an empty proof and equal roots (compared as given, any
 * length); otherwise roots must be 32 bytes and the proof exactly the
 * expected length. Same error codes as above.
 */
MV_API MV_NODISCARD int
mv_tlog_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t *root1,
                           size_t root1_len, const uint8_t *root2,
                           size_t root2_len, const struct mv_tlog_proof *proof,
                           struct mv_diag *diag);
/* The root2 that a consistency proof implies, given a verified root1 (used
 * by witnesses that only know the old root). Same checks; MV_OK and
 * out_root2 set only when the proof is well formed and matches root1. */
MV_API MV_NODISCARD int
mv_tlog_consistency_root(uint64_t size1, uint64_t size2, const uint8_t *root1,
                         size_t root1_len, const struct mv_tlog_proof *proof,
                         uint8_t out_root2[MV_TLOG_HASH_LEN],
                         struct mv_diag *diag);

/* In-memory trees (tests, tools, small logs): leaves are n leaf hashes
 * (borrowed, n * 32 bytes). Root of the first `size` leaves (size <= n). */
MV_API MV_NODISCARD int
mv_tlog_mem_root(const uint8_t (*leaves)[MV_TLOG_HASH_LEN], uint64_t size,
                 uint8_t out[MV_TLOG_HASH_LEN]);
/* Inclusion proof of index in the tree of the first size leaves. MV_EINVAL
 * when index >= size. */
MV_API MV_NODISCARD int
mv_tlog_mem_inclusion_proof(const uint8_t (*leaves)[MV_TLOG_HASH_LEN],
                            uint64_t index, uint64_t size,
                            struct mv_tlog_proof *out);
/* Consistency proof from size1 to size2 (0 < size1 <= size2). */
MV_API MV_NODISCARD int
mv_tlog_mem_consistency_proof(const uint8_t (*leaves)[MV_TLOG_HASH_LEN],
                              uint64_t size1, uint64_t size2,
                              struct mv_tlog_proof *out);

/* ---- Leaf entries ------------------------------------------------------ */

enum mv_tlog_action {
  MV_TLOG_CREATE = 1,
  MV_TLOG_UPDATE = 2,
  MV_TLOG_DELETE = 3,
  MV_TLOG_ERASE = 4, /* crypto-shredding of a patient's records */
  MV_TLOG_READ = 5,  /* a read of clinical data (its AuditEvent) */
};

/* Text caps of an entry (ASCII letters, digits and - . _ / : only). */
#define MV_TLOG_ACTOR_MAX 128u /* "Practitioner/<uuid>", "Device/x", "system" */
#define MV_TLOG_TYPE_MAX 64u   /* FHIR resource type, e.g. "Observation" */
#define MV_TLOG_ID_MAX 64u     /* FHIR logical id (opaque, no patient data) */

/*
 * What one leaf of our log says. No patient data: ids are opaque, the
 * record itself is only present as a commitment to its stored ciphertext
 * (mv_tlog_commitment). Encoded deterministically by mv_tlog_entry_encode
 * (binary, versioned, bounded: see docs/LEDGER.md "Leaf encoding").
 */
struct mv_tlog_entry {
  uint64_t seq; /* the leaf index; mv_tlog_append_entries assigns it */
  int64_t t_us; /* time of the change, µs since the Unix epoch */
  enum mv_tlog_action action;
  char actor[MV_TLOG_ACTOR_MAX + 1]; /* NUL-terminated */
  char type[MV_TLOG_TYPE_MAX + 1];
  char id[MV_TLOG_ID_MAX + 1];
  uint64_t version; /* record version (>= 1) */
  uint8_t commitment[MV_TLOG_HASH_LEN];
};

/* Largest encoded entry. */
#define MV_TLOG_ENTRY_ENC_MAX                                                  \
  (1u + 1u + 8u + 8u + 8u + 3u + MV_TLOG_ACTOR_MAX + MV_TLOG_TYPE_MAX +        \
   MV_TLOG_ID_MAX + MV_TLOG_HASH_LEN)

/* commitment = SHA-256("medverse/tlog/record/v1" || 0x00 || ciphertext).
 * ct borrowed (may be NULL when len == 0). */
MV_API void mv_tlog_commitment(const void *ct, size_t len,
                               uint8_t out[MV_TLOG_HASH_LEN]);
/* Encode into out (cap bytes, at least MV_TLOG_ENTRY_ENC_MAX suffices).
 * MV_EINVAL (diag names the field) when a field is out of range or has a
 * forbidden character. */
MV_API MV_NODISCARD int mv_tlog_entry_encode(const struct mv_tlog_entry *e,
                                             uint8_t *out, size_t cap,
                                             size_t *out_len,
                                             struct mv_diag *diag);
/* Strict decoder: exactly one entry filling all len bytes, known version,
 * known action, valid characters. MV_EPARSE otherwise; out untouched. */
MV_API MV_NODISCARD int mv_tlog_entry_decode(const uint8_t *data, size_t len,
                                             struct mv_tlog_entry *out,
                                             struct mv_diag *diag);
/* "create", "update", "delete", "erase", "read"; "?" otherwise. */
MV_API const char *mv_tlog_action_name(enum mv_tlog_action a);
/* Parse the names above. MV_EINVAL otherwise. */
MV_API MV_NODISCARD int mv_tlog_action_parse(const char *s,
                                             enum mv_tlog_action *out);

/* ---- The log on disk --------------------------------------------------- */

struct mv_tlog;

struct mv_tlog_open_opts {
  /* Read-only: no lock, no repair, no writes; a torn tail is reported (see
   * mv_tlog_repair_info) and the visible size stops before it. */
  bool read_only;
  /* Create the directory's files if absent (ignored when read_only). */
  bool create;
};

/* What open found and repaired (or, read-only, would repair). */
struct mv_tlog_repair {
  bool repaired;              /* anything below was non-zero */
  uint64_t leaves_dropped;    /* torn or invalid records cut off the tail */
  uint64_t bytes_truncated;   /* bytes cut from leaves.dat */
  uint64_t hashes_recomputed; /* leaf/node hashes rewritten after the mark */
  uint64_t index_rebuilt;     /* leaves.idx entries rewritten */
};

/*
 * Open the log in directory dir (copied; DATA_DIR/ledger for the server).
 * opts may be NULL (read-write, no create). A read-write open takes an
 * exclusive lock (MV_EBUSY if another process holds it) and repairs a torn
 * tail: records after the first incomplete or invalid one are cut and the
 * index and hashes past the last hash mark are recomputed from the leaf
 * records; what was repaired is logged (counts only) and available from
 * mv_tlog_repair_info. Errors: MV_ENOTFOUND (no log and !create), MV_EIO,
 * MV_ECORRUPT (durable data missing or inconsistent before the tail: diag
 * names the file and index), MV_ENOMEM. Returned, caller closes with
 * mv_tlog_close().
 */
MV_API MV_NODISCARD int mv_tlog_open(const char *dir,
                                     const struct mv_tlog_open_opts *opts,
                                     struct mv_tlog **out_log,
                                     struct mv_diag *diag);
/* Writes a hash mark (read-write) and closes. Accepts NULL. No reader may
 * be using the log. */
MV_API void mv_tlog_close(struct mv_tlog *log);
MV_API void mv_tlog_repair_info(const struct mv_tlog *log,
                                struct mv_tlog_repair *out);

/* Number of durable leaves readers may see (atomic; any thread). */
MV_API uint64_t mv_tlog_size(const struct mv_tlog *log);
/* Writer thread: index the next appended leaf gets (size + pending). */
MV_API uint64_t mv_tlog_next_index(const struct mv_tlog *log);

/* One leaf to append: data borrowed for the call. */
struct mv_tlog_leaf {
  const void *data;
  size_t len; /* 1 .. MV_LIMIT_TLOG_LEAF */
};

/*
 * Writer thread. Append n leaves (the batch; at most MV_LIMIT_TLOG_BATCH)
 * and return the index of the first in *out_first. They are written to the
 * files but neither durable nor visible to readers until mv_tlog_sync.
 * MV_EINVAL (empty or oversized leaf), MV_ETOOBIG, MV_EIO (the log is then
 * failed: every later append/sync returns MV_EIO until reopened), MV_EPERM
 * (read-only).
 */
MV_API MV_NODISCARD int mv_tlog_append(struct mv_tlog *log,
                                       const struct mv_tlog_leaf *leaves,
                                       size_t n, uint64_t *out_first,
                                       struct mv_diag *diag);
/* The same for entries: sets entries[i].seq to its index, encodes each
 * with mv_tlog_entry_encode and appends them as one batch. */
MV_API MV_NODISCARD int mv_tlog_append_entries(struct mv_tlog *log,
                                               struct mv_tlog_entry *entries,
                                               size_t n, uint64_t *out_first,
                                               struct mv_diag *diag);
/* Writer thread. Make everything appended durable (one fdatasync of the
 * leaf file per batch: group commit; every 65,536 leaves also a hash mark,
 * which syncs the index and hash files) and visible; *out_size (may be
 * NULL) gets the new size. MV_EIO on failure (the log is then failed). */
MV_API MV_NODISCARD int mv_tlog_sync(struct mv_tlog *log, uint64_t *out_size,
                                     struct mv_diag *diag);

/* Readers (any thread; sizes/indices must be <= / < mv_tlog_size, else
 * MV_ERANGE). Root of the tree of the first size leaves. */
MV_API MV_NODISCARD int mv_tlog_root(struct mv_tlog *log, uint64_t size,
                                     uint8_t out[MV_TLOG_HASH_LEN],
                                     struct mv_diag *diag);
MV_API MV_NODISCARD int mv_tlog_inclusion_proof(struct mv_tlog *log,
                                                uint64_t index, uint64_t size,
                                                struct mv_tlog_proof *out,
                                                struct mv_diag *diag);
/* 0 < size1 <= size2 <= size (MV_EINVAL for size1 == 0 or size1 > size2). */
MV_API MV_NODISCARD int
mv_tlog_consistency_proof(struct mv_tlog *log, uint64_t size1, uint64_t size2,
                          struct mv_tlog_proof *out, struct mv_diag *diag);
/* The stored leaf hash of index. */
MV_API MV_NODISCARD int mv_tlog_leaf_hash(struct mv_tlog *log, uint64_t index,
                                          uint8_t out[MV_TLOG_HASH_LEN],
                                          struct mv_diag *diag);
/* Copy leaf data of index into buf (cap bytes; MV_LIMIT_TLOG_LEAF always
 * suffices); *out_len its length. The record's checksum and index are
 * checked (MV_ECORRUPT). MV_ETOOBIG when cap is too small. */
MV_API MV_NODISCARD int mv_tlog_read_leaf(struct mv_tlog *log, uint64_t index,
                                          void *buf, size_t cap,
                                          size_t *out_len,
                                          struct mv_diag *diag);

/* Progress callback for long work: done of total leaves; return false to
 * stop (the call then returns MV_ECLOSED). */
typedef bool (*mv_tlog_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/*
 * Full audit (any thread): re-read every leaf record of the first
 * mv_tlog_size leaves, check its checksum and index, recompute its leaf
 * hash and every node and compare with the stored hashes; *out_root (may
 * be NULL) gets the recomputed root. On a mismatch returns MV_ECORRUPT with
 * *out_bad_index (may be NULL) the first bad leaf index and diag saying
 * why. progress may be NULL.
 */
MV_API MV_NODISCARD int
mv_tlog_verify_all(struct mv_tlog *log, mv_tlog_progress_fn progress, void *ctx,
                   uint8_t out_root[MV_TLOG_HASH_LEN], uint64_t *out_bad_index,
                   struct mv_diag *diag);

#include "mv_tlog_note.h"

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signed notes (C2SP signed-note), checkpoints (C2SP tlog-checkpoint),
 * cosignatures (C2SP tlog-cosignature, cosignature/v1) and the witness
 * decision as a pure function. Ed25519 through libsodium. Key files use
 * Go's note format: private "PRIVATE+KEY+<name>+<hash>+<base64(type||seed)>",
 * verifier "<name>+<hash>+<base64(type||pub)>", hash = 8 hex digits of the
 * key id = first 4 bytes (big-endian) of SHA-256(name || 0x0A || type ||
 * pub). Type 0x01 is an Ed25519 note signer (a log), 0x04 a cosignature/v1
 * key (a witness). Every parser is strict and bounded; diagnostics never
 * echo the input. Included by mv_tlog.h.
 */
#ifndef MV_TLOG_NOTE_H
#define MV_TLOG_NOTE_H

#include "mv_err.h"
#include "mv_limits.h"

#define MV_TLOG_KEY_ED25519 0x01u  /* note signer (the log's key) */
#define MV_TLOG_KEY_COSIG_V1 0x04u /* cosignature/v1 (a witness's key) */
#define MV_TLOG_NAME_MAX 128u      /* bytes of a key name / note signer name */
/* Text sizes, with NUL, big enough for any valid key string. */
#define MV_TLOG_SKEY_TEXT_MAX (12u + MV_TLOG_NAME_MAX + 10u + 48u + 1u)
#define MV_TLOG_VKEY_TEXT_MAX (MV_TLOG_NAME_MAX + 10u + 48u + 1u)
/* A signature line, with "— ", name, space, base64(76 bytes), "\n", NUL. */
#define MV_TLOG_SIG_LINE_MAX (4u + MV_TLOG_NAME_MAX + 1u + 104u + 2u)

/* A private key. Secret: wipe with mv_tlog_signer_wipe when done. */
struct mv_tlog_signer {
  char name[MV_TLOG_NAME_MAX + 1];
  uint8_t type;    /* MV_TLOG_KEY_ED25519 or MV_TLOG_KEY_COSIG_V1 */
  uint32_t key_id; /* see above */
  uint8_t sk[64];  /* libsodium Ed25519 secret key (seed || pub) */
  uint8_t pk[32];
};

/* A public (verifier) key. */
struct mv_tlog_verifier {
  char name[MV_TLOG_NAME_MAX + 1];
  uint8_t type;
  uint32_t key_id;
  uint8_t pk[32];
};

/* Zero the secret key (sodium_memzero). Accepts NULL. */
MV_API void mv_tlog_signer_wipe(struct mv_tlog_signer *s);

/* Generate a key named name (copied; 1..MV_TLOG_NAME_MAX bytes, printable
 * ASCII without '+' or spaces) of type MV_TLOG_KEY_ED25519 or
 * MV_TLOG_KEY_COSIG_V1. Writes both key texts (NUL-terminated, no newline)
 * into skey (MV_TLOG_SKEY_TEXT_MAX) and vkey (MV_TLOG_VKEY_TEXT_MAX). */
MV_API MV_NODISCARD int mv_tlog_key_generate(const char *name, uint8_t type,
                                             char skey[MV_TLOG_SKEY_TEXT_MAX],
                                             char vkey[MV_TLOG_VKEY_TEXT_MAX],
                                             struct mv_diag *diag);
/* Parse a private key text (len bytes borrowed; one trailing "\n" allowed).
 * The hash must match. MV_EPARSE; out untouched on error. */
MV_API MV_NODISCARD int mv_tlog_signer_parse(const char *text, size_t len,
                                             struct mv_tlog_signer *out,
                                             struct mv_diag *diag);
/* Parse a verifier key text (same rules). */
MV_API MV_NODISCARD int mv_tlog_verifier_parse(const char *text, size_t len,
                                               struct mv_tlog_verifier *out,
                                               struct mv_diag *diag);
/* The verifier key of a signer. */
MV_API void mv_tlog_verifier_of(const struct mv_tlog_signer *s,
                                struct mv_tlog_verifier *out);
/* Format a verifier key text into out (NUL-terminated). */
MV_API void mv_tlog_verifier_format(const struct mv_tlog_verifier *v,
                                    char out[MV_TLOG_VKEY_TEXT_MAX]);
/* Read a key file (at most 4 KiB) and parse it. MV_EIO, MV_EPARSE. */
MV_API MV_NODISCARD int mv_tlog_signer_load(const char *path,
                                            struct mv_tlog_signer *out,
                                            struct mv_diag *diag);
MV_API MV_NODISCARD int mv_tlog_verifier_load(const char *path,
                                              struct mv_tlog_verifier *out,
                                              struct mv_diag *diag);

/* ---- Signed notes ------------------------------------------------------ */

/* One signature line of a note. */
struct mv_tlog_note_sig {
  char name[MV_TLOG_NAME_MAX + 1];
  uint32_t key_id;
  uint8_t sig[76]; /* the bytes after the key id */
  size_t sig_len;
  bool verified;    /* verified by one of the keys given to mv_tlog_note_open */
  uint8_t key_type; /* type of the verifying key, 0 if unverified */
  uint64_t cosig_time; /* cosignature/v1 timestamp when key_type == 0x04 */
};

/* A parsed note: the text is note[0 .. text_len) (ends with "\n"). */
struct mv_tlog_note {
  size_t text_len;
  size_t nsig;
  struct mv_tlog_note_sig sig[MV_LIMIT_TLOG_NOTE_SIGS];
};

/*
 * Sign text (len bytes, borrowed; non-empty, valid UTF-8 without control
 * characters other than "\n", ending in "\n") with s (type 0x01): writes
 * text || "\n" || "— <name> <base64(key id || signature)>\n" into out (cap
 * bytes, NUL-terminated); *out_len excludes the NUL. MV_EINVAL (bad text),
 * MV_ETOOBIG (cap), MV_ECRYPTO.
 */
MV_API MV_NODISCARD int
mv_tlog_note_sign(const struct mv_tlog_signer *s, const char *text, size_t len,
                  char *out, size_t cap, size_t *out_len, struct mv_diag *diag);
/*
 * Parse and verify a signed note (len bytes, borrowed; at most
 * MV_LIMIT_TLOG_NOTE). Every signature line is parsed strictly; lines
 * whose name and key id match one of the nkeys keys are verified (type
 * 0x01: Ed25519 over the text; type 0x04: cosignature/v1 over the text as
 * a checkpoint body). Returns MV_OK when the note is well formed and at
 * least one signature verified; MV_EPARSE (malformed), MV_ENOTFOUND (no
 * signature by a known key), MV_ECRYPTO (a known key's signature does not
 * verify: a forgery). out (may be NULL) is filled on MV_OK and
 * MV_ENOTFOUND.
 */
MV_API MV_NODISCARD int mv_tlog_note_open(const char *note, size_t len,
                                          const struct mv_tlog_verifier *keys,
                                          size_t nkeys,
                                          struct mv_tlog_note *out,
                                          struct mv_diag *diag);
/*
 * Merge signature lines (lines, lines_len bytes, each "— name base64\n",
 * borrowed) into note (borrowed): the result in out (cap bytes, NUL-
 * terminated) is note followed by the lines not already present in it
 * (same name and key id). Does not verify anything. MV_EPARSE, MV_ETOOBIG.
 */
MV_API MV_NODISCARD int mv_tlog_note_merge(const char *note, size_t len,
                                           const char *lines, size_t lines_len,
                                           char *out, size_t cap,
                                           size_t *out_len,
                                           struct mv_diag *diag);

/* ---- Checkpoints --------------------------------------------------------- */

struct mv_tlog_checkpoint {
  char origin[MV_LIMIT_TLOG_ORIGIN + 1]; /* first line, no trailing "\n" */
  uint64_t size;
  uint8_t root[32];
  /* Extension lines verbatim ("\n"-terminated each), ext_len bytes. */
  char ext[MV_LIMIT_TLOG_CHECKPOINT_EXT + 1];
  size_t ext_len;
};

/* Parse a checkpoint body (the note text: origin, decimal size without
 * leading zeros, base64 root of 32 bytes, optional non-empty extension
 * lines, each line ending in "\n"). MV_EPARSE; out untouched on error. */
MV_API MV_NODISCARD int mv_tlog_checkpoint_parse(const char *text, size_t len,
                                                 struct mv_tlog_checkpoint *out,
                                                 struct mv_diag *diag);
/* Format the body into out (cap bytes, NUL-terminated). MV_ETOOBIG,
 * MV_EINVAL (origin empty or with control characters). */
MV_API MV_NODISCARD int
mv_tlog_checkpoint_format(const struct mv_tlog_checkpoint *cp, char *out,
                          size_t cap, size_t *out_len, struct mv_diag *diag);
/* Format and sign: a complete signed checkpoint note into out. */
MV_API MV_NODISCARD int
mv_tlog_checkpoint_sign(const struct mv_tlog_signer *s,
                        const struct mv_tlog_checkpoint *cp, char *out,
                        size_t cap, size_t *out_len, struct mv_diag *diag);
/* Verify a signed checkpoint note with the log's key (type 0x01, name must
 * equal the origin) and parse its body into out. Optional witness keys
 * (type 0x04) verify cosignatures; *out_cosigned (may be NULL) counts the
 * verified distinct witness keys. note_out (may be NULL) gets the parsed
 * note. Errors as mv_tlog_note_open; MV_ENOTFOUND when the log's signature
 * is missing. */
MV_API MV_NODISCARD int mv_tlog_checkpoint_open(
    const char *note, size_t len, const struct mv_tlog_verifier *log_key,
    const struct mv_tlog_verifier *witnesses, size_t nwitnesses,
    struct mv_tlog_checkpoint *out, size_t *out_cosigned,
    struct mv_tlog_note *note_out, struct mv_diag *diag);

/* ---- Cosignatures (cosignature/v1) --------------------------------------- */

/* Cosign a checkpoint body (text, len, borrowed) at time t_s (seconds since
 * the epoch) with witness key w (type 0x04): signs "cosignature/v1\ntime
 * <t_s>\n" || body and writes the note signature line "— <name>
 * <base64(key id || u64 t_s || sig)>\n" into line (NUL-terminated). */
MV_API MV_NODISCARD int mv_tlog_cosign(const struct mv_tlog_signer *w,
                                       const char *body, size_t len,
                                       uint64_t t_s,
                                       char line[MV_TLOG_SIG_LINE_MAX],
                                       size_t *out_len, struct mv_diag *diag);
/* Verify a cosignature (sig: the 76 decoded bytes key id || time || sig,
 * borrowed) over body with witness key v. *out_t_s (may be NULL) gets the
 * time. MV_OK only when valid. */
MV_API MV_NODISCARD int mv_tlog_cosig_verify(const struct mv_tlog_verifier *v,
                                             const char *body, size_t len,
                                             const uint8_t *sig, size_t sig_len,
                                             uint64_t *out_t_s,
                                             struct mv_diag *diag);

/* ---- Witness ------------------------------------------------------------- */

/* What a witness remembers per origin: the last checkpoint it cosigned. */
struct mv_tlog_witness_state {
  bool has; /* false: never cosigned this origin (size/root ignored) */
  uint64_t size;
  uint8_t root[32];
  uint64_t last_t_s; /* time of the last cosignature (seconds) */
};

#define MV_TLOG_WITNESS_REASONS(X)                                             \
  X(OK, "accepted")                                                            \
  X(MALFORMED, "malformed checkpoint note")                                    \
  X(UNKNOWN_KEY, "no signature by the log's key")                              \
  X(BAD_SIGNATURE, "bad log signature (forged or altered note)")               \
  X(ORIGIN, "origin does not match the log's key name")                        \
  X(STALE_OLD_SIZE, "old size is not the size last cosigned")                  \
  X(ROLLBACK, "rollback: size smaller than the last cosigned")                 \
  X(FORK, "fork: same size, different root")                                   \
  X(BAD_PROOF, "malformed consistency proof")                                  \
  X(INCONSISTENT, "consistency proof does not verify")                         \
  X(CLOCK, "witness time before its last cosignature")

enum mv_tlog_witness_reason {
#define MV__TLOG_WR_ENUM(name, text) MV_TLOG_WITNESS_##name,
  MV_TLOG_WITNESS_REASONS(MV__TLOG_WR_ENUM)
#undef MV__TLOG_WR_ENUM
};
/* Static English text of a reason. */
MV_API const char *mv_tlog_witness_reason_str(enum mv_tlog_witness_reason r);

struct mv_tlog_witness_result {
  enum mv_tlog_witness_reason reason;
  struct mv_tlog_witness_state next;     /* the new state when accepted */
  struct mv_tlog_checkpoint cp;          /* the checkpoint, when it parsed */
  char cosig_line[MV_TLOG_SIG_LINE_MAX]; /* when accepted */
  size_t cosig_len;
};

/*
 * The witness decision (pure; tlog-witness add-checkpoint semantics).
 * Inputs (all borrowed): the state for this origin, old_size the size the
 * log claims the proof starts from (must equal state->size, or 0 when
 * !state->has), the signed checkpoint note, the log's verifier key, the
 * consistency proof old_size -> new size, the witness's key (type 0x04)
 * and the time now_s. Accepts (MV_OK, out->reason OK, out->next the new
 * state, out->cosig_line a cosignature of the body) when the log signature
 * verifies and either there is no state, or the size grew and the proof
 * verifies from the state's root, or size and root are unchanged. Refuses
 * otherwise with out->reason set and MV_EINVALID (MV_ECONFLICT for
 * STALE_OLD_SIZE); diag says why. out must not be NULL.
 */
MV_API MV_NODISCARD int mv_tlog_witness_check(
    const struct mv_tlog_witness_state *state, uint64_t old_size,
    const char *note, size_t note_len, const struct mv_tlog_verifier *log_key,
    const struct mv_tlog_proof *proof, const struct mv_tlog_signer *witness,
    uint64_t now_s, struct mv_tlog_witness_result *out, struct mv_diag *diag);

#endif

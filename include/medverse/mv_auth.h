/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Authentication and authorisation, as pure computation over libsodium:
 * Argon2id password hashes, roles, SMART-style scopes, self-contained MAC'd
 * bearer tokens, a bounded login rate limiter, and mv_auth_decide(), the ONE
 * function every access decision goes through. This module knows nothing of
 * HTTP or the store: the API layer looks up users, care teams and consents
 * and hands the facts to mv_auth_decide().
 *
 * Secrets (passwords, keys, tokens) are never logged, and every comparison
 * of a secret is constant-time.
 */
#ifndef MV_AUTH_H
#define MV_AUTH_H

#include "mv_err.h"
#include "mv_limits.h"

/* Caps of this module (input from outside is bounded by them). */
#define MV_AUTH_PASSWORD_MIN                                                   \
  MV_LIMIT_AUTH_PASSWORD_MIN /* bytes in a password or device secret */
#define MV_AUTH_PASSWORD_MAX                                                   \
  MV_LIMIT_AUTH_PASSWORD      /* bytes in a password or device secret */
#define MV_AUTH_HASH_LEN 128u /* == crypto_pwhash_STRBYTES */
#define MV_AUTH_ID_LEN 64u    /* sub, fhir_id, org_id (bytes, no NUL) */
#define MV_AUTH_SCOPES_MAX MV_LIMIT_AUTH_SCOPES /* resource scopes in one set */
#define MV_AUTH_SCOPE_TEXT_MAX                                                 \
  MV_LIMIT_AUTH_SCOPE_TEXT /* bytes in a space-separated scope list */
#define MV_AUTH_TOKEN_MAX                                                      \
  MV_LIMIT_AUTH_TOKEN /* bytes in a bearer token (no NUL) */
#define MV_AUTH_TOKEN_TTL_MAX                                                  \
  MV_LIMIT_AUTH_TOKEN_TTL_S /* longest token life, seconds */
#define MV_AUTH_KEY_LEN 32u /* token MAC key bytes */

/* ---- Passwords -----------------------------------------------------------
 */

/* Hash pw (len bytes, any bytes; MV_AUTH_PASSWORD_MIN..MAX) with Argon2id
 * (libsodium crypto_pwhash_str_alg, OPSLIMIT/MEMLIMIT_INTERACTIVE: about
 * 0.1 s and 64 MiB, so run it off the event loop). out receives the
 * NUL-terminated encoded hash (salt and parameters included). pw is
 * borrowed and not kept. MV_EINVAL (length), MV_ENOMEM (hashing failed, in
 * practice memory), MV_ECRYPTO (libsodium unusable). */
MV_API MV_NODISCARD int mv_auth_password_hash(const char *pw, size_t len,
                                              char out[MV_AUTH_HASH_LEN]);

/* Check pw against an encoded hash from mv_auth_password_hash (any Argon2
 * string libsodium accepts). MV_OK on a match; MV_EAUTH on a mismatch, on a
 * password outside the length bounds and on a malformed hash. Same cost as
 * hashing. */
MV_API MV_NODISCARD int mv_auth_password_verify(const char *hash,
                                                const char *pw, size_t len);

/* Spend the time of one verification (one Argon2id derivation with the
 * parameters mv_auth_password_hash uses, result discarded); always
 * MV_EAUTH. Call it when the account does not exist or is disabled, so the
 * answer's timing does not reveal which accounts exist. */
MV_API MV_NODISCARD int mv_auth_password_verify_dummy(const char *pw,
                                                      size_t len);

/* ---- Roles ---------------------------------------------------------------
 */

/* 0 is deliberately no role: a zeroed principal is denied everything. */
enum mv_auth_role {
  MV_AUTH_ROLE_NONE = 0,
  MV_AUTH_ROLE_PATIENT = 1,
  MV_AUTH_ROLE_CLINICIAN = 2,
  MV_AUTH_ROLE_ADMIN = 3,
  MV_AUTH_ROLE_AUDITOR = 4,
  MV_AUTH_ROLE_DEVICE = 5,
  /* Epidemiologists: aggregated surveillance data only, no patient record. */
  MV_AUTH_ROLE_PUBLIC_HEALTH = 6,
};

/* "patient", "clinician", "admin", "auditor", "device", "public-health"
 * (static); NULL for
 * MV_AUTH_ROLE_NONE and values outside the enum. */
MV_API const char *mv_auth_role_name(enum mv_auth_role role);
/* Exact, case-sensitive name to role. MV_EINVAL for anything else (out_role
 * untouched). */
MV_API MV_NODISCARD int mv_auth_role_parse(const char *name,
                                           enum mv_auth_role *out_role);

/* ---- Scopes (SMART App Launch v1 syntax, v2 permissions accepted) --------
 *
 * A resource scope is CONTEXT/TYPE.ACCESS: CONTEXT is patient, user or
 * system; TYPE a resource type or "*"; ACCESS read, write or "*" (v1), or a
 * SMART v2 permission string, a non-empty in-order subset of "cruds" (c, u,
 * d map to write; r, s to read). Identity and launch scopes (openid,
 * fhirUser, profile, launch, launch/patient, offline_access, online_access)
 * are accepted and ignored: they grant no resource access.
 *
 * Contexts, as applied by mv_auth_decide():
 *  - patient/: only inside the principal's own compartment (the request's
 *    patient_id equals principal.fhir_id);
 *  - user/ and system/: whatever the role allows (the role rules always
 *    apply on top of scopes; a scope never widens a role).
 */
enum mv_auth_scope_ctx {
  MV_AUTH_CTX_PATIENT = 1, /* narrowest */
  MV_AUTH_CTX_USER = 2,
  MV_AUTH_CTX_SYSTEM = 3, /* widest */
};
/* Bit set. */
enum mv_auth_access {
  MV_AUTH_ACCESS_READ = 1,
  MV_AUTH_ACCESS_WRITE = 2,
};

struct mv_auth_scope {
  enum mv_auth_scope_ctx ctx;
  unsigned access; /* MV_AUTH_ACCESS_READ | MV_AUTH_ACCESS_WRITE bits, != 0 */
  char type[MV_AUTH_ID_LEN + 1]; /* "*" or a resource type name */
};

/* A bounded set of distinct resource scopes. Zero-initialised = no access. */
struct mv_auth_scopes {
  unsigned n;
  struct mv_auth_scope s[MV_AUTH_SCOPES_MAX];
};

/* Parse a space-separated scope list (len bytes; runs of spaces allowed)
 * into out, merging duplicates. MV_EINVAL on a malformed scope (MV_EPARSE is
 * not used so callers can map this to OAuth's invalid_scope), MV_ETOOBIG
 * past MV_AUTH_SCOPE_TEXT_MAX bytes or MV_AUTH_SCOPES_MAX scopes. out is
 * untouched on error. */
MV_API MV_NODISCARD int mv_auth_scopes_parse(const char *text, size_t len,
                                             struct mv_auth_scopes *out);

/* Write the canonical space-separated v1 form ("user/Patient.read
 * patient/Observation.write"; ACCESS "*" for read+write) into out (cap bytes
 * incl. NUL). "" for an empty set. MV_ETOOBIG when cap is too small. */
MV_API MV_NODISCARD int mv_auth_scopes_format(const struct mv_auth_scopes *sc,
                                              char *out, size_t cap);

/* Does any scope grant `access` (MV_AUTH_ACCESS_READ, MV_AUTH_ACCESS_WRITE
 * or both bits) on resource type `type`, in any context? Context restrictions are
 * applied by mv_auth_decide(), not here. False for NULL arguments. */
MV_API bool mv_auth_scopes_allow(const struct mv_auth_scopes *sc,
                                 const char *type, unsigned access);

/* The scopes a role gets when a token request names none (ALL stands for
 * the "*" wildcard, which a C comment cannot hold after a slash):
 *   patient   patient/ALL.read patient/Observation.write
 *             patient/Communication.write
 *   clinician user/ALL.read user/ALL.write      (formatted as user/ALL.*)
 *   admin     user/ALL.*
 *   auditor   user/AuditEvent.read
 *   device    user/Observation.write
 *   public-health  user/MeasureReport.read user/MeasureReport.write
 *             (MeasureReport stands for the surveillance data: aggregated
 *             case counts; the role table still denies /fhir access)
 * MV_EINVAL for MV_AUTH_ROLE_NONE or an unknown role. */
MV_API MV_NODISCARD int mv_auth_scopes_default(enum mv_auth_role role,
                                               struct mv_auth_scopes *out);

/* Pairwise intersection of two sets: for every pair of scopes whose types
 * overlap and whose access bits share a bit, the narrower context, the more
 * specific type and the common access bits. MV_OK (out may be empty),
 * MV_ETOOBIG past MV_AUTH_SCOPES_MAX results. out may alias neither input. */
MV_API MV_NODISCARD int mv_auth_scopes_intersect(const struct mv_auth_scopes *a,
                                                 const struct mv_auth_scopes *b,
                                                 struct mv_auth_scopes *out);

/* The scopes to put in a token: the role's defaults when `requested` is NULL
 * or empty, else the intersection of the parsed request with the defaults.
 * MV_EINVAL/MV_ETOOBIG as mv_auth_scopes_parse (malformed request, or bad
 * role), MV_EPERM when nothing requested is allowed to the role (OAuth
 * invalid_scope). out is untouched on error. */
MV_API MV_NODISCARD int mv_auth_scopes_grant(enum mv_auth_role role,
                                             const char *requested,
                                             struct mv_auth_scopes *out);

/* ---- Principals and bearer tokens ----------------------------------------
 */

/* Who is calling. All strings NUL-terminated. */
struct mv_auth_principal {
  char sub[MV_AUTH_ID_LEN + 1]; /* username or device client id, non-empty */
  enum mv_auth_role role;
  /* The principal's own FHIR resource id: the Patient id for a patient, the
   * Practitioner id for a clinician (admin/auditor: optional), and for a
   * device the id of the Patient it is assigned to. "" when none. */
  char fhir_id[MV_AUTH_ID_LEN + 1];
  char org_id[MV_AUTH_ID_LEN + 1]; /* Organization id, "" when none */
  int64_t exp_us; /* token expiry, µs since the epoch (set by verify) */
  struct mv_auth_scopes scopes;
};

/* Issue a bearer token for p valid for ttl_s seconds (1..MV_AUTH_TOKEN_TTL_MAX)
 * from now_us: "mv1." base64url(payload) "." base64url(HMAC-SHA-256 tag),
 * unpadded base64url, the tag (crypto_auth_hmacsha256 under key) covering
 * everything before the last dot. The payload is JSON holding sub, role,
 * fhir_id, org_id, the scopes (canonical form), iat_us, exp_us and a random
 * 128-bit jti; it is readable by whoever holds the token (not encrypted).
 * p->exp_us is ignored. key and p are borrowed. out (cap bytes) receives the
 * NUL-terminated token (at most MV_AUTH_TOKEN_MAX bytes). MV_EINVAL (bad
 * principal: empty or unterminated sub, bad role, ids too long; or ttl),
 * MV_ETOOBIG (cap too small), MV_EIO (no randomness), MV_ECRYPTO. */
MV_API MV_NODISCARD int mv_auth_token_issue(const uint8_t key[MV_AUTH_KEY_LEN],
                                            const struct mv_auth_principal *p,
                                            int64_t now_us, int64_t ttl_s,
                                            char *out, size_t cap);

/* Verify a token (len bytes, not necessarily NUL-terminated) and fill out.
 * The tag is checked in constant time (crypto_auth_hmacsha256_verify) before
 * the payload is decoded; parsing is strict and bounded (prefix "mv1.",
 * length <= MV_AUTH_TOKEN_MAX, canonical unpadded base64url, exact payload
 * keys and types). MV_EAUTH for every kind of bad token (malformed,
 * tampered, wrong key, expired: now_us >= exp_us), so callers answer 401
 * without telling why; out is untouched then. Never log the token. */
MV_API MV_NODISCARD int mv_auth_token_verify(const uint8_t key[MV_AUTH_KEY_LEN],
                                             const char *token, size_t len,
                                             int64_t now_us,
                                             struct mv_auth_principal *out);

/* ---- Login rate limiting -------------------------------------------------
 *
 * Counts failed logins per key ("u:<username>", "a:<address>") in a fixed
 * window opened by the first failure: after max_failures failures within
 * window_us the key is refused until the window ends. At most max_entries
 * keys are tracked; when full, the least recently touched key is forgotten
 * (bounded memory; an attacker would need that many fresh keys, each itself
 * limited, to flush one). Keys are kept only as keyed BLAKE2b hashes, so no
 * username or address stays in memory. Thread-safe.
 */
struct mv_auth_limiter;

/* Returned, caller frees with mv_auth_limiter_free(). MV_EINVAL when any
 * argument is 0 (or window_us < 0), MV_ENOMEM. */
MV_API MV_NODISCARD int mv_auth_limiter_new(unsigned max_failures,
                                            int64_t window_us,
                                            size_t max_entries,
                                            struct mv_auth_limiter **out);
/* Accepts NULL. */
MV_API void mv_auth_limiter_free(struct mv_auth_limiter *l);
/* MV_ERATE when key has reached max_failures inside its window, else MV_OK
 * (also for unknown keys); MV_EINVAL for NULL arguments. key is borrowed
 * (NUL-terminated, any length). Call before checking the password. */
MV_API MV_NODISCARD int mv_auth_limiter_check(struct mv_auth_limiter *l,
                                              const char *key, int64_t now_us);
/* Record one failure for key (starting a new window if the last one ended).
 * Returns MV_ERATE when key is now at the limit, else MV_OK (MV_EINVAL for
 * NULL arguments). */
MV_API int mv_auth_limiter_fail(struct mv_auth_limiter *l, const char *key,
                                int64_t now_us);
/* Forget key's failures (after a successful login). */
MV_API void mv_auth_limiter_success(struct mv_auth_limiter *l, const char *key);

/* ---- Access policy -------------------------------------------------------
 */

enum mv_auth_action {
  MV_AUTH_ACT_READ = 0, /* read a resource */
  MV_AUTH_ACT_VREAD,    /* read one version */
  MV_AUTH_ACT_SEARCH,   /* type search (patient_id: the compartment the
                           search is confined to, "" when none) */
  MV_AUTH_ACT_HISTORY,  /* instance or type history */
  MV_AUTH_ACT_CREATE,
  MV_AUTH_ACT_UPDATE,
  MV_AUTH_ACT_DELETE,
  MV_AUTH_ACT_ERASE,       /* Patient/$erase: destroys the patient's key */
  MV_AUTH_ACT_AUDIT_READ,  /* audit log views outside FHIR */
  MV_AUTH_ACT_LEDGER_READ, /* the tamper-evident ledger view */
  MV_AUTH_ACT_ADMIN,       /* account, device and key administration */
  MV_AUTH_ACT_SURV_READ,   /* surveillance results, alerts, sharing export */
  MV_AUTH_ACT_SURV_WRITE,  /* case-count uploads, runs, alert acknowledgement */
  MV_AUTH_ACT_COUNT
};

/* The facts of one request. Everything is borrowed for the call. */
struct mv_auth_request {
  enum mv_auth_action action;
  const char *type; /* resource type; may be NULL for AUDIT_READ,
                       LEDGER_READ, ADMIN, SURV_READ and SURV_WRITE */
  /* The compartment of the target: the Patient id the resource belongs to
   * (a Patient's own id for a Patient); "" or NULL when it has none. */
  const char *patient_id;
  /* The principal's Practitioner is on an active CareTeam of that patient. */
  bool on_care_team;
  /* An active Consent with provision.type = deny names the principal's
   * Practitioner or Organization. */
  bool consent_denies;
};

/*
 * Decide whether p may do r. MV_OK when allowed, else MV_EPERM (HTTP 403)
 * with *out_reason (may be NULL) set to a static English reason holding no
 * patient data; on MV_OK *out_reason is "allowed". NULL p or r, an unknown
 * role or action: MV_EPERM (fail closed). The rules (table and notes in
 * src/auth/policy.c):
 *
 *   action           patient          clinician              admin auditor  device
 *   READ/VREAD/      own compartment  care team (*); no-     all   AuditEvent  -
 *   SEARCH/HISTORY                    compartment Practit-         only
 *                                     ioner/Device/CareTeam
 *   CREATE           own compartment, care team (*); Patient all   -       own: Observ-
 *                    Observation and  (the server then adds                ation only
 *                    Communication    the clinician to its
 *                    only             CareTeam)
 *   UPDATE/DELETE    -                care team (*)          all   -        -
 *   ERASE            -                -                      all   -        -
 *   AUDIT_READ/
 *   LEDGER_READ      -                -                      yes   yes      -
 *   ADMIN            -                -                      yes   -        -
 *   SURV_READ/
 *   SURV_WRITE       -                -                      yes   -        -
 *   public-health: SURV_READ and SURV_WRITE only (every FHIR action denied).
 *
 *   own compartment: r->patient_id is non-empty and equals p->fhir_id.
 *   care team (*): r->patient_id non-empty, r->on_care_team and not
 *   r->consent_denies. AuditEvent: created by the server only (CREATE,
 *   UPDATE, DELETE, ERASE of AuditEvent are denied to every role); read by
 *   the patient in their own compartment, auditors and admins, never by
 *   clinicians or devices. Admins ignore consent (every admin access is
 *   audited by the caller). Finally p->scopes must allow the type and access
 *   (read for READ..HISTORY, AUDIT_READ, LEDGER_READ on "AuditEvent"; write
 *   for the rest; ADMIN needs a user/ or system/ scope on "*" with write;
 *   SURV_READ/SURV_WRITE read/write on "MeasureReport"),
 *   a patient/ scope only inside the own compartment.
 */
MV_API MV_NODISCARD int mv_auth_decide(const struct mv_auth_principal *p,
                                       const struct mv_auth_request *r,
                                       const char **out_reason);

#endif

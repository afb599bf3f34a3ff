/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ledger's HTTP API (issue 6; docs/API.md "Ledger"): the signed
 * checkpoint, leaf data, inclusion and consistency proofs (RFC 9162 §2.1.3,
 * §2.1.4) for auditors and administrators, the log's verifier key for
 * anyone, and the witness side of the C2SP tlog-cosignature protocol: a
 * witness posts the checkpoint note it cosigned, and cosignature lines by
 * configured witness keys over a checkpoint this log signed are kept and
 * served with it. Handlers run on the worker pool; the log itself is the
 * store's (mv_store.h "Ledger").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api_int.h"
#include "mv_limits.h"
#include "mv_log.h"
#include "mv_pool.h"
#include "mv_tlog.h"

#define FHIR_JSON "application/fhir+json; charset=utf-8"
#define TEXT_PLAIN "text/plain; charset=utf-8"
#define JSON "application/json"

/* A witness's id in the store: "<key name>+<8 hex digits key id>". */
#define WITNESS_ID_MAX (MV_TLOG_NAME_MAX + 10)

struct api_ledger {
  struct mv_tlog_verifier witnesses[MV_LIMIT_LEDGER_WITNESSES];
  char ids[MV_LIMIT_LEDGER_WITNESSES][WITNESS_ID_MAX];
  const char *id_ptrs[MV_LIMIT_LEDGER_WITNESSES];
  size_t n_witnesses;
  unsigned quorum;
};

static void witness_id(const char *name, uint32_t key_id,
                       char out[WITNESS_ID_MAX]) {
  /* Built by hand: gcc's -Wrestrict cannot see that name and out differ. */
  static const char hex[] = "0123456789abcdef";
  size_t n = strnlen(name, MV_TLOG_NAME_MAX);
  memcpy(out, name, n);
  out[n++] = '+';
  for (int i = 7; i >= 0; i--)
    out[n++] = hex[(key_id >> (4 * i)) & 0xfu];
  out[n] = '\0';
}

/* ---- Requests ---------------------------------------------------------- */

/* Readers of the log: an auditor or administrator (mv_auth_decide's
 * LEDGER_READ). Answers 401/403 itself and returns false. */
static bool reader_ok(struct api_req *q) {
  if (api_authenticate(q) != 0)
    return false;
  if (api_access(q, MV_AUTH_ACT_LEDGER_READ, NULL, NULL) != MV_OK) {
    api_fail(q, 403, "forbidden", NULL,
             "the ledger is readable by auditors and administrators only");
    return false;
  }
  return true;
}

/* A required non-negative decimal query parameter (no sign, no junk, at
 * most 18 digits). Answers 400 naming it and returns false. */
static bool param_u63(struct api_req *q, const char *name, int64_t *out) {
  const char *v = mv_http_query(q->x, name);
  if (!v || !*v) {
    api_fail(q, 400, "required", name, "query parameter '%s' is required",
             name);
    return false;
  }
  size_t n = strspn(v, "0123456789");
  if (n == 0 || v[n] != '\0' || n > 18) {
    api_fail(q, 400, "value", name,
             "query parameter '%s' must be a non-negative integer", name);
    return false;
  }
  int64_t x = 0;
  for (size_t i = 0; i < n; i++)
    x = x * 10 + (v[i] - '0');
  *out = x;
  return true;
}

static void answer_buf(struct api_req *q, int status, const char *ctype) {
  q->status = status;
  q->ctype = ctype;
}

static bool log_size(struct api_req *q, int64_t *out) {
  int rc = mv_store_ledger_size(q->api->store, out);
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "ledger");
    return false;
  }
  return true;
}

/* ---- GET /ledger/checkpoint ------------------------------------------------ */

static void job_checkpoint(struct api_req *q) {
  char *note = NULL;
  size_t len = 0;
  if (!reader_ok(q))
    goto out;
  /* ?latest=1: the newest checkpoint whatever its cosignatures, which is
   * what a witness fetches to cosign when a quorum is configured. */
  unsigned quorum = q->api->ledger->quorum;
  const char *latest = mv_http_query(q->x, "latest");
  if (latest) {
    if (strcmp(latest, "1") != 0 && strcmp(latest, "true") != 0 &&
        strcmp(latest, "0") != 0 && strcmp(latest, "false") != 0) {
      api_fail(q, 400, "value", "latest",
               "query parameter 'latest' must be true or false");
      goto out;
    }
    if (latest[0] == '1' || latest[0] == 't')
      quorum = 0;
  }
  struct api_ledger *l = q->api->ledger;
  int rc = mv_store_ledger_checkpoint(q->api->store, quorum, l->id_ptrs,
                                      l->n_witnesses, &note, &len);
  if (rc == MV_ENOTFOUND) {
    api_fail(q, 404, "not-found", NULL,
             quorum ? "no checkpoint has the required witness cosignatures "
                      "yet (witnesses fetch ?latest=1)"
                    : "no checkpoint yet");
    goto out;
  }
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "checkpoint");
    goto out;
  }
  mv_buf_reset(&q->out);
  if (mv_buf_append(&q->out, note, len) != MV_OK) {
    api_fail_err(q, MV_ETOOBIG, NULL, "checkpoint");
    goto out;
  }
  answer_buf(q, 200, TEXT_PLAIN);
out:
  free(note);
  api_finish(q);
}

/* ---- GET /ledger/entries ---------------------------------------------------- */

static int put_leaf(void *ctx, int64_t index, const uint8_t *leaf, size_t len) {
  struct api_req *q = ctx;
  char b64[sodium_base64_ENCODED_LEN(MV_LIMIT_TLOG_LEAF,
                                     sodium_base64_VARIANT_ORIGINAL)];
  if (len > MV_LIMIT_TLOG_LEAF)
    return 1;
  sodium_bin2base64(b64, sizeof(b64), leaf, len,
                    sodium_base64_VARIANT_ORIGINAL);
  return mv_buf_appendf(&q->out, "%s{\"index\":%" PRId64 ",\"leaf\":\"%s\"}",
                        q->out.len > 1 ? "," : "", index, b64) != MV_OK;
}

static void job_entries(struct api_req *q) {
  int64_t start, end, size;
  if (!reader_ok(q) || !param_u63(q, "start", &start) ||
      !param_u63(q, "end", &end) || !log_size(q, &size))
    goto out;
  if (end < start) {
    api_fail(q, 400, "value", "end", "'end' must not be below 'start'");
    goto out;
  }
  if (start > size) {
    api_fail(q, 400, "value", "start",
             "'start' is beyond the log's size (%" PRId64 ")", size);
    goto out;
  }
  /* The range is capped: a client pages on from the last index it got. */
  if (end > size)
    end = size;
  if (end - start > (int64_t)MV_LIMIT_LEDGER_ENTRIES)
    end = start + MV_LIMIT_LEDGER_ENTRIES;
  mv_buf_reset(&q->out);
  int rc = mv_buf_appends(&q->out, "[");
  if (rc == MV_OK)
    rc = mv_store_ledger_leaves(q->api->store, start, end, put_leaf, q);
  if (rc == MV_OK)
    rc = mv_buf_appends(&q->out, "]");
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "entries");
    goto out;
  }
  answer_buf(q, 200, JSON);
out:
  api_finish(q);
}

/* ---- GET /ledger/proof/{inclusion,consistency} ---------------------------- */

static void put_proof(struct api_req *q, const char *a_name, int64_t a,
                      const char *b_name, int64_t b, uint8_t (*h)[32],
                      size_t n) {
  mv_buf_reset(&q->out);
  int rc = mv_buf_appendf(&q->out,
                          "{\"%s\":%" PRId64 ",\"%s\":%" PRId64 ",\"hashes\":[",
                          a_name, a, b_name, b);
  for (size_t i = 0; i < n && rc == MV_OK; i++) {
    char b64[45];
    mv_tlog_hash_to_b64(h[i], b64);
    rc = mv_buf_appendf(&q->out, "%s\"%s\"", i ? "," : "", b64);
  }
  if (rc == MV_OK)
    rc = mv_buf_appends(&q->out, "]}");
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "proof");
    return;
  }
  answer_buf(q, 200, JSON);
}

static void job_inclusion(struct api_req *q) {
  int64_t index, size, have;
  uint8_t(*h)[32] = NULL;
  size_t n = 0;
  if (!reader_ok(q) || !param_u63(q, "index", &index) ||
      !param_u63(q, "size", &size) || !log_size(q, &have))
    goto out;
  if (size > have) {
    api_fail(q, 400, "value", "size",
             "'size' is beyond the log's size (%" PRId64 ")", have);
    goto out;
  }
  if (index >= size) {
    api_fail(q, 400, "value", "index", "'index' must be below 'size'");
    goto out;
  }
  if (!(h = malloc(MV_TLOG_PROOF_MAX * sizeof(*h)))) {
    api_fail_err(q, MV_ENOMEM, NULL, "proof");
    goto out;
  }
  int rc = mv_store_ledger_inclusion(q->api->store, index, size, h,
                                     MV_TLOG_PROOF_MAX, &n);
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "inclusion proof");
    goto out;
  }
  put_proof(q, "index", index, "size", size, h, n);
out:
  free(h);
  api_finish(q);
}

static void job_consistency(struct api_req *q) {
  int64_t from, to, have;
  uint8_t(*h)[32] = NULL;
  size_t n = 0;
  if (!reader_ok(q) || !param_u63(q, "from", &from) ||
      !param_u63(q, "to", &to) || !log_size(q, &have))
    goto out;
  if (to > have) {
    api_fail(q, 400, "value", "to",
             "'to' is beyond the log's size (%" PRId64 ")", have);
    goto out;
  }
  /* RFC 9162 §2.1.4: a consistency proof needs 0 < from <= to. */
  if (from == 0) {
    api_fail(q, 400, "value", "from", "'from' must be at least 1");
    goto out;
  }
  if (from > to) {
    api_fail(q, 400, "value", "from", "'from' must not exceed 'to'");
    goto out;
  }
  if (!(h = malloc(MV_TLOG_PROOF_MAX * sizeof(*h)))) {
    api_fail_err(q, MV_ENOMEM, NULL, "proof");
    goto out;
  }
  int rc = mv_store_ledger_consistency(q->api->store, from, to, h,
                                       MV_TLOG_PROOF_MAX, &n);
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "consistency proof");
    goto out;
  }
  put_proof(q, "from", from, "to", to, h, n);
out:
  free(h);
  api_finish(q);
}

/* ---- GET /ledger/key --------------------------------------------------------- */

static void job_key(struct api_req *q) {
  char vkey[MV_TLOG_VKEY_TEXT_MAX];
  int rc = mv_store_ledger_verifier_key(q->api->store, vkey, sizeof(vkey));
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "ledger key");
  } else {
    mv_buf_reset(&q->out);
    if (mv_buf_appendf(&q->out, "%s\n", vkey) == MV_OK)
      answer_buf(q, 200, TEXT_PLAIN);
    else
      api_fail_err(q, MV_ENOMEM, NULL, "ledger key");
  }
  api_finish(q);
}

/* ---- POST /ledger/cosignature ---------------------------------------------- */

/* The note signature line of one parsed signature: "— name base64(key id ||
 * signature)\n" (C2SP signed-note). */
static int sig_line(const struct mv_tlog_note_sig *s, char *out, size_t cap) {
  uint8_t raw[4 + sizeof(s->sig)];
  char b64[sodium_base64_ENCODED_LEN(sizeof(raw),
                                     sodium_base64_VARIANT_ORIGINAL)];
  if (s->sig_len > sizeof(s->sig))
    return MV_EINVAL;
  raw[0] = (uint8_t)(s->key_id >> 24);
  raw[1] = (uint8_t)(s->key_id >> 16);
  raw[2] = (uint8_t)(s->key_id >> 8);
  raw[3] = (uint8_t)s->key_id;
  memcpy(raw + 4, s->sig, s->sig_len);
  sodium_bin2base64(b64, sizeof(b64), raw, 4 + s->sig_len,
                    sodium_base64_VARIANT_ORIGINAL);
  int n = snprintf(out, cap, "\xe2\x80\x94 %s %s\n", s->name, b64);
  return n > 0 && (size_t)n < cap ? MV_OK : MV_ETOOBIG;
}

static void job_cosignature(struct api_req *q) {
  struct api_ledger *l = q->api->ledger;
  struct mv_tlog_verifier logkey;
  struct mv_tlog_checkpoint *cp = NULL;
  struct mv_tlog_note *note = NULL;
  char vkey[MV_TLOG_VKEY_TEXT_MAX];
  char *ours = NULL;
  size_t ours_len = 0, cosigned = 0, accepted = 0;
  struct mv_diag d;
  mv_diag_clear(&d);
  const char *body = q->r->body;
  size_t len = q->r->body_len;
  if (l->n_witnesses == 0) {
    api_fail(q, 403, "forbidden", NULL,
             "this log accepts no cosignatures (ledger-witness is empty)");
    goto out;
  }
  if (len == 0) {
    api_fail(q, 400, "required", "body",
             "the body must be the cosigned checkpoint note");
    goto out;
  }
  if (len > MV_LIMIT_LEDGER_COSIG_BODY) {
    api_fail(q, 413, "too-costly", "body", "the note is too large");
    goto out;
  }
  int rc = mv_store_ledger_verifier_key(q->api->store, vkey, sizeof(vkey));
  if (rc == MV_OK)
    rc = mv_tlog_verifier_parse(vkey, strlen(vkey), &logkey, NULL);
  cp = malloc(sizeof(*cp));
  note = malloc(sizeof(*note));
  if (rc != MV_OK || !cp || !note) {
    api_fail_err(q, rc != MV_OK ? rc : MV_ENOMEM, NULL, "cosignature");
    goto out;
  }
  rc = mv_tlog_checkpoint_open(body, len, &logkey, l->witnesses, l->n_witnesses,
                               cp, &cosigned, note, &d);
  if (rc == MV_ECRYPTO) {
    api_fail(q, 400, "security", "body",
             "a signature by a known key does not verify");
    goto out;
  }
  if (rc != MV_OK) {
    api_fail(q, 400, "invalid", "body",
             "not a checkpoint signed by this log: %s",
             d.msg[0] ? d.msg : mv_strerror(rc));
    goto out;
  }
  if (cp->size > (uint64_t)INT64_MAX) {
    api_fail(q, 400, "value", "body", "tree size out of range");
    goto out;
  }
  rc = mv_store_ledger_checkpoint_at(q->api->store, (int64_t)cp->size, &ours,
                                     &ours_len);
  if (rc == MV_ENOTFOUND) {
    api_fail(q, 404, "not-found", "body",
             "this log signed no checkpoint of size %" PRIu64, cp->size);
    goto out;
  }
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "cosignature");
    goto out;
  }
  /* The body the witness cosigned must be exactly the one we signed (a
   * different root at this size would be a fork). */
  if (ours_len < note->text_len || memcmp(ours, body, note->text_len) != 0 ||
      ours[note->text_len] != '\n') {
    api_fail(q, 409, "conflict", "body",
             "the checkpoint differs from the one this log signed at size "
             "%" PRIu64,
             cp->size);
    goto out;
  }
  for (size_t i = 0; i < note->nsig; i++) {
    const struct mv_tlog_note_sig *s = &note->sig[i];
    char line[MV_TLOG_SIG_LINE_MAX], who[WITNESS_ID_MAX];
    if (!s->verified || s->key_type != MV_TLOG_KEY_COSIG_V1)
      continue;
    if (sig_line(s, line, sizeof(line)) != MV_OK)
      continue;
    witness_id(s->name, s->key_id, who);
    rc = mv_store_ledger_add_cosignature(q->api->store, (int64_t)cp->size, who,
                                         line);
    if (rc != MV_OK) {
      api_fail_err(q, rc, NULL, "cosignature");
      goto out;
    }
    accepted++;
  }
  if (accepted == 0) {
    api_fail(q, 400, "security", "body",
             "no cosignature by a configured witness key");
    goto out;
  }
  mv_buf_reset(&q->out);
  if (mv_buf_appendf(&q->out, "{\"size\":%" PRIu64 ",\"accepted\":%zu}",
                     cp->size, accepted) != MV_OK) {
    api_fail_err(q, MV_ENOMEM, NULL, "cosignature");
    goto out;
  }
  answer_buf(q, 200, JSON);
  MV_LOG_INFO("api", "ledger: %zu witness cosignature(s) for size %" PRIu64,
              accepted, cp->size);
out:
  free(cp);
  free(note);
  free(ours);
  api_finish(q);
}

/* ---- Routes ------------------------------------------------------------------ */

static void h_checkpoint(void *ctx, struct mv_http_exchange *x) {
  api_dispatch(ctx, x, "ledger", job_checkpoint);
}
static void h_entries(void *ctx, struct mv_http_exchange *x) {
  api_dispatch(ctx, x, "ledger", job_entries);
}
static void h_inclusion(void *ctx, struct mv_http_exchange *x) {
  api_dispatch(ctx, x, "ledger", job_inclusion);
}
static void h_consistency(void *ctx, struct mv_http_exchange *x) {
  api_dispatch(ctx, x, "ledger", job_consistency);
}
static void h_key(void *ctx, struct mv_http_exchange *x) {
  api_dispatch(ctx, x, "ledger", job_key);
}
static void h_cosignature(void *ctx, struct mv_http_exchange *x) {
  api_dispatch(ctx, x, "ledger", job_cosignature);
}

int api_ledger_routes(struct mv_api *api, struct mv_diag *diag) {
  static const struct {
    const char *method, *path;
    mv_http_handler_fn fn;
  } routes[] = {
      {"GET", "/ledger/checkpoint", h_checkpoint},
      {"GET", "/ledger/entries", h_entries},
      {"GET", "/ledger/proof/inclusion", h_inclusion},
      {"GET", "/ledger/proof/consistency", h_consistency},
      {"GET", "/ledger/key", h_key},
      {"POST", "/ledger/cosignature", h_cosignature},
  };
  if (!(api->ledger = calloc(1, sizeof(*api->ledger))))
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  for (size_t i = 0; i < MV_ARRAY_LEN(routes); i++) {
    int rc = mv_server_route(api->srv, routes[i].method, routes[i].path,
                             routes[i].fn, api);
    if (rc != MV_OK)
      return mv_diag_set(diag, rc, "cannot register the ledger routes");
  }
  return MV_OK;
}

void api_ledger_free(struct mv_api *api) {
  if (!api)
    return;
  free(api->ledger);
  api->ledger = NULL;
}

int mv_api_ledger_configure(struct mv_api *api, const char *witnesses,
                            unsigned quorum, struct mv_diag *diag) {
  struct api_ledger *l = api ? api->ledger : NULL;
  if (!l)
    return mv_diag_set(diag, MV_EINVAL, "no api");
  l->n_witnesses = 0;
  const char *p = witnesses ? witnesses : "";
  while (*p) {
    p += strspn(p, ", \t");
    size_t n = strcspn(p, ", \t");
    if (n == 0)
      break;
    if (l->n_witnesses == MV_LIMIT_LEDGER_WITNESSES)
      return mv_diag_set(diag, MV_ECONFIG, "ledger-witness: more than %u keys",
                         MV_LIMIT_LEDGER_WITNESSES);
    struct mv_tlog_verifier *v = &l->witnesses[l->n_witnesses];
    if (mv_tlog_verifier_parse(p, n, v, NULL) != MV_OK)
      return mv_diag_set(diag, MV_ECONFIG,
                         "ledger-witness: key %zu is not a verifier key "
                         "(name+hash+base64)",
                         l->n_witnesses + 1);
    if (v->type != MV_TLOG_KEY_COSIG_V1)
      return mv_diag_set(diag, MV_ECONFIG,
                         "ledger-witness: key %zu is not a cosignature/v1 "
                         "witness key",
                         l->n_witnesses + 1);
    witness_id(v->name, v->key_id, l->ids[l->n_witnesses]);
    l->id_ptrs[l->n_witnesses] = l->ids[l->n_witnesses];
    l->n_witnesses++;
    p += n;
  }
  if (quorum > l->n_witnesses)
    return mv_diag_set(diag, MV_ECONFIG,
                       "ledger-witness-quorum %u exceeds the %zu witness "
                       "keys configured",
                       quorum, l->n_witnesses);
  l->quorum = quorum;
  return MV_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Search: a parsed FHIR search (mv_fhir_search) becomes a store query,
 * confined to the patients the caller may see, and the rows become a
 * searchset Bundle with self/next links and a total. Every patient whose
 * records a search returns gets an AuditEvent.
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "mv_json.h"
#include "mv_log.h"

static enum mv_store_prefix prefix_of(enum mv_fhir_prefix p) {
  switch (p) {
  case MV_FHIR_PREFIX_NE:
    return MV_STORE_NE;
  case MV_FHIR_PREFIX_GT:
    return MV_STORE_GT;
  case MV_FHIR_PREFIX_LT:
    return MV_STORE_LT;
  case MV_FHIR_PREFIX_GE:
    return MV_STORE_GE;
  case MV_FHIR_PREFIX_LE:
    return MV_STORE_LE;
  case MV_FHIR_PREFIX_EQ:
    break;
  }
  return MV_STORE_EQ;
}

static bool has_compartment(const char *type) {
  size_t n = 0;
  const struct mv_fhir_search_param *ps = mv_fhir_search_params(type, &n);
  if (strcmp(type, "Patient") == 0)
    return true;
  for (size_t i = 0; i < n; i++)
    if (ps[i].compartment)
      return true;
  return false;
}

static bool in_list(const char *s, const char *const *l, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(s, l[i]) == 0)
      return true;
  return false;
}

#define ALLOC(p, n)                                                            \
  do {                                                                         \
    if (!((p) = mv_arena_zalloc(a, ((n) ? (n) : 1) * sizeof(*(p)))))           \
      return MV_ENOMEM;                                                        \
  } while (0)

/* Map fs to sq (arena memory). allowed: NULL = any patient. The one
 * compartment parameter (patient=) becomes the patient column condition,
 * intersected with what is allowed. *out_patient (may be NULL) gets the
 * patient the search names when it names exactly one. */
static int to_store_query(struct api_req *q, const struct mv_fhir_search *fs,
                          const char *const *allowed, size_t n_allowed,
                          struct mv_store_query *sq, const char **out_patient,
                          struct mv_fhir_outcome *oo) {
  struct mv_arena *a = q->a;
  struct mv_store_token_cond *tok;
  struct mv_store_string_cond *str;
  struct mv_store_date_cond *dates, *upd;
  const char **pids = NULL, **ids = NULL, **stat = NULL;
  size_t npids = 0, nids = 0, nstat = 0, ntok = 0, nstr = 0, nd = 0, nu = 0;
  size_t words = 0;
  bool have_pids = false;

  memset(sq, 0, sizeof(*sq));
  for (size_t i = 0; i < fs->n_terms; i++)
    for (size_t k = 0; k < fs->terms[i].n_values; k++)
      words += fs->terms[i].values[k].n_words + 1;
  ALLOC(tok, fs->n_terms);
  ALLOC(str, words + fs->n_terms);
  ALLOC(dates, fs->n_terms);
  ALLOC(upd, fs->n_terms);
  *out_patient = NULL;

  for (size_t i = 0; i < fs->n_terms; i++) {
    const struct mv_fhir_search_term *t = &fs->terms[i];
    const struct mv_fhir_search_param *p = t->param;
    switch (p->target) {
    case MV_FHIR_TARGET_TERMS:
      if (p->type == MV_FHIR_PARAM_STRING) {
        /* Values are ORed; the words of one value are ANDed. A single
         * value keeps its AND; several multi-word values keep their first
         * words (the store's string conditions are ORed lists). */
        if (t->n_values == 1) {
          for (size_t w = 0; w < t->values[0].n_words; w++) {
            str[nstr].param = p->name;
            str[nstr].values = &t->values[0].words[w];
            str[nstr].n_values = 1;
            str[nstr].exact = t->exact;
            nstr++;
          }
        } else {
          const char **vs;
          ALLOC(vs, t->n_values);
          for (size_t k = 0; k < t->n_values; k++)
            vs[k] = t->values[k].n_words ? t->values[k].words[0] : "";
          str[nstr].param = p->name;
          str[nstr].values = vs;
          str[nstr].n_values = t->n_values;
          str[nstr].exact = t->exact;
          nstr++;
        }
        break;
      }
      if (p->compartment && !have_pids) {
        ALLOC(pids, t->n_values);
        for (size_t k = 0; k < t->n_values; k++) {
          const char *id = t->values[k].ref_id;
          if (!id)
            continue;
          if (allowed && !in_list(id, allowed, n_allowed))
            continue; /* not theirs to see: matches nothing */
          pids[npids++] = id;
        }
        have_pids = true;
        if (t->n_values == 1 && t->values[0].ref_id)
          *out_patient = t->values[0].ref_id;
        break;
      }
      /* A patient= parameter that is not the compartment (AuditEvent: any
       * Patient agent or entity) still names the patient the search is
       * confined to, for the access decision. */
      if (strcmp(p->name, "patient") == 0 && t->n_values == 1 &&
          t->values[0].ref_id && !*out_patient)
        *out_patient = t->values[0].ref_id;
      {
        struct mv_store_token_value *vs;
        ALLOC(vs, t->n_values);
        for (size_t k = 0; k < t->n_values; k++) {
          if (!t->values[k].code) {
            mv_fhir_outcome_add(oo, MV_FHIR_ERROR, "not-supported", t->key_text,
                                "a token search needs a code (system| alone "
                                "is not supported)");
            return MV_EINVAL;
          }
          vs[k].system = t->values[k].system;
          vs[k].value = t->values[k].code;
        }
        tok[ntok].param = p->name;
        tok[ntok].values = vs;
        tok[ntok].n_values = t->n_values;
        ntok++;
      }
      break;
    case MV_FHIR_TARGET_ID:
      if (ids) {
        mv_fhir_outcome_add(oo, MV_FHIR_ERROR, "not-supported", "_id",
                            "give _id once (comma-separate alternatives)");
        return MV_EINVAL;
      }
      ALLOC(ids, t->n_values);
      for (size_t k = 0; k < t->n_values; k++)
        ids[nids++] = t->values[k].code;
      break;
    case MV_FHIR_TARGET_STATUS:
      if (stat) {
        mv_fhir_outcome_add(oo, MV_FHIR_ERROR, "not-supported", p->name,
                            "give status once (comma-separate alternatives)");
        return MV_EINVAL;
      }
      ALLOC(stat, t->n_values);
      for (size_t k = 0; k < t->n_values; k++)
        stat[nstat++] = t->values[k].code;
      break;
    case MV_FHIR_TARGET_DATE:
    case MV_FHIR_TARGET_LAST_UPDATED:
      if (t->n_values != 1) {
        mv_fhir_outcome_add(oo, MV_FHIR_ERROR, "not-supported", p->name,
                            "comma-separated date values are not supported; "
                            "repeat the parameter to combine conditions");
        return MV_EINVAL;
      }
      {
        struct mv_store_date_cond *c =
            p->target == MV_FHIR_TARGET_DATE ? &dates[nd++] : &upd[nu++];
        c->prefix = prefix_of(t->values[0].prefix);
        c->lo_us = t->values[0].lo_us;
        c->hi_us = t->values[0].hi_us;
      }
      break;
    }
  }
  if (!have_pids && allowed) {
    pids = (const char **)allowed;
    npids = n_allowed;
    have_pids = true;
  }
  sq->type = fs->type;
  if (have_pids) {
    static const char *const none[1] = {""};
    /* non-NULL even when empty: an empty list matches nothing */
    sq->patient_ids = pids ? (const char *const *)pids : none;
    sq->n_patient_ids = npids;
  }
  sq->ids = ids;
  sq->n_ids = nids;
  sq->tokens = tok;
  sq->n_tokens = ntok;
  sq->strings = str;
  sq->n_strings = nstr;
  sq->statuses = stat;
  sq->n_statuses = nstat;
  sq->dates = dates;
  sq->n_dates = nd;
  sq->updated = upd;
  sq->n_updated = nu;
  switch (fs->sort) {
  case MV_FHIR_SORT_DATE_ASC:
    sq->sort = MV_STORE_SORT_DATE_ASC;
    break;
  case MV_FHIR_SORT_DATE_DESC:
    sq->sort = MV_STORE_SORT_DATE_DESC;
    break;
  case MV_FHIR_SORT_UPDATED_ASC:
    sq->sort = MV_STORE_SORT_UPDATED_ASC;
    break;
  case MV_FHIR_SORT_UPDATED_DESC:
    sq->sort = MV_STORE_SORT_UPDATED_DESC;
    break;
  case MV_FHIR_SORT_NONE:
    sq->sort = MV_STORE_SORT_NONE;
    break;
  }
  sq->limit = fs->count;
  sq->offset = (unsigned)fs->offset;
  sq->want_total = fs->total != MV_FHIR_TOTAL_NONE;
  return MV_OK;
}

#define AUDIT_PATIENTS_MAX 64u

struct page {
  struct api_req *q;
  struct json_object *bundle;
  const char *type;
  int rc;
  bool collect; /* note each result's patient for the audit */
  const char *pids[AUDIT_PATIENTS_MAX];
  size_t n_pids;
};

static void note_patient(struct page *pg, struct json_object *res) {
  struct mv_fhir_index idx;
  if (pg->n_pids >= AUDIT_PATIENTS_MAX ||
      mv_fhir_index_extract(res, pg->q->a, &idx) != MV_OK || !idx.patient_id ||
      !idx.patient_id[0])
    return;
  for (size_t i = 0; i < pg->n_pids; i++)
    if (strcmp(pg->pids[i], idx.patient_id) == 0)
      return;
  const char *dup = mv_arena_strdup(pg->q->a, idx.patient_id);
  if (dup)
    pg->pids[pg->n_pids++] = dup;
}

static int page_visit(void *ctx, const char *id,
                      const struct mv_store_record *rec) {
  struct page *pg = ctx;
  struct json_object *res = NULL;
  /* Results are spliced in as stored text unless each must be looked at
   * (for the audit trail of searches that name no one patient). */
  int rc = pg->collect ? api_load_record(pg->q, pg->type, rec, &res)
                       : api_record_raw(pg->q, rec, &res);
  if (rc != MV_OK) {
    pg->rc = rc;
    return 1;
  }
  if (pg->collect)
    note_patient(pg, res);
  rc = mv_fhir_bundle_add_match(pg->bundle,
                                api_url(pg->q, "/fhir/%s/%s", pg->type, id),
                                res, MV_FHIR_MODE_MATCH);
  if (rc != MV_OK) {
    pg->rc = rc;
    return 1;
  }
  return 0;
}

int api_search_run(struct api_req *q, const char *type, const char *query,
                   struct json_object **out_bundle) {
  struct mv_fhir_search fs;
  struct mv_fhir_outcome oo;
  struct mv_store_query sq;
  const char **allowed = NULL, *named = NULL, *self = NULL, *next = NULL;
  size_t n_allowed = 0;
  bool all = true;
  int64_t total = -1;
  struct page pg = {.q = q, .type = type, .rc = MV_OK};
  bool strict = false;
  const char *pref = mv_http_header(q->x, "prefer");
  int rc;

  if (pref && strstr(pref, "handling=strict"))
    strict = true;
  mv_fhir_outcome_init(&oo);
  rc = mv_fhir_search_parse(type, query, strict, q->a, &fs, &oo);
  if (rc != MV_OK) {
    api_outcome(q, 400, &oo);
    return rc;
  }
  if (has_compartment(type)) {
    if ((rc = api_patient_scope(q, &allowed, &n_allowed, &all)) != MV_OK) {
      if (rc == MV_EPERM) {
        api_fail(q, 403, "forbidden", NULL, "access denied");
        return MV_EPERM;
      }
      api_fail_err(q, rc, NULL, "search");
      return rc;
    }
  }
  rc = to_store_query(q, &fs, all ? NULL : allowed, all ? 0 : n_allowed, &sq,
                      &named, &oo);
  if (rc != MV_OK) {
    api_outcome(q, rc == MV_ENOMEM ? 503 : 400, &oo);
    return rc;
  }
  /* The policy decides every search. The compartment it judges: the patient
   * the search names, else the caller's own (patients, devices). A
   * clinician's search across their care teams names no one; the patient
   * list above confines it, so only the type and the scopes are judged. */
  const char *judged = named ? named
                       : q->who.role == MV_AUTH_ROLE_PATIENT ||
                               q->who.role == MV_AUTH_ROLE_DEVICE
                           ? q->who.fhir_id
                           : "";
  bool care_wide =
      q->who.role == MV_AUTH_ROLE_CLINICIAN && !named && has_compartment(type);
  int allowed_rc =
      care_wide
          ? (mv_auth_scopes_allow(&q->who.scopes, type, MV_AUTH_ACCESS_READ) &&
                     strcmp(type, "AuditEvent") != 0
                 ? MV_OK
                 : MV_EPERM)
          : api_access(q, MV_AUTH_ACT_SEARCH, type, judged);
  if (allowed_rc != MV_OK) {
    api_audit_async(q, "search-type", type, NULL, named, 4);
    api_fail(q, 403, "forbidden", NULL, "access denied");
    return MV_EPERM;
  }
  if ((rc = mv_fhir_search_link(&fs, api_url(q, "/fhir"), fs.offset, q->a,
                                &self)) != MV_OK) {
    api_fail_err(q, rc, NULL, "search");
    return rc;
  }
  /* Fetch one row more than the page to know whether a next page exists
   * even when the total is not counted. */
  unsigned want = sq.limit;
  if (want > 0 && want < MV_STORE_QUERY_LIMIT_MAX)
    sq.limit = want + 1;
  if ((rc = mv_fhir_bundle_page_new("searchset", -1, self, NULL, &pg.bundle)) !=
      MV_OK) {
    api_fail_err(q, rc, NULL, "search");
    return rc;
  }
  /* A search that names no single patient may return several patients'
   * records: each of them gets an audit entry, so every patient can see it
   * in their own trail. */
  pg.collect = !named;
  rc = mv_store_search(q->api->store, &sq, page_visit, &pg, &total);
  if (rc == MV_OK)
    rc = pg.rc;
  if (rc != MV_OK) {
    json_object_put(pg.bundle);
    api_fail_err(q, rc, NULL, "search");
    return rc;
  }
  /* Trim the extra row. */
  struct json_object *entries = NULL;
  size_t got = 0;
  if (json_object_object_get_ex(pg.bundle, "entry", &entries))
    got = json_object_array_length(entries);
  bool more = want > 0 && got > want;
  if (more)
    json_object_array_del_idx(entries, want, got - want);
  if (total >= 0)
    json_object_object_add(pg.bundle, "total", json_object_new_int64(total));
  if (more || (total >= 0 && (int64_t)(fs.offset + want) < total && want > 0)) {
    if (mv_fhir_search_link(&fs, api_url(q, "/fhir"), fs.offset + want, q->a,
                            &next) == MV_OK) {
      struct json_object *links, *l = json_object_new_object();
      json_object_object_add(l, "relation", json_object_new_string("next"));
      json_object_object_add(l, "url", json_object_new_string(next));
      if (json_object_object_get_ex(pg.bundle, "link", &links))
        json_object_array_add(links, l);
      else
        json_object_put(l);
    }
  }
  if (oo.n > 0) {
    struct json_object *ooj = NULL;
    if (mv_fhir_outcome_to_json(&oo, &ooj) == MV_OK &&
        mv_fhir_bundle_add_match(pg.bundle, NULL, ooj, MV_FHIR_MODE_OUTCOME) !=
            MV_OK) {
      /* taken even on failure */
    }
  }
  *out_bundle = pg.bundle;
  if (named || pg.n_pids == 0)
    api_audit_async(q, "search-type", type, NULL, named, 0);
  for (size_t i = 0; i < pg.n_pids; i++)
    api_audit_async(q, "search-type", type, NULL, pg.pids[i], 0);
  return MV_OK;
}

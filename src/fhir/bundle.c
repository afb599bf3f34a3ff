/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planning of batch and transaction Bundles (FHIR R4 §3.1.0.11 "Batch /
 * Transaction"): each entry's request is checked and turned into a method,
 * type, id and version precondition; POST entries get their new ids; and in
 * a transaction every "urn:uuid:" reference to another entry's fullUrl is
 * rewritten to that entry's Type/id, before anything is written, so a
 * transaction is either fully resolvable or rejected whole.
 */
#include <stdio.h>
#include <string.h>

#include "mv_fhir_search.h"
#include "mv_rand.h"

struct planner {
  struct mv_arena *a;
  bool transaction;
  struct mv_fhir_outcome *oo;
  struct mv_fhir_bundle_entry *entries;
  size_t n;
  bool failed; /* a transaction issue was recorded */
};

/* Record a problem of entry i at "Bundle.entry[i]" + sub. In a transaction
 * it goes to the outcome (and fails the plan); in a batch it marks the
 * entry (first problem only). Returns ISSUE, or MV_ENOMEM. */
#define ISSUE 1
static int entry_issue(struct planner *p, size_t i, int err, const char *code,
                       const char *sub, const char *msg) {
  char expr[MV_FHIR_EXPR_MAX];
  snprintf(expr, sizeof(expr), "Bundle.entry[%zu]%s", i, sub);
  if (p->transaction) {
    mv_fhir_outcome_add(p->oo, MV_FHIR_ERROR, code, expr, "%s", msg);
    p->failed = true;
    return ISSUE;
  }
  struct mv_fhir_bundle_entry *e = &p->entries[i];
  if (e->err != MV_OK)
    return ISSUE;
  struct mv_fhir_issue *is = mv_arena_zalloc(p->a, sizeof(*is));
  if (!is)
    return MV_ENOMEM;
  is->severity = MV_FHIR_ERROR;
  is->code = code;
  snprintf(is->diagnostics, sizeof(is->diagnostics), "%s", msg);
  snprintf(is->expression, sizeof(is->expression), "%s", expr);
  e->err = err;
  e->issue = is;
  return ISSUE;
}

static struct json_object *get(struct json_object *o, const char *key) {
  struct json_object *v;
  if (json_object_is_type(o, json_type_object) &&
      json_object_object_get_ex(o, key, &v))
    return v;
  return NULL;
}

static const char *get_str(struct json_object *o, const char *key) {
  struct json_object *v = get(o, key);
  return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                  : NULL;
}

static bool stored_type(const char *t) {
  return mv_fhir_type_supported(t) && strcmp(t, "Bundle") != 0;
}

/* n decimal digits making a positive version; 0 when malformed. */
static int64_t parse_version(const char *s, size_t n) {
  int64_t v = 0;
  if (n == 0 || n > 18 || s[0] == '0')
    return 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* W/"n" (or "n"); 0 when malformed. */
static int64_t parse_etag(const char *s) {
  size_t n;
  if (strncmp(s, "W/", 2) == 0)
    s += 2;
  n = strlen(s);
  if (n < 3 || s[0] != '"' || s[n - 1] != '"')
    return 0;
  return parse_version(s + 1, n - 2);
}

/* request.url: Type, Type/id, Type/id/_history/n, each with ?query. */
static int parse_url(struct planner *p, size_t i, const char *url,
                     struct mv_fhir_bundle_entry *e) {
  const char *q = strchr(url, '?');
  size_t plen = q ? (size_t)(q - url) : strlen(url);
  char path[MV_LIMIT_TYPE_LEN + MV_LIMIT_ID_LEN + 32];
  const char *seg[5] = {0};
  size_t nseg = 0;

  if (url[0] == '/') {
    url++;
    plen--;
  }
  if (strstr(url, "://"))
    return entry_issue(p, i, MV_EUNSUPPORTED, "not-supported", ".request.url",
                       "absolute request URLs are not supported");
  if (plen == 0 || plen >= sizeof(path))
    return entry_issue(p, i, MV_EINVAL, "invalid", ".request.url",
                       "request.url must be Type, Type/id or Type?query");
  memcpy(path, url, plen);
  path[plen] = '\0';
  for (char *s = path; s && nseg < MV_ARRAY_LEN(seg);) {
    char *slash = strchr(s, '/');
    if (slash)
      *slash = '\0';
    seg[nseg++] = s;
    s = slash ? slash + 1 : NULL;
  }
  if (nseg == MV_ARRAY_LEN(seg) || nseg == 3 ||
      (nseg == 4 && strcmp(seg[2], "_history") != 0))
    return entry_issue(p, i, MV_EUNSUPPORTED, "not-supported", ".request.url",
                       "this request.url form is not supported");
  if (!stored_type(seg[0]))
    return entry_issue(p, i, MV_EUNSUPPORTED, "not-supported", ".request.url",
                       "resource type not supported");
  if (nseg >= 2 && !mv_fhir_id_valid(seg[1]))
    return entry_issue(p, i, MV_EINVAL, "invalid", ".request.url",
                       "request.url holds an invalid id");
  if (nseg == 4) {
    int64_t v = parse_version(seg[3], strlen(seg[3]));
    if (v <= 0)
      return entry_issue(p, i, MV_EINVAL, "invalid", ".request.url",
                         "request.url holds an invalid version");
    e->version = v;
  }
  bool get = e->method == MV_FHIR_METHOD_GET;
  bool want_id = e->method != MV_FHIR_METHOD_POST;
  if (q && !get)
    return entry_issue(p, i, MV_EUNSUPPORTED, "not-supported", ".request.url",
                       "conditional create, update and delete are not "
                       "supported");
  if ((nseg == 4 && !get) || (nseg == 1 && want_id && !get) ||
      (nseg == 2 && !want_id) || (q && nseg != 1))
    return entry_issue(p, i, MV_EINVAL, "invalid", ".request.url",
                       "request.url does not fit request.method");
  e->type = mv_arena_strdup(p->a, seg[0]);
  if (!e->type)
    return MV_ENOMEM;
  if (nseg >= 2 && !(e->id = mv_arena_strdup(p->a, seg[1])))
    return MV_ENOMEM;
  if (get && nseg == 1 && !(e->query = mv_arena_strdup(p->a, q ? q + 1 : "")))
    return MV_ENOMEM;
  return MV_OK;
}

static const struct {
  const char *name;
  enum mv_fhir_method m;
} methods[] = {{"GET", MV_FHIR_METHOD_GET},
               {"POST", MV_FHIR_METHOD_POST},
               {"PUT", MV_FHIR_METHOD_PUT},
               {"DELETE", MV_FHIR_METHOD_DELETE}};

/* MV_OK, ISSUE (a problem recorded with entry_issue), or < 0: out of
 * memory or the generator failed. */
static int plan_entry(struct planner *p, size_t i, struct json_object *entry,
                      mv_fhir_id_gen_fn gen, void *gen_ctx) {
  struct mv_fhir_bundle_entry *e = &p->entries[i];
  struct json_object *req = get(entry, "request");
  const char *m, *url, *etag;
  int rc;

  e->index = i;
  if (!json_object_is_type(entry, json_type_object))
    return entry_issue(p, i, MV_EINVAL, "structure", "",
                       "an entry must be an object");
  e->full_url = get_str(entry, "fullUrl");
  if (!json_object_is_type(req, json_type_object))
    return entry_issue(p, i, MV_EINVAL, "required", ".request",
                       "batch and transaction entries need a request");
  if (!(m = get_str(req, "method")))
    return entry_issue(p, i, MV_EINVAL, "required", ".request.method",
                       "request.method is required");
  for (size_t k = 0; k < MV_ARRAY_LEN(methods); k++)
    if (strcmp(m, methods[k].name) == 0)
      e->method = methods[k].m;
  if (!e->method)
    return entry_issue(p, i, MV_EUNSUPPORTED, "not-supported",
                       ".request.method",
                       "request.method must be GET, POST, PUT or DELETE");
  if (!(url = get_str(req, "url")))
    return entry_issue(p, i, MV_EINVAL, "required", ".request.url",
                       "request.url is required");
  if ((rc = parse_url(p, i, url, e)) != MV_OK)
    return rc;
  if (get(req, "ifNoneExist"))
    return entry_issue(p, i, MV_EUNSUPPORTED, "not-supported",
                       ".request.ifNoneExist",
                       "conditional create is not supported");
  if ((etag = get_str(req, "ifMatch")) != NULL &&
      (e->if_match = parse_etag(etag)) <= 0)
    return entry_issue(p, i, MV_EINVAL, "value", ".request.ifMatch",
                       "ifMatch must be a version ETag (W/\"n\")");

  if (e->method == MV_FHIR_METHOD_POST || e->method == MV_FHIR_METHOD_PUT) {
    struct json_object *res = get(entry, "resource");
    const char *rt = get_str(res, "resourceType");
    if (!json_object_is_type(res, json_type_object))
      return entry_issue(p, i, MV_EINVAL, "required", ".resource",
                         "POST and PUT entries need a resource");
    if (!rt || strcmp(rt, e->type) != 0)
      return entry_issue(p, i, MV_EINVAL, "invalid", ".resource.resourceType",
                         "resourceType differs from request.url");
    if (e->method == MV_FHIR_METHOD_PUT) {
      const char *id = get_str(res, "id");
      if (!id || strcmp(id, e->id) != 0)
        return entry_issue(p, i, MV_EINVAL, "invalid", ".resource.id",
                           "resource.id must equal the id in request.url");
    }
    e->resource = res;
  }
  if (e->method == MV_FHIR_METHOD_POST) {
    char id[MV_LIMIT_ID_LEN + 1] = "";
    if (gen)
      rc = gen(gen_ctx, id);
    else
      rc = mv_uuid4(id);
    if (rc != MV_OK)
      return rc;
    id[MV_LIMIT_ID_LEN] = '\0';
    if (!mv_fhir_id_valid(id))
      return MV_EINTERNAL;
    if (!(e->id = mv_arena_strdup(p->a, id)))
      return MV_ENOMEM;
  }
  return MV_OK;
}

/* Transactions: one write per Type/id. Both: fullUrls unique. */
static int check_duplicates(struct planner *p) {
  for (size_t i = 0; i < p->n; i++) {
    struct mv_fhir_bundle_entry *e = &p->entries[i];
    int rc = MV_OK;
    if (e->err != MV_OK)
      continue;
    for (size_t j = 0; j < i && rc == MV_OK; j++) {
      const struct mv_fhir_bundle_entry *f = &p->entries[j];
      if (e->full_url && f->full_url && strcmp(e->full_url, f->full_url) == 0)
        rc = entry_issue(p, i, MV_EINVAL, "duplicate", ".fullUrl",
                         "fullUrl is used by an earlier entry");
      else if (p->transaction && e->method != MV_FHIR_METHOD_GET &&
               f->method != MV_FHIR_METHOD_GET && e->id && f->id && f->type &&
               strcmp(e->type, f->type) == 0 && strcmp(e->id, f->id) == 0)
        rc = entry_issue(p, i, MV_EINVAL, "duplicate", ".request.url",
                         "the transaction writes this resource twice");
    }
    if (rc < 0)
      return rc;
  }
  return MV_OK;
}

struct resolve {
  struct planner *p;
  size_t i; /* entry being rewritten */
  int rc;
};

static bool is_urn(const char *s) {
  return s &&
         (strncmp(s, "urn:uuid:", 9) == 0 || strncmp(s, "urn:oid:", 8) == 0);
}

static int resolve_ref(void *ctx, struct json_object *holder, const char *ref,
                       const char *expression) {
  struct resolve *r = ctx;
  struct planner *p = r->p;
  char sub[MV_FHIR_EXPR_MAX];
  const char *dot;
  if (!is_urn(ref))
    return 0;
  /* "Observation.subject.reference" -> ".resource.subject.reference" */
  dot = strchr(expression, '.');
  snprintf(sub, sizeof(sub), ".resource%s", dot ? dot : "");
  if (!p->transaction) {
    r->rc = entry_issue(p, r->i, MV_EINVAL, "invalid", sub,
                        "batch entries cannot refer to each other "
                        "(use a transaction)");
    return 1;
  }
  for (size_t j = 0; j < p->n; j++) {
    const struct mv_fhir_bundle_entry *t = &p->entries[j];
    if (t->full_url && strcmp(t->full_url, ref) == 0 && t->resource && t->id) {
      char *to = mv_arena_printf(p->a, "%s/%s", t->type, t->id);
      struct json_object *s = to ? json_object_new_string(to) : NULL;
      if (!s) {
        r->rc = MV_ENOMEM;
        return 1;
      }
      json_object_object_add(holder, "reference", s);
      return 0;
    }
  }
  r->rc = entry_issue(p, r->i, MV_EINVAL, "not-found", sub,
                      "urn:uuid reference to no entry of this transaction");
  return r->rc < 0 ? 1 : 0;
}

static int resolve_all(struct planner *p) {
  for (size_t i = 0; i < p->n; i++) {
    struct resolve r = {.p = p, .i = i};
    if (!p->entries[i].resource || p->entries[i].err != MV_OK)
      continue;
    /* The walk stops early (non-zero) only when r.rc says why. */
    if (mv_fhir_references_each(p->entries[i].resource, resolve_ref, &r) !=
            MV_OK &&
        r.rc < 0)
      return r.rc;
  }
  return MV_OK;
}

/* FHIR R4 §3.1.0.11.2: deletes, then creates, then updates, then reads. */
static void order_entries(struct planner *p, size_t *order) {
  static const enum mv_fhir_method seq[] = {
      MV_FHIR_METHOD_DELETE, MV_FHIR_METHOD_POST, MV_FHIR_METHOD_PUT,
      MV_FHIR_METHOD_GET};
  size_t k = 0;
  if (!p->transaction) {
    for (size_t i = 0; i < p->n; i++)
      order[i] = i;
    return;
  }
  for (size_t s = 0; s < MV_ARRAY_LEN(seq); s++)
    for (size_t i = 0; i < p->n; i++)
      if (p->entries[i].method == seq[s])
        order[k++] = i;
}

int mv_fhir_bundle_plan(struct json_object *bundle, mv_fhir_id_gen_fn gen,
                        void *gen_ctx, struct mv_arena *arena,
                        struct mv_fhir_bundle_plan *out,
                        struct mv_fhir_outcome *oo) {
  struct planner p = {.a = arena, .oo = oo};
  const char *rt = get_str(bundle, "resourceType");
  const char *type = get_str(bundle, "type");
  struct json_object *entries = get(bundle, "entry");
  size_t *order;
  int rc;

  if (!rt || strcmp(rt, "Bundle") != 0) {
    mv_fhir_outcome_add(oo, MV_FHIR_ERROR, "invalid", "Bundle.resourceType",
                        "a Bundle is expected");
    return MV_EINVAL;
  }
  if (!type || (strcmp(type, "batch") != 0 && strcmp(type, "transaction"))) {
    mv_fhir_outcome_add(oo, MV_FHIR_ERROR, "not-supported", "Bundle.type",
                        "only batch and transaction Bundles are processed");
    return MV_EINVAL;
  }
  p.transaction = strcmp(type, "transaction") == 0;
  if (entries && !json_object_is_type(entries, json_type_array)) {
    mv_fhir_outcome_add(oo, MV_FHIR_ERROR, "structure", "Bundle.entry",
                        "Bundle.entry must be an array");
    return MV_EINVAL;
  }
  p.n = entries ? json_object_array_length(entries) : 0;
  if (p.n > MV_FHIR_BUNDLE_ENTRIES_MAX) {
    mv_fhir_outcome_add(oo, MV_FHIR_ERROR, "too-costly", "Bundle.entry",
                        "too many entries (at most %u)",
                        MV_FHIR_BUNDLE_ENTRIES_MAX);
    return MV_ETOOBIG;
  }
  p.entries = mv_arena_zalloc(arena, (p.n ? p.n : 1) * sizeof(*p.entries));
  order = mv_arena_zalloc(arena, (p.n ? p.n : 1) * sizeof(*order));
  if (!p.entries || !order)
    return MV_ENOMEM;

  for (size_t i = 0; i < p.n; i++)
    if ((rc = plan_entry(&p, i, json_object_array_get_idx(entries, i), gen,
                         gen_ctx)) < 0)
      return rc; /* out of memory or the generator failed */
  if ((rc = check_duplicates(&p)) != MV_OK || (rc = resolve_all(&p)) != MV_OK)
    return rc;
  if (p.failed)
    return MV_EINVAL;
  order_entries(&p, order);
  out->transaction = p.transaction;
  out->entries = p.entries;
  out->n = p.n;
  out->order = order;
  return MV_OK;
}

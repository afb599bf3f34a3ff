/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR R4 invariants that the element tables cannot express, each named by
 * its key in the specification (ext-1, qty-3, sqty-1, per-1, pat-1, con-4,
 * con-5, app-2, app-3, sev-1, bdl-1..5, bdl-7, bdl-8), plus the reference
 * syntax rule. They run after the walker checked the object's elements, so
 * they only look at members with the right JSON type and stay silent on
 * the rest (already reported).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir_validate_int.h"

static bool has(struct json_object *o, const char *key) {
  return json_object_object_get_ex(o, key, NULL);
}

/* Whether o has a member for choice element base (base + Type, or its
 * "_" sibling). */
static bool has_choice(struct json_object *o, const char *base) {
  size_t bl = strlen(base);
  json_object_object_foreach(o, key, val) {
    (void)val;
    const char *k = key[0] == '_' ? key + 1 : key;
    if (strncmp(k, base, bl) == 0 && k[bl] >= 'A' && k[bl] <= 'Z')
      return true;
  }
  return false;
}

/* Whether CodeableConcept cc has a coding (system, code). */
static bool concept_has(struct json_object *cc, const char *system,
                        const char *code) {
  struct json_object *arr = mv__fhir_get(cc, "coding", json_type_array);
  size_t n = arr ? json_object_array_length(arr) : 0;
  for (size_t i = 0; i < n; i++) {
    struct json_object *cd = json_object_array_get_idx(arr, i);
    const char *s = mv__fhir_str(cd, "system");
    const char *k = mv__fhir_str(cd, "code");
    if (s && k && strcmp(s, system) == 0 && strcmp(k, code) == 0)
      return true;
  }
  return false;
}

/* ---- datatypes ---------------------------------------------------------- */

void mv__fhir_check_extension(struct mv__fhir_vctx *c, struct json_object *o) {
  if (has(o, "extension") == has_choice(o, "value"))
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", "",
                   "an extension needs exactly one of extensions and "
                   "value[x] (ext-1)");
}

void mv__fhir_check_quantity(struct mv__fhir_vctx *c, struct json_object *o) {
  if ((has(o, "code") || has(o, "_code")) && !has(o, "system"))
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", ".system",
                   "system is required when code is present (qty-3)");
}

void mv__fhir_check_simple_quantity(struct mv__fhir_vctx *c,
                                    struct json_object *o) {
  mv__fhir_check_quantity(c, o);
  if (has(o, "comparator") || has(o, "_comparator"))
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", ".comparator",
                   "comparator is not allowed in a SimpleQuantity (sqty-1)");
}

void mv__fhir_check_period(struct mv__fhir_vctx *c, struct json_object *o) {
  const char *start = mv__fhir_str(o, "start");
  const char *end = mv__fhir_str(o, "end");
  int64_t s_lo = 0, s_hi = 0, e_lo = 0, e_hi = 0;
  enum mv_fhir_date_prec p;
  if (!start || !end ||
      mv_fhir_date_parse(start, MV_FHIR_DATETIME, &s_lo, &s_hi, &p) != MV_OK ||
      mv_fhir_date_parse(end, MV_FHIR_DATETIME, &e_lo, &e_hi, &p) != MV_OK)
    return;
  if (s_lo > e_hi)
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", "",
                   "start must not be after end (per-1)");
}

void mv__fhir_check_reference(struct mv__fhir_vctx *c, struct json_object *o) {
  const char *ref = mv__fhir_str(o, "reference");
  if (ref && *ref && !mv__fhir_reference_valid(ref))
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", ".reference",
                   "reference must be Type/id, an absolute URL, #id or "
                   "urn:uuid:<uuid>");
}

/* One token of SampledData.data: a FHIR decimal, or E (error), U (above
 * upperLimit), L (below lowerLimit). */
static bool sample_token_ok(const char *s, size_t n) {
  size_t i = 0;
  if (n == 1 && (s[0] == 'E' || s[0] == 'U' || s[0] == 'L'))
    return true;
  if (i < n && s[i] == '-')
    i++;
  if (i >= n || s[i] < '0' || s[i] > '9')
    return false;
  if (s[i] == '0')
    i++;
  else
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
  if (i < n && s[i] == '.') {
    size_t d = ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
    if (i == d)
      return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
    if (i == d)
      return false;
  }
  return i == n;
}

void mv__fhir_check_sampled_data(struct mv__fhir_vctx *c,
                                 struct json_object *o) {
  struct json_object *period = NULL, *dims = NULL;
  if (json_object_object_get_ex(o, "period", &period) &&
      (json_object_is_type(period, json_type_int) ||
       json_object_is_type(period, json_type_double)) &&
      !(json_object_get_double(period) > 0))
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", ".period",
                   "period (ms between samples) must be greater than 0");
  const char *data = mv__fhir_str(o, "data");
  if (!data)
    return;
  size_t tokens = 0;
  for (const char *p = data; *p;) {
    if (*p == ' ') {
      p++;
      continue;
    }
    size_t n = strcspn(p, " ");
    if (!sample_token_ok(p, n)) {
      mv__fhir_issue(c, MV_FHIR_ERROR, "value", ".data",
                     "data must be decimals or E, U, L separated by spaces");
      return;
    }
    tokens++;
    p += n;
  }
  if (json_object_object_get_ex(o, "dimensions", &dims) &&
      json_object_is_type(dims, json_type_int)) {
    int64_t d = json_object_get_int64(dims);
    if (d > 0 && tokens % (uint64_t)d != 0)
      mv__fhir_issue(c, MV_FHIR_ERROR, "value", ".data",
                     "number of data points is not a multiple of dimensions");
  }
}

/* ---- resources ---------------------------------------------------------- */

void mv__fhir_check_patient_contact(struct mv__fhir_vctx *c,
                                    struct json_object *o) {
  if (!has(o, "name") && !has(o, "telecom") && !has(o, "address") &&
      !has(o, "organization"))
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", "",
                   "a contact needs a name, telecom, address or organization "
                   "(pat-1)");
}

#define CONDITION_CLINICAL                                                     \
  "http://terminology.hl7.org/CodeSystem/condition-clinical"
#define CONDITION_VER_STATUS                                                   \
  "http://terminology.hl7.org/CodeSystem/condition-ver-status"

void mv__fhir_check_condition(struct mv__fhir_vctx *c, struct json_object *o) {
  struct json_object *clin =
      mv__fhir_get(o, "clinicalStatus", json_type_object);
  struct json_object *ver =
      mv__fhir_get(o, "verificationStatus", json_type_object);
  if (clin && ver &&
      concept_has(ver, CONDITION_VER_STATUS, "entered-in-error")) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", ".clinicalStatus",
                   "clinicalStatus must be absent when verificationStatus is "
                   "entered-in-error (con-5)");
    return;
  }
  if (clin && has_choice(o, "abatement") &&
      !concept_has(clin, CONDITION_CLINICAL, "inactive") &&
      !concept_has(clin, CONDITION_CLINICAL, "resolved") &&
      !concept_has(clin, CONDITION_CLINICAL, "remission"))
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", ".clinicalStatus",
                   "an abated condition must be inactive, resolved or in "
                   "remission (con-4)");
}

void mv__fhir_check_appointment(struct mv__fhir_vctx *c,
                                struct json_object *o) {
  bool start = has(o, "start"), end = has(o, "end");
  const char *status = mv__fhir_str(o, "status");
  if (start != end) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", start ? ".end" : ".start",
                   "start and end must both be present or both absent "
                   "(app-2)");
    return;
  }
  if (!start && status && strcmp(status, "proposed") != 0 &&
      strcmp(status, "cancelled") != 0 && strcmp(status, "waitlist") != 0)
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", ".start",
                   "only proposed, cancelled or waitlist appointments may "
                   "lack start and end (app-3)");
}

void mv__fhir_check_audit_entity(struct mv__fhir_vctx *c,
                                 struct json_object *o) {
  if (has(o, "name") && has(o, "query"))
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", "",
                   "an entity has a name or a query, not both (sev-1)");
}

/* ---- Bundle ------------------------------------------------------------- */

struct full_url {
  const char *url;
  const char *version; /* resource.meta.versionId or "" */
  size_t entry;
};

static int full_url_cmp(const void *a, const void *b) {
  const struct full_url *x = a, *y = b;
  int r = strcmp(x->url, y->url);
  if (r == 0)
    r = strcmp(x->version, y->version);
  if (r == 0)
    r = x->entry < y->entry ? -1 : x->entry > y->entry;
  return r;
}

static bool type_in(const char *type, const char *const *list) {
  for (; type && *list; list++)
    if (strcmp(type, *list) == 0)
      return true;
  return false;
}

/* bdl-7: fullUrl unique (same fullUrl allowed with different versionIds),
 * except in a history Bundle. Sorted, so large Bundles stay O(n log n). */
static void check_full_urls(struct mv__fhir_vctx *c,
                            struct json_object *entries, size_t n) {
  struct full_url *urls = calloc(n, sizeof(*urls));
  size_t m = 0;
  if (!urls)
    return; /* a rule we cannot check without memory; the rest still runs */
  for (size_t i = 0; i < n; i++) {
    struct json_object *e = json_object_array_get_idx(entries, i);
    const char *url = mv__fhir_str(e, "fullUrl");
    struct json_object *res = mv__fhir_get(e, "resource", json_type_object);
    const char *ver =
        mv__fhir_str(mv__fhir_get(res, "meta", json_type_object), "versionId");
    if (url)
      urls[m++] = (struct full_url){url, ver ? ver : "", i};
  }
  qsort(urls, m, sizeof(*urls), full_url_cmp);
  for (size_t i = 1; i < m; i++) {
    if (strcmp(urls[i].url, urls[i - 1].url) == 0 &&
        strcmp(urls[i].version, urls[i - 1].version) == 0) {
      char sfx[64];
      snprintf(sfx, sizeof(sfx), ".entry[%zu].fullUrl", urls[i].entry);
      mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", sfx,
                     "fullUrl must be unique in a Bundle (bdl-7)");
    }
  }
  free(urls);
}

void mv__fhir_check_bundle(struct mv__fhir_vctx *c, struct json_object *o) {
  static const char *const need_request[] = {"transaction", "batch", "history",
                                             NULL};
  static const char *const need_response[] = {
      "transaction-response", "batch-response", "history", NULL};
  static const char *const may_total[] = {"searchset", "history", NULL};
  const char *type = mv__fhir_str(o, "type");
  struct json_object *entries = mv__fhir_get(o, "entry", json_type_array);
  size_t n = entries ? json_object_array_length(entries) : 0;
  if (!type)
    return;
  if (has(o, "total") && !type_in(type, may_total))
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", ".total",
                   "total is only allowed in searchset and history Bundles "
                   "(bdl-1)");
  for (size_t i = 0; i < n; i++) {
    struct json_object *e = json_object_array_get_idx(entries, i);
    char sfx[64];
    if (!json_object_is_type(e, json_type_object))
      continue;
    if (has(e, "search") && strcmp(type, "searchset") != 0) {
      snprintf(sfx, sizeof(sfx), ".entry[%zu].search", i);
      mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", sfx,
                     "entry.search is only allowed in a searchset (bdl-2)");
    }
    if (!has(e, "request") && type_in(type, need_request)) {
      snprintf(sfx, sizeof(sfx), ".entry[%zu].request", i);
      mv__fhir_issue(c, MV_FHIR_ERROR, "required", sfx,
                     "entry.request is required in a transaction, batch or "
                     "history Bundle (bdl-3)");
    }
    if (!has(e, "response") && type_in(type, need_response)) {
      snprintf(sfx, sizeof(sfx), ".entry[%zu].response", i);
      mv__fhir_issue(c, MV_FHIR_ERROR, "required", sfx,
                     "entry.response is required in a response or history "
                     "Bundle (bdl-4)");
    }
    if (!has(e, "resource") && !has(e, "request") && !has(e, "response")) {
      snprintf(sfx, sizeof(sfx), ".entry[%zu]", i);
      mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", sfx,
                     "an entry needs a resource, a request or a response "
                     "(bdl-5)");
    }
    const char *url = mv__fhir_str(e, "fullUrl");
    if (url && strstr(url, "/_history/")) {
      snprintf(sfx, sizeof(sfx), ".entry[%zu].fullUrl", i);
      mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", sfx,
                     "fullUrl must not be a version-specific reference "
                     "(bdl-8)");
    }
  }
  if (n > 1 && strcmp(type, "history") != 0)
    check_full_urls(c, entries, n);
}

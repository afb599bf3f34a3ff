/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Index extraction: what a stored resource can be found by. For each type
 * the elements named by its search parameters (registry.c) become the
 * compartment patient, the status, the main date range and a bounded list
 * of terms (tokens and normalised words). The store keeps words only as
 * keyed hashes, so names never reach the database in clear
 * (DESIGN-issue3.md, "Strings").
 */
#include <stdio.h>
#include <string.h>

#include "mv_fhir_search.h"

#define SYS_GENDER "http://hl7.org/fhir/administrative-gender"
#define SYS_AUDIT_ACTION "http://hl7.org/fhir/audit-event-action"

struct ix {
  struct mv_arena *a;
  struct mv_fhir_index *out;
  size_t cap; /* terms allocated */
};

/* ---- Strings ------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (RFC 3629 §4: no overlongs, no
 * surrogates, nothing past U+10FFFF), 0 when invalid. */
static size_t utf8_len(const unsigned char *s) {
  unsigned char c = s[0];
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return n;
}

int mv_fhir_string_normalize(const char *s, size_t max_words,
                             struct mv_arena *arena, const char ***out_words,
                             size_t *out_n, size_t *out_total) {
  size_t len = strlen(s), n = 0, total = 0;
  char *buf = mv_arena_alloc(arena, len + 1);
  const char **words =
      mv_arena_alloc(arena, (max_words ? max_words : 1) * sizeof(*words));
  size_t o = 0, start = 0;
  if (!buf || !words)
    return MV_ENOMEM;
  for (size_t i = 0; i <= len;) {
    unsigned char c = (unsigned char)s[i];
    size_t k = 0;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      buf[o++] = (char)c;
      i++;
      continue;
    }
    if (c >= 'A' && c <= 'Z') {
      buf[o++] = (char)(c - 'A' + 'a');
      i++;
      continue;
    }
    if (c >= 0x80 && (k = utf8_len((const unsigned char *)s + i)) > 0) {
      memcpy(buf + o, s + i, k);
      o += k;
      i += k;
      continue;
    }
    /* A separator (or the end): close the current word. */
    if (o > start) {
      buf[o++] = '\0';
      if (n < max_words)
        words[n++] = buf + start;
      total++;
      start = o;
    }
    i++;
  }
  *out_words = words;
  *out_n = n;
  if (out_total)
    *out_total = total;
  return MV_OK;
}

/* ---- References ---------------------------------------------------------- */

static bool type_name_ok(const char *s, size_t n) {
  if (n == 0 || n > MV_LIMIT_TYPE_LEN || s[0] < 'A' || s[0] > 'Z')
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
      return false;
  return true;
}

static bool id_ok(const char *s, size_t n) {
  char tmp[MV_LIMIT_ID_LEN + 1];
  if (n == 0 || n > MV_LIMIT_ID_LEN)
    return false;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  return mv_fhir_id_valid(tmp);
}

enum mv_fhir_ref_kind mv_fhir_reference_split(const char *ref,
                                              struct mv_fhir_ref *out) {
  memset(out, 0, sizeof(*out));
  out->kind = MV_FHIR_REF_INVALID;
  if (!ref || !*ref)
    return out->kind;
  if (ref[0] == '#')
    return out->kind = MV_FHIR_REF_CONTAINED;
  if (strncmp(ref, "urn:uuid:", 9) == 0 || strncmp(ref, "urn:oid:", 8) == 0)
    return out->kind = MV_FHIR_REF_URN;
  if (strstr(ref, "://"))
    return out->kind = MV_FHIR_REF_ABSOLUTE;

  const char *slash = strchr(ref, '/');
  if (!slash || !type_name_ok(ref, (size_t)(slash - ref)))
    return out->kind;
  const char *id = slash + 1;
  const char *end = strchr(id, '/');
  size_t id_len = end ? (size_t)(end - id) : strlen(id);
  if (!id_ok(id, id_len))
    return out->kind;
  int64_t version = 0;
  if (end) {
    const char *v = end + 1;
    if (strncmp(v, "_history/", 9) != 0)
      return out->kind;
    v += 9;
    if (!*v || *v == '0' || strlen(v) > 18)
      return out->kind;
    for (; *v; v++) {
      if (*v < '0' || *v > '9')
        return out->kind;
      version = version * 10 + (*v - '0');
    }
  }
  memcpy(out->type, ref, (size_t)(slash - ref));
  memcpy(out->id, id, id_len);
  out->version = version;
  return out->kind = MV_FHIR_REF_RELATIVE;
}

struct walk {
  mv_fhir_ref_fn fn;
  void *ctx;
  char path[MV_FHIR_EXPR_MAX];
};

static int walk(struct walk *w, struct json_object *v, size_t plen);

/* Append sep + key, or "[idx]", to w->path at plen (truncated when full);
 * returns the new length. */
static size_t path_add(struct walk *w, size_t plen, const char *sep,
                       const char *key, size_t idx) {
  int k;
  if (plen >= sizeof(w->path) - 1)
    return plen;
  if (key)
    k = snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s", sep, key);
  else
    k = snprintf(w->path + plen, sizeof(w->path) - plen, "[%zu]", idx);
  if (k < 0)
    return plen;
  size_t nl = plen + (size_t)k;
  return nl < sizeof(w->path) ? nl : sizeof(w->path) - 1;
}

static int walk(struct walk *w, struct json_object *v, size_t plen) {
  int rc;
  if (json_object_is_type(v, json_type_array)) {
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
      size_t nl = path_add(w, plen, NULL, NULL, i);
      if ((rc = walk(w, json_object_array_get_idx(v, i), nl)) != 0)
        return rc;
      w->path[plen] = '\0';
    }
    return 0;
  }
  if (!json_object_is_type(v, json_type_object))
    return 0;
  json_object_object_foreach(v, key, child) {
    size_t nl = path_add(w, plen, ".", key, 0);
    if (strcmp(key, "reference") == 0 &&
        json_object_is_type(child, json_type_string)) {
      rc = w->fn(w->ctx, v, json_object_get_string(child), w->path);
      /* child may have been replaced: do not touch it again. */
    } else {
      rc = walk(w, child, nl);
    }
    w->path[plen] = '\0';
    if (rc != 0)
      return rc;
  }
  return 0;
}

int mv_fhir_references_each(struct json_object *res, mv_fhir_ref_fn fn,
                            void *ctx) {
  struct walk w = {.fn = fn, .ctx = ctx};
  struct json_object *rt;
  const char *root = "Resource";
  if (!json_object_is_type(res, json_type_object))
    return MV_OK;
  if (json_object_object_get_ex(res, "resourceType", &rt) &&
      json_object_is_type(rt, json_type_string))
    root = json_object_get_string(rt);
  size_t plen = path_add(&w, 0, "", root, 0);
  return walk(&w, res, plen);
}

/* ---- Index terms --------------------------------------------------------- */

static struct json_object *get(struct json_object *o, const char *key) {
  struct json_object *v;
  if (o && json_object_object_get_ex(o, key, &v))
    return v;
  return NULL;
}

static const char *get_str(struct json_object *o, const char *key) {
  struct json_object *v = get(o, key);
  return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                  : NULL;
}

/* Array elements, or a single value as a one-element list (for code that
 * reads 0..* and 0..1 elements alike). */
static size_t list_len(struct json_object *v) {
  if (!v)
    return 0;
  return json_object_is_type(v, json_type_array) ? json_object_array_length(v)
                                                 : 1;
}

static struct json_object *list_at(struct json_object *v, size_t i) {
  return json_object_is_type(v, json_type_array)
             ? json_object_array_get_idx(v, i)
             : v;
}

static int add_term(struct ix *x, const char *param, enum mv_fhir_term_kind k,
                    const char *system, const char *value) {
  struct mv_fhir_index *o = x->out;
  if (!value || !*value)
    return MV_OK;
  if (!system)
    system = "";
  if (strlen(value) > MV_FHIR_INDEX_VALUE_MAX ||
      strlen(system) > MV_FHIR_INDEX_VALUE_MAX) {
    o->n_dropped++;
    return MV_OK;
  }
  for (size_t i = 0; i < o->n_terms; i++) {
    const struct mv_fhir_index_term *t = &o->terms[i];
    if (t->kind == k && strcmp(t->param, param) == 0 &&
        strcmp(t->value, value) == 0 && strcmp(t->system, system) == 0)
      return MV_OK;
  }
  if (o->n_terms >= MV_FHIR_INDEX_TERMS_MAX) {
    o->n_dropped++;
    return MV_OK;
  }
  if (o->n_terms == x->cap) {
    size_t cap = x->cap ? x->cap * 2 : 16;
    struct mv_fhir_index_term *t = mv_arena_alloc(x->a, cap * sizeof(*t));
    if (!t)
      return MV_ENOMEM;
    if (o->n_terms)
      memcpy(t, o->terms, o->n_terms * sizeof(*t));
    o->terms = t;
    x->cap = cap;
  }
  o->terms[o->n_terms++] = (struct mv_fhir_index_term){
      .param = param, .kind = k, .system = system, .value = value};
  return MV_OK;
}

static int add_words(struct ix *x, const char *param, const char *text) {
  const char **w;
  size_t n;
  int rc;
  if (!text)
    return MV_OK;
  if ((rc = mv_fhir_string_normalize(text, MV_FHIR_STRING_WORDS_MAX, x->a, &w,
                                     &n, NULL)) != MV_OK)
    return rc;
  for (size_t i = 0; i < n && rc == MV_OK; i++)
    rc = add_term(x, param, MV_FHIR_TERM_STRING, "", w[i]);
  return rc;
}

/* Every string of a 0..* string element (given, prefix, suffix). */
static int add_words_list(struct ix *x, const char *param,
                          struct json_object *v) {
  int rc = MV_OK;
  for (size_t i = 0; i < list_len(v) && rc == MV_OK; i++) {
    struct json_object *e = list_at(v, i);
    if (json_object_is_type(e, json_type_string))
      rc = add_words(x, param, json_object_get_string(e));
  }
  return rc;
}

/* HumanName (0..*): name from every part, family and given separately. */
static int add_names(struct ix *x, struct json_object *names) {
  int rc = MV_OK;
  for (size_t i = 0; i < list_len(names) && rc == MV_OK; i++) {
    struct json_object *n = list_at(names, i);
    if ((rc = add_words(x, "family", get_str(n, "family"))) != MV_OK ||
        (rc = add_words_list(x, "given", get(n, "given"))) != MV_OK ||
        (rc = add_words(x, "name", get_str(n, "family"))) != MV_OK ||
        (rc = add_words_list(x, "name", get(n, "given"))) != MV_OK ||
        (rc = add_words(x, "name", get_str(n, "text"))) != MV_OK ||
        (rc = add_words_list(x, "name", get(n, "prefix"))) != MV_OK)
      return rc;
    rc = add_words_list(x, "name", get(n, "suffix"));
  }
  return rc;
}

static int add_identifiers(struct ix *x, struct json_object *ids) {
  int rc = MV_OK;
  for (size_t i = 0; i < list_len(ids) && rc == MV_OK; i++) {
    struct json_object *id = list_at(ids, i);
    rc = add_term(x, "identifier", MV_FHIR_TERM_TOKEN, get_str(id, "system"),
                  get_str(id, "value"));
  }
  return rc;
}

/* Every coding of a CodeableConcept or of a list of them. */
static int add_codeable(struct ix *x, const char *param,
                        struct json_object *ccs) {
  int rc = MV_OK;
  for (size_t i = 0; i < list_len(ccs); i++) {
    struct json_object *codings = get(list_at(ccs, i), "coding");
    for (size_t j = 0; j < list_len(codings) && rc == MV_OK; j++) {
      struct json_object *c = list_at(codings, j);
      rc = add_term(x, param, MV_FHIR_TERM_TOKEN, get_str(c, "system"),
                    get_str(c, "code"));
    }
  }
  return rc;
}

/* References (a Reference or list of them) as tokens of param; those to a
 * Patient also as `patient` terms when with_patient, and the first
 * Patient's id as compartment when *compartment is still "". */
static int add_refs(struct ix *x, const char *param, struct json_object *refs,
                    bool with_patient, bool compartment) {
  int rc = MV_OK;
  for (size_t i = 0; i < list_len(refs) && rc == MV_OK; i++) {
    struct mv_fhir_ref r;
    /* Relative references only: absolute ones point to other servers. */
    if (mv_fhir_reference_split(get_str(list_at(refs, i), "reference"), &r) !=
        MV_FHIR_REF_RELATIVE)
      continue;
    const char *t = mv_arena_printf(x->a, "%s/%s", r.type, r.id);
    if (!t)
      return MV_ENOMEM;
    if (param && (rc = add_term(x, param, MV_FHIR_TERM_TOKEN, "", t)) != MV_OK)
      return rc;
    if (strcmp(r.type, "Patient") != 0)
      continue;
    if (with_patient &&
        (rc = add_term(x, "patient", MV_FHIR_TERM_TOKEN, "", t)) != MV_OK)
      return rc;
    if (compartment && !x->out->patient_id[0])
      x->out->patient_id = t + strlen("Patient/");
  }
  return rc;
}

/* ---- Dates --------------------------------------------------------------- */

static bool date_of(const char *s, int64_t *lo, int64_t *hi) {
  return s && mv_fhir_date_parse(s, MV_FHIR_DATETIME, lo, hi, NULL) == MV_OK;
}

static void set_date(struct ix *x, const char *s) {
  int64_t lo, hi;
  if (date_of(s, &lo, &hi)) {
    x->out->date_lo_us = lo;
    x->out->date_hi_us = hi;
  }
}

/* A Period: an absent end is open (ongoing), an absent start too. */
static void set_period(struct ix *x, struct json_object *period) {
  int64_t slo, shi, elo, ehi;
  bool s = date_of(get_str(period, "start"), &slo, &shi);
  bool e = date_of(get_str(period, "end"), &elo, &ehi);
  if (!s && !e)
    return;
  x->out->date_lo_us = s ? slo : INT64_MIN + 1;
  x->out->date_hi_us = e ? ehi : INT64_MAX;
}

/* effective[x]: dateTime, instant or Period (Timing is not indexed). */
static void set_effective(struct ix *x, struct json_object *res) {
  const char *s = get_str(res, "effectiveDateTime");
  if (!s)
    s = get_str(res, "effectiveInstant");
  if (s)
    set_date(x, s);
  else
    set_period(x, get(res, "effectivePeriod"));
}

/* ---- Per type ------------------------------------------------------------ */

static int index_patient(struct ix *x, struct json_object *res) {
  int rc;
  x->out->patient_id = x->out->id;
  set_date(x, get_str(res, "birthDate"));
  if ((rc = add_names(x, get(res, "name"))) != MV_OK ||
      (rc = add_identifiers(x, get(res, "identifier"))) != MV_OK)
    return rc;
  return add_term(x, "gender", MV_FHIR_TERM_TOKEN, SYS_GENDER,
                  get_str(res, "gender"));
}

static int index_practitioner(struct ix *x, struct json_object *res) {
  int rc = add_names(x, get(res, "name"));
  return rc != MV_OK ? rc : add_identifiers(x, get(res, "identifier"));
}

/* Types whose patient is their subject. */
static int index_subject(struct ix *x, struct json_object *res) {
  return add_refs(x, "subject", get(res, "subject"), true, true);
}

static int index_care_team(struct ix *x, struct json_object *res) {
  int rc = index_subject(x, res);
  struct json_object *parts = get(res, "participant");
  for (size_t i = 0; i < list_len(parts) && rc == MV_OK; i++)
    rc = add_refs(x, "participant", get(list_at(parts, i), "member"), false,
                  false);
  return rc;
}

static int index_device(struct ix *x, struct json_object *res) {
  return add_refs(x, NULL, get(res, "patient"), true, true);
}

static int index_observation(struct ix *x, struct json_object *res) {
  int rc = index_subject(x, res);
  set_effective(x, res);
  if (rc == MV_OK)
    rc = add_codeable(x, "code", get(res, "code"));
  return rc != MV_OK ? rc : add_codeable(x, "category", get(res, "category"));
}

static int index_encounter(struct ix *x, struct json_object *res) {
  set_period(x, get(res, "period"));
  return index_subject(x, res);
}

static int index_condition(struct ix *x, struct json_object *res) {
  const char *d = get_str(res, "recordedDate");
  set_date(x, d ? d : get_str(res, "onsetDateTime"));
  /* status: the first clinicalStatus code. */
  struct json_object *codings = get(get(res, "clinicalStatus"), "coding");
  for (size_t i = 0; i < list_len(codings) && !x->out->status; i++)
    x->out->status = get_str(list_at(codings, i), "code");
  int rc = index_subject(x, res);
  return rc != MV_OK ? rc : add_codeable(x, "code", get(res, "code"));
}

static int index_flag(struct ix *x, struct json_object *res) {
  set_period(x, get(res, "period"));
  return index_subject(x, res);
}

static int index_communication(struct ix *x, struct json_object *res) {
  set_date(x, get_str(res, "sent"));
  return index_subject(x, res);
}

static int index_appointment(struct ix *x, struct json_object *res) {
  int64_t slo, shi, elo, ehi;
  bool s = date_of(get_str(res, "start"), &slo, &shi);
  bool e = date_of(get_str(res, "end"), &elo, &ehi);
  if (s || e) {
    x->out->date_lo_us = s ? slo : elo;
    x->out->date_hi_us = e ? ehi : shi;
  }
  int rc = MV_OK;
  struct json_object *parts = get(res, "participant");
  for (size_t i = 0; i < list_len(parts) && rc == MV_OK; i++)
    rc = add_refs(x, "actor", get(list_at(parts, i), "actor"), true, true);
  return rc;
}

static int index_consent(struct ix *x, struct json_object *res) {
  set_date(x, get_str(res, "dateTime"));
  int rc = add_refs(x, NULL, get(res, "patient"), true, true);
  struct json_object *actors = get(get(res, "provision"), "actor");
  for (size_t i = 0; i < list_len(actors) && rc == MV_OK; i++)
    rc = add_refs(x, "actor", get(list_at(actors, i), "reference"), false,
                  false);
  return rc;
}

static int index_audit_event(struct ix *x, struct json_object *res) {
  int rc = MV_OK;
  set_date(x, get_str(res, "recorded"));
  /* The compartment is the first Patient entity (DESIGN-issue3.md), so
   * entities go first. */
  struct json_object *ents = get(res, "entity");
  for (size_t i = 0; i < list_len(ents) && rc == MV_OK; i++)
    rc = add_refs(x, "entity", get(list_at(ents, i), "what"), true, true);
  struct json_object *agents = get(res, "agent");
  for (size_t i = 0; i < list_len(agents) && rc == MV_OK; i++)
    rc = add_refs(x, "agent", get(list_at(agents, i), "who"), true, false);
  return rc != MV_OK ? rc
                     : add_term(x, "action", MV_FHIR_TERM_TOKEN,
                                SYS_AUDIT_ACTION, get_str(res, "action"));
}

static const struct {
  const char *type;
  int (*fn)(struct ix *x, struct json_object *res);
  bool has_status; /* a `status` code element */
} extractors[] = {
    {"Patient", index_patient, false},
    {"Practitioner", index_practitioner, false},
    {"CareTeam", index_care_team, true},
    {"Device", index_device, true},
    {"Observation", index_observation, true},
    {"Encounter", index_encounter, true},
    {"Condition", index_condition, false},
    {"DiagnosticReport", index_observation, true}, /* same elements */
    {"Flag", index_flag, true},
    {"Communication", index_communication, true},
    {"Appointment", index_appointment, true},
    {"Consent", index_consent, true},
    {"AuditEvent", index_audit_event, false},
};

int mv_fhir_index_extract(struct json_object *res, struct mv_arena *arena,
                          struct mv_fhir_index *out) {
  const char *type = get_str(res, "resourceType");
  struct mv_fhir_index ix = {.type = type,
                             .patient_id = "",
                             .date_lo_us = MV_FHIR_NO_DATE,
                             .date_hi_us = MV_FHIR_NO_DATE};
  struct ix x = {.a = arena, .out = &ix};
  if (!type || !json_object_is_type(res, json_type_object))
    return MV_EINVAL;
  ix.id = get_str(res, "id");
  if (!ix.id)
    ix.id = "";
  for (size_t i = 0; i < MV_ARRAY_LEN(extractors); i++) {
    if (strcmp(extractors[i].type, type) != 0)
      continue;
    if (extractors[i].has_status)
      ix.status = get_str(res, "status");
    int rc = extractors[i].fn(&x, res);
    if (rc != MV_OK)
      return rc;
    *out = ix;
    return MV_OK;
  }
  return MV_EINVAL;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Search in the store (mv_store_search, mv_store_history_type): every kind
 * of condition (patient, _id, token with and without system, blind string
 * prefix, status, date with each FHIR prefix, _lastUpdated), sorting,
 * paging with totals, the patient restriction the API layer relies on, and
 * index rows following updates, deletes and erasure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "mv_store.h"
#include "store_fx.h"
#include "store_int.h"

static int setup(void **state) {
  return fx_setup(state, "mv-search-test");
}

static int teardown(void **state) {
  return fx_teardown(state);
}

/* The store clock: the test sets lastUpdated. */
static atomic_llong now_us;

static int64_t clock_read(const struct mv_clock *c) {
  (void)c;
  return atomic_load(&now_us);
}

/* Monotonic time stays real, so batches close on their own. */
static int64_t mono_read(const struct mv_clock *c) {
  (void)c;
  return mv_clock_mono_us(mv_clock_system());
}

static const struct mv_clock test_clock = {clock_read, mono_read, NULL};

static void open_store(struct fx *f) {
  atomic_store(&now_us, 1800000000000000);
  f->s = fx_open_url(f->url, 0, 1, 0, &test_clock);
}

#define LOINC "http://loinc.org"
#define CAT "http://terminology.hl7.org/CodeSystem/observation-category"
#define DAY (86400ll * 1000000)
#define T0 1700000000000000ll

/* An Observation of patient pid with a code, a point date and a status. */
static void obs(struct mv_store *s, const char *id, const char *pid,
                const char *system, const char *code, int64_t date,
                const char *status) {
  char body[128];
  snprintf(body, sizeof(body), "{\"id\":\"%s\"}", id);
  struct mv_store_term terms[] = {
      {MV_STORE_TERM_TOKEN, "code", system, code},
      {MV_STORE_TERM_TOKEN, "category", CAT, "vital-signs"},
  };
  struct mv_store_write w = {.op = MV_STORE_UPDATE,
                             .type = "Observation",
                             .id = id,
                             .body = body,
                             .body_len = strlen(body),
                             .patient_id = pid,
                             .date_us = date,
                             .status = status,
                             .terms = terms,
                             .n_terms = 2};
  assert_int_equal(mv_store_write_sync(s, &w, NULL), MV_OK);
}

/* The ids a search returns, comma-separated, in order. */
struct hits {
  char ids[2048];
  int n, stop_after;
  int bad_body;
};

static int collect(void *ctx, const char *id,
                   const struct mv_store_record *rec) {
  struct hits *h = ctx;
  size_t len = strlen(h->ids);
  snprintf(h->ids + len, sizeof(h->ids) - len, "%s%s", len ? "," : "", id);
  /* Bodies of these tests name their id (or are deletes). */
  if (!rec->deleted && (!rec->body || !strstr(rec->body, id)))
    h->bad_body++;
  h->n++;
  return h->stop_after && h->n >= h->stop_after;
}

static const char *run(struct mv_store *s, struct mv_store_query *q,
                       struct hits *h, int64_t *total) {
  memset(h, 0, sizeof(*h));
  if (q->limit == 0)
    q->limit = 100;
  int rc = mv_store_search(s, q, collect, h, total);
  if (rc != MV_OK)
    fprintf(stderr, "search failed: %s\n", mv_err_name(rc));
  assert_int_equal(rc, MV_OK);
  assert_int_equal(h->bad_body, 0);
  return h->ids;
}

/* ---- The benchmark's query and its parts --------------------------------
 */

static void search_patient_code_date_newest_first(void **state) {
  struct fx *f = *state;
  open_store(f);
  obs(f->s, "a1", "p1", LOINC, "8867-4", T0 + 1 * DAY, "final");
  obs(f->s, "a2", "p1", LOINC, "8867-4", T0 + 3 * DAY, "final");
  obs(f->s, "a3", "p1", LOINC, "8867-4", T0 + 2 * DAY, "final");
  obs(f->s, "a4", "p1", LOINC, "9279-1", T0 + 4 * DAY, "final");
  obs(f->s, "a5", "p2", LOINC, "8867-4", T0 + 5 * DAY, "final");
  obs(f->s, "a6", "p1", LOINC, "8867-4", T0 - 1 * DAY, "final");

  const char *pids[] = {"p1"};
  struct mv_store_token_value tv = {LOINC, "8867-4"};
  struct mv_store_token_cond tc = {"code", &tv, 1};
  struct mv_store_date_cond ge = {MV_STORE_GE, T0, T0 + DAY - 1};
  struct mv_store_query q = {.type = "Observation",
                             .patient_ids = pids,
                             .n_patient_ids = 1,
                             .tokens = &tc,
                             .n_tokens = 1,
                             .dates = &ge,
                             .n_dates = 1,
                             .sort = MV_STORE_SORT_DATE_DESC,
                             .limit = 50,
                             .want_total = true};
  struct hits h;
  int64_t total = 0;
  assert_string_equal(run(f->s, &q, &h, &total), "a2,a3,a1");
  assert_int_equal(total, 3);
  q.sort = MV_STORE_SORT_DATE_ASC;
  assert_string_equal(run(f->s, &q, &h, &total), "a1,a3,a2");
  /* Without a patient: everyone's. */
  q.patient_ids = NULL;
  q.n_patient_ids = 0;
  q.sort = MV_STORE_SORT_DATE_DESC;
  assert_string_equal(run(f->s, &q, &h, &total), "a5,a2,a3,a1");
  /* Without the total: -1. */
  q.want_total = false;
  run(f->s, &q, &h, &total);
  assert_int_equal(total, -1);
}

static void search_token_system_rules(void **state) {
  struct fx *f = *state;
  open_store(f);
  obs(f->s, "t1", "p1", LOINC, "X1", T0, "final");
  obs(f->s, "t2", "p1", "http://other", "X1", T0, "final");
  obs(f->s, "t3", "p1", NULL, "X1", T0, "final");  /* no system */
  obs(f->s, "t4", "p1", LOINC, "x1", T0, "final"); /* case differs */
  struct mv_store_token_value tv = {NULL, "X1"};
  struct mv_store_token_cond tc = {"code", &tv, 1};
  struct mv_store_query q = {
      .type = "Observation", .tokens = &tc, .n_tokens = 1};
  struct hits h;
  /* code=X1: any system. */
  assert_string_equal(run(f->s, &q, &h, NULL), "t1,t2,t3");
  /* code=http://loinc.org|X1 */
  tv.system = LOINC;
  assert_string_equal(run(f->s, &q, &h, NULL), "t1");
  /* code=|X1: no system. */
  tv.system = "";
  assert_string_equal(run(f->s, &q, &h, NULL), "t3");
  /* OR of values, AND of conditions. */
  struct mv_store_token_value two[] = {{LOINC, "x1"}, {"http://other", "X1"}};
  struct mv_store_token_value cat = {CAT, "vital-signs"};
  struct mv_store_token_cond both[] = {{"code", two, 2}, {"category", &cat, 1}};
  q.tokens = both;
  q.n_tokens = 2;
  assert_string_equal(run(f->s, &q, &h, NULL), "t2,t4");
  cat.value = "laboratory";
  assert_string_equal(run(f->s, &q, &h, NULL), "");
  /* A parameter the resources do not have matches nothing. */
  struct mv_store_token_cond other = {"identifier", &tv, 1};
  q.tokens = &other;
  q.n_tokens = 1;
  assert_string_equal(run(f->s, &q, &h, NULL), "");
}

/* ---- Blind string prefixes -------------------------------------------------
 */

static void patient(struct mv_store *s, const char *id,
                    const char *const *family, size_t nf, const char *given,
                    const char *gender) {
  struct mv_store_term terms[8];
  size_t n = 0;
  char body[128];
  for (size_t i = 0; i < nf; i++) {
    terms[n++] =
        (struct mv_store_term){MV_STORE_TERM_STRING, "family", NULL, family[i]};
    terms[n++] =
        (struct mv_store_term){MV_STORE_TERM_STRING, "name", NULL, family[i]};
  }
  terms[n++] =
      (struct mv_store_term){MV_STORE_TERM_STRING, "given", NULL, given};
  terms[n++] =
      (struct mv_store_term){MV_STORE_TERM_STRING, "name", NULL, given};
  terms[n++] = (struct mv_store_term){
      MV_STORE_TERM_TOKEN, "gender",
      "http://hl7.org/fhir/administrative-gender", gender};
  snprintf(body, sizeof(body), "{\"id\":\"%s\"}", id);
  struct mv_store_write w = {.op = MV_STORE_UPDATE,
                             .type = "Patient",
                             .id = id,
                             .body = body,
                             .body_len = strlen(body),
                             .patient_id = id,
                             .date_us = MV_STORE_NO_DATE,
                             .terms = terms,
                             .n_terms = n};
  assert_int_equal(mv_store_write_sync(s, &w, NULL), MV_OK);
}

static const char *by_string(struct mv_store *s, const char *param,
                             const char *const *values, size_t n,
                             struct hits *h) {
  struct mv_store_string_cond sc = {param, values, n, false};
  struct mv_store_query q = {.type = "Patient", .strings = &sc, .n_strings = 1};
  return run(s, &q, h, NULL);
}

static const char *by_word(struct mv_store *s, const char *param,
                           const char *value, struct hits *h) {
  const char *v[1] = {value};
  struct mv_store_string_cond sc = {param, v, 1, true};
  struct mv_store_query q = {.type = "Patient", .strings = &sc, .n_strings = 1};
  return run(s, &q, h, NULL);
}

#define LONG_WORD "abcdefghijklmnopqrstuvwxyzabcdefghijkl" /* 38 chars */

static void search_string_prefix_through_blind_index(void **state) {
  struct fx *f = *state;
  struct hits h;
  open_store(f);
  const char *smith[] = {"smith"}, *smithson[] = {"smithson"};
  const char *zoe[] = {"zoë"}, *lw[] = {LONG_WORD};
  const char *two[] = {"van", "dijk"};
  patient(f->s, "pt1", smith, 1, "john", "male");
  patient(f->s, "pt2", smithson, 1, "jane", "female");
  patient(f->s, "pt3", zoe, 1, "anna", "female");
  patient(f->s, "pt4", two, 2, "joost", "male");
  patient(f->s, "pt5", lw, 1, "x", "other");

  const char *v[] = {"smi"};
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "pt1,pt2");
  v[0] = "s";
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "pt1,pt2");
  v[0] = "smith";
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "pt1,pt2");
  v[0] = "smiths";
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "pt2");
  v[0] = "smithy";
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "");
  v[0] = "mith"; /* starts-with, not contains */
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "");
  v[0] = "john"; /* a given name is not a family name... */
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "");
  assert_string_equal(by_string(f->s, "name", v, 1, &h), "pt1"); /* ...but a
                                                                    name */
  v[0] = "zo";
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "pt3");
  v[0] = "zoë";
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "pt3");
  v[0] = "zoe"; /* no accent folding in the store */
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "");
  v[0] = "dij"; /* the second word of a family name */
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "pt4");
  /* Longer than the hashed prefix: compared on its first 32 characters. */
  v[0] = LONG_WORD;
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "pt5");
  v[0] = "abcdefghijklmnopqrstuvwxyzabcdefXXXX";
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "pt5");
  /* :exact compares whole words: a prefix no longer matches. */
  assert_string_equal(by_word(f->s, "family", "dij", &h), "");
  assert_string_equal(by_word(f->s, "family", "dijk", &h), "pt4");
  assert_string_equal(by_word(f->s, "family", "zoë", &h), "pt3");
  assert_string_equal(by_word(f->s, "family", "zo", &h), "");
  assert_string_equal(by_word(f->s, "family", LONG_WORD, &h), "pt5");
  assert_string_equal(
      by_word(f->s, "family", "abcdefghijklmnopqrstuvwxyzabcdef", &h),
      ""); /* its first 32 characters are not the word */
  /* OR within a condition. */
  const char *or2[] = {"zo", "jan"};
  assert_string_equal(by_string(f->s, "name", or2, 2, &h), "pt2,pt3");
  /* AND of two conditions (name=van dijk). */
  const char *w1[] = {"van"}, *w2[] = {"dij"};
  struct mv_store_string_cond sc[] = {{"name", w1, 1, false},
                                      {"name", w2, 1, false}};
  struct mv_store_query q = {.type = "Patient", .strings = sc, .n_strings = 2};
  assert_string_equal(run(f->s, &q, &h, NULL), "pt4");
  w2[0] = "smi";
  assert_string_equal(run(f->s, &q, &h, NULL), "");
  /* Combined with a token. */
  struct mv_store_token_value g = {NULL, "female"};
  struct mv_store_token_cond gc = {"gender", &g, 1};
  const char *s1[] = {"s"};
  struct mv_store_string_cond fam = {"family", s1, 1, false};
  struct mv_store_query q2 = {.type = "Patient",
                              .strings = &fam,
                              .n_strings = 1,
                              .tokens = &gc,
                              .n_tokens = 1};
  assert_string_equal(run(f->s, &q2, &h, NULL), "pt2");
  /* A rename replaces the index rows. */
  const char *jones[] = {"jones"};
  patient(f->s, "pt1", jones, 1, "john", "male");
  v[0] = "smi";
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "pt2");
  v[0] = "jon";
  assert_string_equal(by_string(f->s, "family", v, 1, &h), "pt1");
}

/* ---- Dates -------------------------------------------------------------------
 */

/* A resource with the date range [lo, hi] (Encounter.period). */
static void enc(struct mv_store *s, const char *id, int64_t lo, int64_t hi) {
  char body[64];
  snprintf(body, sizeof(body), "{\"id\":\"%s\"}", id);
  struct mv_store_write w = {.op = MV_STORE_UPDATE,
                             .type = "Encounter",
                             .id = id,
                             .body = body,
                             .body_len = strlen(body),
                             .patient_id = "p1",
                             .date_us = lo,
                             .date_hi_us = hi,
                             .status = "finished"};
  assert_int_equal(mv_store_write_sync(s, &w, NULL), MV_OK);
}

static const char *by_date(struct mv_store *s, enum mv_store_prefix p,
                           int64_t lo, int64_t hi, struct hits *h) {
  struct mv_store_date_cond d = {p, lo, hi};
  struct mv_store_query q = {.type = "Encounter", .dates = &d, .n_dates = 1};
  return run(s, &q, h, NULL);
}

static void search_date_prefixes_follow_fhir_ranges(void **state) {
  struct fx *f = *state;
  struct hits h;
  open_store(f);
  /* Days 10..19 of the month as µs ranges; the search value is day 15
   * (the range [D15, D16 - 1]). */
  int64_t D = T0;
  enc(f->s, "e-before", D + 10 * DAY, D + 11 * DAY - 1); /* wholly before */
  enc(f->s, "e-inside", D + 15 * DAY + 3600000000ll,
      D + 15 * DAY + 7200000000ll); /* within day 15 */
  enc(f->s, "e-exact", D + 15 * DAY, D + 16 * DAY - 1);
  enc(f->s, "e-overlap", D + 14 * DAY, D + 15 * DAY + 1); /* straddles */
  enc(f->s, "e-after", D + 18 * DAY, D + 19 * DAY - 1);
  enc(f->s, "e-point", D + 15 * DAY + 5, 0); /* hi 0 = a single instant */
  enc(f->s, "e-nodate", MV_STORE_NO_DATE, MV_STORE_NO_DATE);
  int64_t lo = D + 15 * DAY, hi = D + 16 * DAY - 1;
  assert_string_equal(by_date(f->s, MV_STORE_EQ, lo, hi, &h),
                      "e-exact,e-inside,e-point");
  assert_string_equal(by_date(f->s, MV_STORE_NE, lo, hi, &h),
                      "e-after,e-before,e-overlap");
  assert_string_equal(by_date(f->s, MV_STORE_GT, lo, hi, &h), "e-after");
  assert_string_equal(by_date(f->s, MV_STORE_LT, lo, hi, &h),
                      "e-before,e-overlap");
  assert_string_equal(by_date(f->s, MV_STORE_GE, lo, hi, &h),
                      "e-after,e-exact,e-inside,e-overlap,e-point");
  assert_string_equal(by_date(f->s, MV_STORE_LE, lo, hi, &h),
                      "e-before,e-exact,e-inside,e-overlap,e-point");
  /* Two conditions AND (date=ge..&date=lt..). */
  struct mv_store_date_cond two[] = {{MV_STORE_GE, lo, hi},
                                     {MV_STORE_LT, D + 17 * DAY, D + 18 * DAY}};
  struct mv_store_query q = {.type = "Encounter",
                             .dates = two,
                             .n_dates = 2,
                             .sort = MV_STORE_SORT_DATE_ASC};
  assert_string_equal(run(f->s, &q, &h, NULL),
                      "e-overlap,e-exact,e-point,e-inside");
  q.sort = MV_STORE_SORT_DATE_DESC; /* by the end of each range */
  assert_string_equal(run(f->s, &q, &h, NULL),
                      "e-exact,e-inside,e-point,e-overlap");
  /* A patient restriction takes the other index: same answers. */
  const char *pids[] = {"p1"};
  q.patient_ids = pids;
  q.n_patient_ids = 1;
  assert_string_equal(run(f->s, &q, &h, NULL),
                      "e-exact,e-inside,e-point,e-overlap");
  q.sort = MV_STORE_SORT_DATE_ASC;
  assert_string_equal(run(f->s, &q, &h, NULL),
                      "e-overlap,e-exact,e-point,e-inside");
}

static void search_last_updated_conditions_and_sort(void **state) {
  struct fx *f = *state;
  struct hits h;
  open_store(f);
  int64_t base = atomic_load(&now_us);
  const char *ids[] = {"u1", "u2", "u3", "u4"};
  for (int i = 0; i < 4; i++) {
    atomic_store(&now_us, base + i * DAY);
    obs(f->s, ids[i], "p1", LOINC, "8867-4", T0, "final");
  }
  atomic_store(&now_us, base + 10 * DAY);
  obs(f->s, "u1", "p1", LOINC, "8867-4", T0, "amended"); /* updated last */
  struct mv_store_date_cond c = {MV_STORE_GE, base + DAY, base + 2 * DAY - 1};
  struct mv_store_query q = {.type = "Observation",
                             .updated = &c,
                             .n_updated = 1,
                             .sort = MV_STORE_SORT_UPDATED_ASC};
  assert_string_equal(run(f->s, &q, &h, NULL), "u2,u3,u4,u1");
  q.sort = MV_STORE_SORT_UPDATED_DESC;
  assert_string_equal(run(f->s, &q, &h, NULL), "u1,u4,u3,u2");
  c.prefix = MV_STORE_LT;
  assert_string_equal(run(f->s, &q, &h, NULL), "");
  c = (struct mv_store_date_cond){MV_STORE_LE, base + 2 * DAY,
                                  base + 3 * DAY - 1};
  assert_string_equal(run(f->s, &q, &h, NULL), "u3,u2");
  c = (struct mv_store_date_cond){MV_STORE_EQ, base + 2 * DAY,
                                  base + 3 * DAY - 1};
  assert_string_equal(run(f->s, &q, &h, NULL), "u3");
  /* Status list. */
  const char *st[] = {"amended", "corrected"};
  struct mv_store_query qs = {
      .type = "Observation", .statuses = st, .n_statuses = 2};
  assert_string_equal(run(f->s, &qs, &h, NULL), "u1");
}

/* ---- Paging, totals, restrictions ----------------------------------------------
 */

static void search_pages_until_exhausted_with_total(void **state) {
  struct fx *f = *state;
  struct hits h;
  open_store(f);
  char id[16];
  for (int i = 0; i < 25; i++) {
    snprintf(id, sizeof(id), "pg%02d", i);
    obs(f->s, id, i % 2 ? "p1" : "p2", LOINC, "8867-4", T0 + i * DAY, "final");
  }
  obs(f->s, "other", "p1", LOINC, "9279-1", T0, "final");
  struct mv_store_token_value tv = {LOINC, "8867-4"};
  struct mv_store_token_cond tc = {"code", &tv, 1};
  struct mv_store_query q = {.type = "Observation",
                             .tokens = &tc,
                             .n_tokens = 1,
                             .sort = MV_STORE_SORT_DATE_DESC,
                             .limit = 10,
                             .want_total = true};
  char all[512] = "";
  int64_t total = 0;
  int pages = 0;
  for (unsigned off = 0;; off += 10, pages++) {
    q.offset = off;
    run(f->s, &q, &h, &total);
    assert_int_equal(total, 25);
    if (h.n == 0)
      break;
    assert_int_equal(h.n, off < 20 ? 10 : 5);
    size_t len = strlen(all);
    snprintf(all + len, sizeof(all) - len, "%s%s", len ? "," : "", h.ids);
  }
  assert_int_equal(pages, 3);
  /* Every match once, newest first. */
  char want[512] = "";
  for (int i = 24; i >= 0; i--) {
    size_t len = strlen(want);
    snprintf(want + len, sizeof(want) - len, "%spg%02d", len ? "," : "", i);
  }
  assert_string_equal(all, want);
  /* limit 0: the total alone (FHIR _summary=count). */
  q.offset = 0;
  q.limit = 0;
  memset(&h, 0, sizeof(h));
  assert_int_equal(mv_store_search(f->s, &q, collect, &h, &total), MV_OK);
  assert_int_equal(h.n, 0);
  assert_int_equal(total, 25);
  /* The visitor may stop early. */
  q.limit = 10;
  memset(&h, 0, sizeof(h));
  h.stop_after = 2;
  assert_int_equal(mv_store_search(f->s, &q, collect, &h, &total), MV_OK);
  assert_int_equal(h.n, 2);
}

static void search_patient_restriction_never_widens(void **state) {
  struct fx *f = *state;
  struct hits h;
  int64_t total = -5;
  open_store(f);
  obs(f->s, "r1", "p1", LOINC, "8867-4", T0, "final");
  obs(f->s, "r2", "p2", LOINC, "8867-4", T0 + DAY, "final");
  obs(f->s, "r3", "p3", LOINC, "8867-4", T0 + 2 * DAY, "final");
  obs(f->s, "r4", NULL, LOINC, "8867-4", T0 + 3 * DAY, "final");
  const char *mine[] = {"p1", "p3"};
  struct mv_store_query q = {.type = "Observation",
                             .patient_ids = mine,
                             .n_patient_ids = 2,
                             .want_total = true};
  /* The default order within patients is newest first. */
  assert_string_equal(run(f->s, &q, &h, &total), "r3,r1");
  assert_int_equal(total, 2);
  /* A clinician with no patients sees nothing, not everything. */
  static const char *const none[1] = {NULL};
  q.patient_ids = none;
  q.n_patient_ids = 0;
  assert_string_equal(run(f->s, &q, &h, &total), "");
  assert_int_equal(total, 0);
  /* NULL means no restriction (the default order is by id). */
  q.patient_ids = NULL;
  assert_string_equal(run(f->s, &q, &h, &total), "r1,r2,r3,r4");
  /* _id list, alone and with a restriction. */
  const char *ids[] = {"r2", "r3", "nope"};
  q.ids = ids;
  q.n_ids = 3;
  assert_string_equal(run(f->s, &q, &h, &total), "r2,r3");
  q.patient_ids = mine;
  q.n_patient_ids = 2;
  assert_string_equal(run(f->s, &q, &h, &total), "r3");
}

static void search_skips_deleted_and_erased(void **state) {
  struct fx *f = *state;
  struct hits h;
  open_store(f);
  obs(f->s, "d1", "p1", LOINC, "8867-4", T0, "final");
  obs(f->s, "d2", "p1", LOINC, "8867-4", T0, "final");
  obs(f->s, "d3", "p2", LOINC, "8867-4", T0, "final");
  obs(f->s, "d4", "p1", LOINC, "9279-1", T0, "final");
  struct mv_store_write del = {.op = MV_STORE_DELETE,
                               .type = "Observation",
                               .id = "d1",
                               .date_us = MV_STORE_NO_DATE};
  assert_int_equal(mv_store_write_sync(f->s, &del, NULL), MV_OK);
  /* An update moves d4 to another code: the old index rows are gone. */
  obs(f->s, "d4", "p1", LOINC, "8867-4", T0, "final");
  struct mv_store_token_value tv = {LOINC, "8867-4"};
  struct mv_store_token_cond tc = {"code", &tv, 1};
  struct mv_store_query q = {
      .type = "Observation", .tokens = &tc, .n_tokens = 1};
  assert_string_equal(run(f->s, &q, &h, NULL), "d2,d3,d4");
  tv.value = "9279-1";
  assert_string_equal(run(f->s, &q, &h, NULL), "");
  tv.value = "8867-4";
  int64_t n = 0;
  assert_int_equal(mv_store_erase_patient(f->s, "p1", &n), MV_OK);
  assert_int_equal(n, 3);
  assert_string_equal(run(f->s, &q, &h, NULL), "d3");
  const char *pids[] = {"p1"};
  struct mv_store_query qp = {.type = "Observation",
                              .patient_ids = pids,
                              .n_patient_ids = 1,
                              .want_total = true};
  int64_t total = -1;
  assert_string_equal(run(f->s, &qp, &h, &total), "");
  assert_int_equal(total, 0);
}

/* A visitor that reads the store: no connection is held while it runs. */
struct rereader {
  struct mv_store *s;
  int reads_ok;
};

static int reread(void *ctx, const char *id,
                  const struct mv_store_record *rec) {
  struct rereader *r = ctx;
  struct mv_store_record again;
  (void)rec;
  /* More nested reads than the store has read connections. */
  for (int i = 0; i < 6; i++) {
    if (mv_store_read(r->s, "Observation", id, 0, &again) == MV_OK) {
      r->reads_ok++;
      mv_store_record_release(&again);
    }
  }
  return 0;
}

static void search_visitor_may_use_the_store(void **state) {
  struct fx *f = *state;
  open_store(f);
  obs(f->s, "v1", "p1", LOINC, "8867-4", T0, "final");
  obs(f->s, "v2", "p1", LOINC, "8867-4", T0, "final");
  struct mv_store_query q = {.type = "Observation", .limit = 10};
  struct rereader r = {.s = f->s};
  assert_int_equal(mv_store_search(f->s, &q, reread, &r, NULL), MV_OK);
  assert_int_equal(r.reads_ok, 12);
}

static void search_rejects_bad_queries(void **state) {
  struct fx *f = *state;
  struct hits h;
  open_store(f);
  struct mv_store_query q = {.type = "Observation", .limit = 10};
  assert_int_equal(mv_store_search(f->s, &q, NULL, &h, NULL), MV_EINVAL);
  q.type = "Bad Type";
  assert_int_equal(mv_store_search(f->s, &q, collect, &h, NULL), MV_EINVAL);
  q.type = "Observation";
  q.limit = MV_STORE_QUERY_LIMIT_MAX + 1;
  assert_int_equal(mv_store_search(f->s, &q, collect, &h, NULL), MV_EINVAL);
  q.limit = 10;
  struct mv_store_date_cond d = {MV_STORE_GE, 10, 5}; /* lo > hi */
  q.dates = &d;
  q.n_dates = 1;
  assert_int_equal(mv_store_search(f->s, &q, collect, &h, NULL), MV_EINVAL);
  d = (struct mv_store_date_cond){(enum mv_store_prefix)42, 1, 2};
  assert_int_equal(mv_store_search(f->s, &q, collect, &h, NULL), MV_EINVAL);
  q.n_dates = 0;
  struct mv_store_token_cond tc = {"code", NULL, 0};
  q.tokens = &tc;
  q.n_tokens = 1;
  assert_int_equal(mv_store_search(f->s, &q, collect, &h, NULL), MV_EINVAL);
  struct mv_store_token_value tv = {NULL, ""};
  tc = (struct mv_store_token_cond){"code", &tv, 1};
  assert_int_equal(mv_store_search(f->s, &q, collect, &h, NULL), MV_EINVAL);
  tv.value = "x";
  tc.param = "";
  assert_int_equal(mv_store_search(f->s, &q, collect, &h, NULL), MV_EINVAL);
  q.n_tokens = 0;
  const char *bad_pid[] = {"p 1"};
  q.patient_ids = bad_pid;
  q.n_patient_ids = 1;
  assert_int_equal(mv_store_search(f->s, &q, collect, &h, NULL), MV_EINVAL);
  /* Too many values in all. */
  enum { MANY = MV_STORE_QUERY_VALUES_MAX + 1 };
  const char **many = calloc(MANY, sizeof(*many));
  for (int i = 0; i < MANY; i++)
    many[i] = "p1";
  q.patient_ids = many;
  q.n_patient_ids = MANY;
  assert_int_equal(mv_store_search(f->s, &q, collect, &h, NULL), MV_ETOOBIG);
  /* Values are bound, never SQL. */
  const char *inj[] = {"x') OR 1=1 --"};
  struct mv_store_query qi = {
      .type = "Observation", .statuses = inj, .n_statuses = 1, .limit = 10};
  obs(f->s, "safe", "p1", LOINC, "8867-4", T0, "final");
  assert_string_equal(run(f->s, &qi, &h, NULL), "");
  free(many);
}

/* ---- Every access path against a model -------------------------------------
 */

/* The model of one Observation, as the store should see it. */
struct mobs {
  char id[16];
  const char *pid, *sys, *code, *status;
  int64_t lo, hi, updated;
  bool live;
};

enum { MODEL_N = 240 };
static struct mobs model[MODEL_N];

static const char *const m_pids[] = {"mp0", "mp1", "mp2", "mp3", NULL};
static const char *const m_sys[] = {LOINC, "urn:other", ""};
static const char *const m_codes[] = {"c1", "c2", "c3"};
static const char *const m_status[] = {"final", "amended", "preliminary"};

static uint32_t rnd_state = 12345;
static uint32_t rnd(uint32_t n) {
  rnd_state = rnd_state * 1103515245u + 12345u;
  return (rnd_state >> 8) % n;
}

static void model_load(struct mv_store *s) {
  int64_t base = atomic_load(&now_us);
  for (int i = 0; i < MODEL_N; i++) {
    struct mobs *m = &model[i];
    snprintf(m->id, sizeof(m->id), "m%03d", (i * 7) % MODEL_N);
    m->pid = m_pids[rnd(5)];
    m->sys = m_sys[rnd(3)];
    m->code = m_codes[rnd(3)];
    m->status = m_status[rnd(3)];
    if (rnd(10) == 0) {
      m->lo = m->hi = MV_STORE_NO_DATE;
    } else {
      m->lo = T0 + (int64_t)rnd(40) * DAY + (int64_t)rnd(1000);
      m->hi = m->lo + (rnd(2) ? (int64_t)rnd(3) * DAY : 0);
    }
    m->updated = base + i;
    m->live = true;
    atomic_store(&now_us, m->updated);
    struct mv_store_term t = {MV_STORE_TERM_TOKEN, "code", m->sys, m->code};
    char body[64];
    snprintf(body, sizeof(body), "{\"id\":\"%s\"}", m->id);
    struct mv_store_write w = {.op = MV_STORE_CREATE,
                               .type = "Observation",
                               .id = m->id,
                               .body = body,
                               .body_len = strlen(body),
                               .patient_id = m->pid,
                               .date_us = m->lo,
                               .date_hi_us = m->hi,
                               .status = m->status,
                               .terms = &t,
                               .n_terms = 1};
    assert_int_equal(mv_store_write_sync(s, &w, NULL), MV_OK);
  }
  /* Some deleted, one patient erased. */
  for (int i = 0; i < MODEL_N; i += 9) {
    struct mv_store_write d = {.op = MV_STORE_DELETE,
                               .type = "Observation",
                               .id = model[i].id,
                               .date_us = MV_STORE_NO_DATE};
    assert_int_equal(mv_store_write_sync(s, &d, NULL), MV_OK);
    model[i].live = false;
  }
  int64_t n;
  assert_int_equal(mv_store_erase_patient(s, "mp3", &n), MV_OK);
  for (int i = 0; i < MODEL_N; i++)
    if (model[i].pid && strcmp(model[i].pid, "mp3") == 0)
      model[i].live = false;
}

static bool m_date(const struct mobs *m, const struct mv_store_date_cond *d,
                   bool updated) {
  int64_t rlo = updated ? m->updated : m->lo;
  int64_t rhi = updated ? m->updated : m->hi;
  if (rlo == MV_STORE_NO_DATE)
    return false;
  bool eq = rlo >= d->lo_us && rhi <= d->hi_us;
  switch (d->prefix) {
  case MV_STORE_EQ:
    return eq;
  case MV_STORE_NE:
    return !eq;
  case MV_STORE_GT:
    return rhi > d->hi_us;
  case MV_STORE_LT:
    return rlo < d->lo_us;
  case MV_STORE_GE:
    return rhi >= d->lo_us;
  case MV_STORE_LE:
    return rlo <= d->hi_us;
  }
  return false;
}

static bool m_match(const struct mobs *m, const struct mv_store_query *q) {
  if (!m->live)
    return false;
  if (q->patient_ids) {
    bool ok = false;
    for (size_t i = 0; i < q->n_patient_ids; i++)
      ok |= m->pid && strcmp(m->pid, q->patient_ids[i]) == 0;
    if (!ok)
      return false;
  }
  for (size_t i = 0; i < q->n_tokens; i++) {
    bool ok = false;
    for (size_t k = 0; k < q->tokens[i].n_values; k++) {
      const struct mv_store_token_value *v = &q->tokens[i].values[k];
      ok |= strcmp(m->code, v->value) == 0 &&
            (!v->system || strcmp(m->sys, v->system) == 0);
    }
    if (!ok)
      return false;
  }
  if (q->n_statuses) {
    bool ok = false;
    for (size_t i = 0; i < q->n_statuses; i++)
      ok |= strcmp(m->status, q->statuses[i]) == 0;
    if (!ok)
      return false;
  }
  for (size_t i = 0; i < q->n_dates; i++)
    if (!m_date(m, &q->dates[i], false))
      return false;
  for (size_t i = 0; i < q->n_updated; i++)
    if (!m_date(m, &q->updated[i], true))
      return false;
  return true;
}

/* SQLite order: NULL (no date) is the smallest value. */
static int cmp_i64n(int64_t a, int64_t b) {
  return (a > b) - (a < b); /* MV_STORE_NO_DATE is INT64_MIN: smallest */
}

static enum mv_store_sort m_sort;
static bool m_patients;

static int m_cmp(const void *pa, const void *pb) {
  const struct mobs *a = *(const struct mobs *const *)pa;
  const struct mobs *b = *(const struct mobs *const *)pb;
  int c;
  switch (m_sort) {
  case MV_STORE_SORT_DATE_ASC:
    c = cmp_i64n(a->lo, b->lo);
    return c ? c : strcmp(a->id, b->id);
  case MV_STORE_SORT_UPDATED_ASC:
    c = cmp_i64n(a->updated, b->updated);
    return c ? c : strcmp(a->id, b->id);
  case MV_STORE_SORT_UPDATED_DESC:
    c = cmp_i64n(b->updated, a->updated);
    return c ? c : strcmp(b->id, a->id);
  case MV_STORE_SORT_NONE:
    if (!m_patients)
      return strcmp(a->id, b->id);
    c = cmp_i64n(b->hi, a->hi); /* newest first within patients */
    return c ? c : strcmp(b->id, a->id);
  default:
    c = cmp_i64n(b->hi, a->hi);
    return c ? c : strcmp(b->id, a->id);
  }
}

static void random_query(struct mv_store_query *q, const char **pids,
                         struct mv_store_token_cond *tc,
                         struct mv_store_token_value *tv, const char **statuses,
                         struct mv_store_date_cond *dates,
                         struct mv_store_date_cond *upd) {
  memset(q, 0, sizeof(*q));
  q->type = "Observation";
  switch (rnd(4)) {
  case 0:
    break;
  case 1:
    pids[0] = m_pids[rnd(4)];
    q->patient_ids = pids;
    q->n_patient_ids = 1;
    break;
  case 2:
    pids[0] = m_pids[rnd(4)];
    pids[1] = m_pids[rnd(4)];
    q->patient_ids = pids;
    q->n_patient_ids = 2;
    break;
  default:
    pids[0] = m_pids[rnd(4)];
    q->patient_ids = pids;
    q->n_patient_ids = rnd(5) == 0 ? 0 : 1;
    break;
  }
  if (rnd(3)) {
    size_t nv = 1 + rnd(2);
    for (size_t k = 0; k < nv; k++) {
      tv[k].value = m_codes[rnd(3)];
      uint32_t r = rnd(4);
      tv[k].system = r == 3 ? NULL : m_sys[r];
    }
    *tc = (struct mv_store_token_cond){"code", tv, nv};
    q->tokens = tc;
    q->n_tokens = 1;
  }
  if (rnd(4) == 0) {
    statuses[0] = m_status[rnd(3)];
    statuses[1] = m_status[rnd(3)];
    q->statuses = statuses;
    q->n_statuses = 1 + rnd(2);
  }
  q->n_dates = rnd(3);
  for (size_t i = 0; i < q->n_dates; i++) {
    int64_t lo = T0 + (int64_t)rnd(40) * DAY;
    dates[i] =
        (struct mv_store_date_cond){(enum mv_store_prefix)(1 + rnd(6)), lo,
                                    lo + (1 + (int64_t)rnd(2)) * DAY - 1};
  }
  q->dates = dates;
  if (rnd(6) == 0) {
    int64_t lo = model[rnd(MODEL_N)].updated;
    *upd = (struct mv_store_date_cond){(enum mv_store_prefix)(1 + rnd(6)), lo,
                                       lo + (int64_t)rnd(50)};
    q->updated = upd;
    q->n_updated = 1;
  }
  q->sort = (enum mv_store_sort)rnd(5);
  q->limit = 1 + rnd(30);
  q->offset = rnd(3) ? 0 : rnd(40);
  q->want_total = rnd(2);
}

static void search_every_path_agrees_with_a_model(void **state) {
  struct fx *f = *state;
  struct hits h;
  open_store(f);
  model_load(f->s);
  struct mobs *sorted[MODEL_N];
  for (int iter = 0; iter < 600; iter++) {
    const char *pids[2], *statuses[2];
    struct mv_store_token_cond tc;
    struct mv_store_token_value tv[2];
    struct mv_store_date_cond dates[2], upd;
    struct mv_store_query q;
    random_query(&q, pids, &tc, tv, statuses, dates, &upd);
    size_t n = 0;
    for (int i = 0; i < MODEL_N; i++)
      if (m_match(&model[i], &q))
        sorted[n++] = &model[i];
    m_sort = q.sort;
    m_patients = q.patient_ids != NULL;
    qsort(sorted, n, sizeof(sorted[0]), m_cmp);
    char want[2048] = "";
    for (size_t i = q.offset; i < n && i < q.offset + q.limit; i++) {
      size_t len = strlen(want);
      snprintf(want + len, sizeof(want) - len, "%s%s", len ? "," : "",
               sorted[i]->id);
    }
    int64_t total = -7;
    run(f->s, &q, &h, &total);
    if (strcmp(h.ids, want) != 0 || total != (q.want_total ? (int64_t)n : -1))
      fprintf(stderr,
              "iteration %d (sort %d, patients %zu, tokens %zu, "
              "dates %zu): got [%s] total %lld, want [%s] total %zu\n",
              iter, (int)q.sort, q.n_patient_ids, q.n_tokens, q.n_dates, h.ids,
              (long long)total, want, n);
    assert_string_equal(h.ids, want);
    assert_int_equal(total, q.want_total ? (int64_t)n : -1);
  }
}

/* ---- Type history ---------------------------------------------------------------
 */

static void history_type_newest_first_with_deletes(void **state) {
  struct fx *f = *state;
  struct hits h;
  int64_t total = 0;
  open_store(f);
  int64_t base = atomic_load(&now_us);
  atomic_store(&now_us, base + 1);
  obs(f->s, "h1", "p1", LOINC, "8867-4", T0, "final");
  atomic_store(&now_us, base + 2);
  obs(f->s, "h2", "p2", LOINC, "8867-4", T0, "final");
  atomic_store(&now_us, base + 3);
  obs(f->s, "h1", "p1", LOINC, "8867-4", T0, "amended");
  atomic_store(&now_us, base + 4);
  struct mv_store_write del = {.op = MV_STORE_DELETE,
                               .type = "Observation",
                               .id = "h2",
                               .date_us = MV_STORE_NO_DATE};
  assert_int_equal(mv_store_write_sync(f->s, &del, NULL), MV_OK);
  patient(f->s, "hp", (const char *const[]){"x"}, 1, "y", "male");

  memset(&h, 0, sizeof(h));
  assert_int_equal(mv_store_history_type(f->s, "Observation", INT64_MIN, 10, 0,
                                         collect, &h, &total),
                   MV_OK);
  assert_string_equal(h.ids, "h2,h1,h2,h1");
  assert_int_equal(total, 4);
  assert_int_equal(h.bad_body, 0);
  /* _since, paging. */
  memset(&h, 0, sizeof(h));
  assert_int_equal(mv_store_history_type(f->s, "Observation", base + 2, 2, 1,
                                         collect, &h, &total),
                   MV_OK);
  assert_string_equal(h.ids, "h1,h2");
  assert_int_equal(total, 3);
  /* An erased patient's versions leave the history. */
  int64_t n = 0;
  assert_int_equal(mv_store_erase_patient(f->s, "p1", &n), MV_OK);
  memset(&h, 0, sizeof(h));
  assert_int_equal(mv_store_history_type(f->s, "Observation", INT64_MIN, 10, 0,
                                         collect, &h, &total),
                   MV_OK);
  assert_string_equal(h.ids, "h2,h2");
  assert_int_equal(total, 2);
  assert_int_equal(mv_store_history_type(f->s, "Observation", 0,
                                         MV_STORE_QUERY_LIMIT_MAX + 1, 0,
                                         collect, &h, NULL),
                   MV_EINVAL);
}

/* ---- `patient` tokens that repeat the `subject` ---------------------------
 */

/* A resource with a code, a reference token ref under ref_param (NULL:
 * none) and a patient token (NULL: none). */
static void put_refs(struct mv_store *s, const char *type, const char *id,
                     const char *pid, const char *ref_param, const char *ref,
                     const char *patient) {
  char body[128];
  snprintf(body, sizeof(body), "{\"id\":\"%s\"}", id);
  struct mv_store_term terms[3];
  size_t n = 0;
  terms[n++] =
      (struct mv_store_term){MV_STORE_TERM_TOKEN, "code", LOINC, "8867-4"};
  if (ref_param)
    terms[n++] =
        (struct mv_store_term){MV_STORE_TERM_TOKEN, ref_param, "", ref};
  if (patient)
    terms[n++] =
        (struct mv_store_term){MV_STORE_TERM_TOKEN, "patient", "", patient};
  struct mv_store_write w = {.op = MV_STORE_UPDATE,
                             .type = type,
                             .id = id,
                             .body = body,
                             .body_len = strlen(body),
                             .patient_id = pid,
                             .date_us = T0,
                             .status = "final",
                             .terms = terms,
                             .n_terms = n};
  assert_int_equal(mv_store_write_sync(s, &w, NULL), MV_OK);
}

static int64_t token_rows(const struct fx *f, const char *param) {
  char p[160], sql[128];
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int64_t v = -1;
  snprintf(p, sizeof(p), "%s/medverse.db", f->dir);
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM tokens WHERE param = '%s'",
           param);
  assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL),
                   SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

static const char *by_token(struct mv_store *s, const char *type,
                            const char *const *pids, size_t n_pids,
                            const char *param,
                            const struct mv_store_token_value *v, size_t nv,
                            struct hits *h) {
  struct mv_store_token_cond tc = {param, v, nv};
  struct mv_store_query q = {.type = type,
                             .patient_ids = pids,
                             .n_patient_ids = n_pids,
                             .tokens = &tc,
                             .n_tokens = 1};
  return run(s, &q, h, NULL);
}

static void search_patient_token_twin_of_subject(void **state) {
  struct fx *f = *state;
  struct hits h;
  open_store(f);
  put_refs(f->s, "Observation", "o1", "p1", "subject", "Patient/p1",
           "Patient/p1");
  put_refs(f->s, "Observation", "o2", NULL, "subject", "Group/g1", NULL);
  put_refs(f->s, "Observation", "o3", "p3", "subject", "Patient/p3",
           "Patient/p3");
  /* a patient token that differs from the subject is stored */
  put_refs(f->s, "Observation", "o4", "p4", "subject", "Patient/p1",
           "Patient/p4");
  /* no twin: the patient token is stored */
  put_refs(f->s, "AuditEvent", "e1", "p1", NULL, NULL, "Patient/p1");
  put_refs(f->s, "AuditEvent", "e2", "p2", NULL, NULL, "Patient/p2");
  /* an entity twin is not */
  put_refs(f->s, "AuditEvent", "e3", "p1", "entity", "Patient/p1",
           "Patient/p1");
  /* a CareTeam participant is no patient term: never a twin */
  put_refs(f->s, "CareTeam", "t1", NULL, "participant", "Patient/p1", NULL);
  put_refs(f->s, "CareTeam", "t2", "p1", "participant", "Patient/p1",
           "Patient/p1");
  assert_int_equal(mv_store_flush(f->s), MV_OK);
  /* o1, o3 and e3 keep only their reference row */
  assert_int_equal(token_rows(f, "patient"), 4);
  assert_int_equal(token_rows(f, "subject"), 4);
  assert_int_equal(token_rows(f, "entity"), 1);

  struct mv_store_token_value p1 = {NULL, "Patient/p1"};
  struct mv_store_token_value p1_nosys = {"", "Patient/p1"};
  struct mv_store_token_value p4 = {NULL, "Patient/p4"};
  struct mv_store_token_value g1 = {NULL, "Group/g1"};
  struct mv_store_token_value two[] = {{NULL, "Patient/p1"},
                                       {NULL, "Patient/p3"}};
  assert_string_equal(
      by_token(f->s, "Observation", NULL, 0, "patient", &p1, 1, &h), "o1,o4");
  assert_string_equal(
      by_token(f->s, "Observation", NULL, 0, "patient", &p1_nosys, 1, &h),
      "o1,o4");
  assert_string_equal(
      by_token(f->s, "Observation", NULL, 0, "patient", &p4, 1, &h), "o4");
  assert_string_equal(
      by_token(f->s, "Observation", NULL, 0, "patient", two, 2, &h),
      "o1,o3,o4");
  /* not a Patient: a subject row never answers a patient condition */
  assert_string_equal(
      by_token(f->s, "Observation", NULL, 0, "patient", &g1, 1, &h), "");
  assert_string_equal(
      by_token(f->s, "Observation", NULL, 0, "subject", &g1, 1, &h), "o2");
  assert_string_equal(
      by_token(f->s, "Observation", NULL, 0, "subject", &p1, 1, &h), "o1,o4");
  /* with a patient restriction (the compartment), as `patient=A&patient=B`
   * arrives from the API */
  const char *only_p1[] = {"p1"}, *only_p3[] = {"p3"};
  assert_string_equal(
      by_token(f->s, "Observation", only_p1, 1, "patient", &p1, 1, &h), "o1");
  assert_string_equal(
      by_token(f->s, "Observation", only_p3, 1, "patient", &p1, 1, &h), "");
  assert_string_equal(
      by_token(f->s, "AuditEvent", NULL, 0, "patient", &p1, 1, &h), "e1,e3");
  assert_string_equal(
      by_token(f->s, "AuditEvent", NULL, 0, "entity", &p1, 1, &h), "e3");
  assert_string_equal(
      by_token(f->s, "CareTeam", NULL, 0, "patient", &p1, 1, &h), "t2");
  /* and the rows go with the resource */
  struct mv_store_write del = {
      .op = MV_STORE_DELETE, .type = "Observation", .id = "o1"};
  assert_int_equal(mv_store_write_sync(f->s, &del, NULL), MV_OK);
  assert_string_equal(
      by_token(f->s, "Observation", NULL, 0, "patient", &p1, 1, &h), "o4");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(search_patient_code_date_newest_first),
      T(search_token_system_rules),
      T(search_string_prefix_through_blind_index),
      T(search_date_prefixes_follow_fhir_ranges),
      T(search_last_updated_conditions_and_sort),
      T(search_pages_until_exhausted_with_total),
      T(search_patient_restriction_never_widens),
      T(search_skips_deleted_and_erased),
      T(search_visitor_may_use_the_store),
      T(search_rejects_bad_queries),
      T(search_every_path_agrees_with_a_model),
      T(history_type_newest_first_with_deletes),
      T(search_patient_token_twin_of_subject),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

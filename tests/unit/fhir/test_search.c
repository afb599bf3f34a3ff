/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the search registry, query parsing and page links
 * (src/fhir/registry.c, search.c, link.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "mv_fhir_search.h"

#define T2020 (INT64_C(1577836800) * 1000000)
#define DAY (INT64_C(86400) * 1000000)

struct fx {
  struct mv_arena *a;
  struct mv_fhir_outcome oo;
  struct mv_fhir_search s;
};

static int setup(void **state) {
  static struct fx f;
  memset(&f, 0, sizeof(f));
  f.a = mv_arena_new(1u << 20);
  mv_fhir_outcome_init(&f.oo);
  *state = &f;
  return f.a ? 0 : -1;
}

static int teardown(void **state) {
  struct fx *f = *state;
  mv_arena_free(f->a);
  return 0;
}

static int parse(struct fx *f, const char *type, const char *q, bool strict) {
  mv_fhir_outcome_init(&f->oo);
  memset(&f->s, 0, sizeof(f->s));
  return mv_fhir_search_parse(type, q, strict, f->a, &f->s, &f->oo);
}

/* No issue may contain a value from the query (they may be patient data). */
static void assert_no_leak(const struct mv_fhir_outcome *oo, const char *v) {
  for (size_t i = 0; i < oo->n; i++) {
    assert_null(strstr(oo->issues[i].diagnostics, v));
    assert_null(strstr(oo->issues[i].expression, v));
  }
}

static void registry_lists_issue_parameters(void **state) {
  (void)state;
  const char *want[][2] = {
      {"Patient", "name"},        {"Patient", "family"},
      {"Patient", "given"},       {"Patient", "identifier"},
      {"Patient", "birthdate"},   {"Patient", "gender"},
      {"Observation", "subject"}, {"Observation", "patient"},
      {"Observation", "code"},    {"Observation", "category"},
      {"Observation", "date"},    {"Observation", "status"},
      {"Encounter", "patient"},   {"Encounter", "status"},
      {"Encounter", "date"},      {"Condition", "patient"},
      {"Condition", "date"},      {"Flag", "patient"},
      {"Flag", "date"},           {"Appointment", "patient"},
      {"Appointment", "status"},  {"Appointment", "date"},
      {"AuditEvent", "patient"},  {"AuditEvent", "date"},
      {"AuditEvent", "action"},   {"CareTeam", "participant"},
      {"CareTeam", "status"},     {"Consent", "actor"},
      {"Device", "patient"},      {"Practitioner", "_id"},
  };
  for (size_t i = 0; i < MV_ARRAY_LEN(want); i++)
    assert_non_null(mv_fhir_search_param_find(want[i][0], want[i][1]));
  size_t nt, n;
  const char *const *types = mv_fhir_types(&nt);
  for (size_t i = 0; i < nt; i++) {
    assert_non_null(mv_fhir_search_params(types[i], &n));
    assert_non_null(mv_fhir_search_param_find(types[i], "_id"));
    assert_non_null(mv_fhir_search_param_find(types[i], "_lastUpdated"));
    /* At most one main date parameter per type. */
    const struct mv_fhir_search_param *p = mv_fhir_search_params(types[i], &n);
    int dates = 0;
    for (size_t j = 0; j < n; j++)
      dates += p[j].target == MV_FHIR_TARGET_DATE;
    assert_true(dates <= 1);
  }
  assert_null(mv_fhir_search_params("Bundle", &n));
  assert_int_equal(n, 0);
  assert_null(mv_fhir_search_param_find("Patient", "nope"));
  const struct mv_fhir_search_param *pp =
      mv_fhir_search_param_find("Observation", "patient");
  assert_string_equal(pp->ref_type, "Patient");
  assert_true(pp->compartment);
  assert_false(
      mv_fhir_search_param_find("Appointment", "patient")->compartment);
}

static void token_forms_parse_system_and_code(void **state) {
  struct fx *f = *state;
  assert_int_equal(
      parse(f, "Observation",
            "code=http%3A%2F%2Floinc.org%7C8867-4,%7C9279-1,59408-5,"
            "http://snomed.info/sct%7C&status=final",
            false),
      MV_OK);
  assert_int_equal(f->oo.n, 0);
  assert_int_equal(f->s.n_terms, 2);
  const struct mv_fhir_search_term *t = &f->s.terms[0];
  assert_string_equal(t->param->name, "code");
  assert_int_equal(t->n_values, 4);
  assert_string_equal(t->values[0].system, "http://loinc.org");
  assert_string_equal(t->values[0].code, "8867-4");
  assert_string_equal(t->values[1].system, "");
  assert_string_equal(t->values[1].code, "9279-1");
  assert_null(t->values[2].system);
  assert_string_equal(t->values[2].code, "59408-5");
  assert_string_equal(t->values[3].system, "http://snomed.info/sct");
  assert_null(t->values[3].code);
  t = &f->s.terms[1];
  assert_int_equal(t->param->target, MV_FHIR_TARGET_STATUS);
  assert_string_equal(t->values[0].code, "final");

  /* Escapes: "\," and "\|" are literal. */
  assert_int_equal(parse(f, "Patient", "identifier=a%5C%7Cb%7Cc%5C,d", false),
                   MV_OK);
  assert_int_equal(f->s.terms[0].n_values, 1);
  assert_string_equal(f->s.terms[0].values[0].system, "a|b");
  assert_string_equal(f->s.terms[0].values[0].code, "c,d");

  assert_int_equal(parse(f, "Observation", "code=%7C", false), MV_EINVAL);
  assert_string_equal(f->oo.issues[0].expression, "code");
  assert_int_equal(parse(f, "Observation", "code=a,,b", false), MV_EINVAL);
  assert_int_equal(parse(f, "Patient", "_id=bad%20id", false), MV_EINVAL);
  assert_string_equal(f->oo.issues[0].expression, "_id");
}

static void reference_forms_resolve_to_type_and_id(void **state) {
  struct fx *f = *state;
  assert_int_equal(
      parse(f, "Observation",
            "patient=123&patient=Patient/456&subject=Patient%2F7,Group/8"
            "&subject:Patient=9&patient=https://x.org/fhir/Patient/10/"
            "_history/2",
            false),
      MV_OK);
  assert_int_equal(f->s.n_terms, 5);
  const struct mv_fhir_search_value *v = &f->s.terms[0].values[0];
  assert_string_equal(v->code, "Patient/123");
  assert_string_equal(v->ref_type, "Patient");
  assert_string_equal(v->ref_id, "123");
  assert_null(v->system);
  assert_string_equal(f->s.terms[1].values[0].code, "Patient/456");
  assert_string_equal(f->s.terms[2].values[0].code, "Patient/7");
  assert_string_equal(f->s.terms[2].values[1].code, "Group/8");
  assert_string_equal(f->s.terms[3].values[0].code, "Patient/9");
  assert_string_equal(f->s.terms[3].key_text, "subject:Patient");
  assert_string_equal(f->s.terms[4].values[0].ref_id, "10");

  /* subject has several target types: a bare id is ambiguous. */
  assert_int_equal(parse(f, "Observation", "subject=123", false), MV_EINVAL);
  assert_string_equal(f->oo.issues[0].expression, "subject");
  assert_int_equal(parse(f, "Observation", "patient=Group/1", false),
                   MV_EINVAL);
  assert_int_equal(parse(f, "Observation", "subject:Device=Patient/1", false),
                   MV_EINVAL);
  assert_int_equal(parse(f, "Observation", "patient=a/b/c", false), MV_EINVAL);
  assert_int_equal(parse(f, "Observation", "patient=Patient/", false),
                   MV_EINVAL);
  assert_int_equal(parse(f, "CareTeam", "participant=Practitioner/p1", false),
                   MV_OK);
}

static void date_prefixes_parse_to_ranges(void **state) {
  struct fx *f = *state;
  assert_int_equal(parse(f, "Observation",
                         "date=ge2020-01-01&date=lt2020-01-02T00:00:00%2B01:00"
                         "&date=2020,eq2020-01,ne2020-01-01,gt2020,le2020",
                         false),
                   MV_OK);
  assert_int_equal(f->s.n_terms, 3);
  const struct mv_fhir_search_value *v = &f->s.terms[0].values[0];
  assert_int_equal(v->prefix, MV_FHIR_PREFIX_GE);
  assert_int_equal(v->lo_us, T2020);
  assert_int_equal(v->hi_us, T2020 + DAY - 1);
  assert_int_equal(v->prec, MV_FHIR_PREC_DAY);
  v = &f->s.terms[1].values[0];
  assert_int_equal(v->prefix, MV_FHIR_PREFIX_LT);
  assert_int_equal(v->lo_us, T2020 + DAY - 3600 * INT64_C(1000000));
  const enum mv_fhir_prefix want[] = {MV_FHIR_PREFIX_EQ, MV_FHIR_PREFIX_EQ,
                                      MV_FHIR_PREFIX_NE, MV_FHIR_PREFIX_GT,
                                      MV_FHIR_PREFIX_LE};
  assert_int_equal(f->s.terms[2].n_values, 5);
  for (size_t i = 0; i < 5; i++)
    assert_int_equal(f->s.terms[2].values[i].prefix, want[i]);

  /* An unencoded '+' arrives as a space: read back as the zone sign. */
  assert_int_equal(
      parse(f, "Observation", "date=ge2020-01-01T10:00+01:00", false), MV_OK);
  assert_int_equal(f->s.terms[0].values[0].lo_us,
                   T2020 + 9 * 3600 * INT64_C(1000000));
  assert_string_equal(f->s.terms[0].value_text, "ge2020-01-01T10:00+01:00");

  assert_int_equal(parse(f, "Patient", "birthdate=1970-02-30", false),
                   MV_EINVAL);
  assert_string_equal(f->oo.issues[0].expression, "birthdate");
  assert_int_equal(f->oo.issues[0].severity, MV_FHIR_ERROR);
  assert_int_equal(parse(f, "Patient", "birthdate=xx2020", false), MV_EINVAL);
  assert_int_equal(parse(f, "Observation", "_lastUpdated=gt2026-01-01", false),
                   MV_OK);
  assert_int_equal(f->s.terms[0].param->target, MV_FHIR_TARGET_LAST_UPDATED);
}

static void unsupported_date_prefix_warns_or_fails(void **state) {
  struct fx *f = *state;
  assert_int_equal(parse(f, "Observation", "date=sa2020&code=x", false), MV_OK);
  assert_int_equal(f->s.n_terms, 1);
  assert_string_equal(f->s.terms[0].param->name, "code");
  assert_int_equal(f->oo.n, 1);
  assert_int_equal(f->oo.issues[0].severity, MV_FHIR_WARNING);
  assert_string_equal(f->oo.issues[0].code, "not-supported");
  assert_string_equal(f->oo.issues[0].expression, "date");
  assert_int_equal(parse(f, "Observation", "date=ap2020", true), MV_EINVAL);
  assert_int_equal(f->oo.issues[0].severity, MV_FHIR_ERROR);
}

static void unknown_param_lenient_warns_strict_fails(void **state) {
  struct fx *f = *state;
  assert_int_equal(parse(f, "Patient",
                         "foo=Zebedee&family=smith&_include=Patient:x"
                         "&name:contains=Zebedee&subject.name=Zebedee",
                         false),
                   MV_OK);
  assert_int_equal(f->s.n_terms, 1);
  assert_int_equal(f->oo.n, 4);
  const char *exprs[] = {"foo", "_include", "name:contains", "subject.name"};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(f->oo.issues[i].severity, MV_FHIR_WARNING);
    assert_string_equal(f->oo.issues[i].code, "not-supported");
    assert_string_equal(f->oo.issues[i].expression, exprs[i]);
  }
  assert_false(mv_fhir_outcome_has_errors(&f->oo));
  assert_no_leak(&f->oo, "Zebedee");

  struct mv_fhir_search keep = {.count = 77};
  f->s = keep;
  mv_fhir_outcome_init(&f->oo);
  assert_int_equal(mv_fhir_search_parse("Patient", "family=x&foo=1", true, f->a,
                                        &f->s, &f->oo),
                   MV_EINVAL);
  assert_int_equal(f->s.count, 77); /* untouched */
  assert_int_equal(f->oo.issues[0].severity, MV_FHIR_ERROR);
  assert_string_equal(f->oo.issues[0].expression, "foo");
  /* Odd characters in a key are not echoed. */
  assert_int_equal(parse(f, "Patient", "J%C3%B6rg%20x=1", false), MV_OK);
  assert_string_equal(f->oo.issues[0].expression, "J??rg?x");
}

static void string_values_are_normalised_words(void **state) {
  struct fx *f = *state;
  assert_int_equal(
      parse(f, "Patient", "name=Smi+J%C3%96rg&given:exact=Ann", false), MV_OK);
  const struct mv_fhir_search_term *t = &f->s.terms[0];
  assert_false(t->exact);
  assert_int_equal(t->values[0].n_words, 2);
  assert_string_equal(t->values[0].words[0], "smi");
  assert_string_equal(t->values[0].words[1], "j\xc3\x96rg");
  assert_true(f->s.terms[1].exact);
  assert_string_equal(f->s.terms[1].key_text, "given:exact");
  assert_int_equal(parse(f, "Patient", "name=%2D%2D", false), MV_EINVAL);
  assert_int_equal(parse(f, "Patient", "name=a+b+c+d+e+f+g+h+i", false),
                   MV_ETOOBIG);
  assert_string_equal(f->oo.issues[0].code, "too-costly");
  /* Modifiers that do not fit the type are unknown. */
  assert_int_equal(parse(f, "Patient", "gender:exact=male", true), MV_EINVAL);
}

static void result_controls_are_parsed(void **state) {
  struct fx *f = *state;
  assert_int_equal(parse(f, "Observation", NULL, false), MV_OK);
  assert_int_equal(f->s.count, MV_FHIR_SEARCH_COUNT_DEFAULT);
  assert_int_equal(f->s.offset, 0);
  assert_int_equal(f->s.sort, MV_FHIR_SORT_NONE);
  assert_string_equal(f->s.type, "Observation");
  assert_int_equal(parse(f, "Observation",
                         "_count=0&_offset=40&_sort=-date&_total=accurate"
                         "&_format=application/fhir%2Bjson&_pretty=true",
                         false),
                   MV_OK);
  assert_int_equal(f->oo.n, 0);
  assert_int_equal(f->s.count, 0);
  assert_int_equal(f->s.offset, 40);
  assert_int_equal(f->s.sort, MV_FHIR_SORT_DATE_DESC);
  assert_int_equal(f->s.total, MV_FHIR_TOTAL_ACCURATE);
  assert_string_equal(f->s.format, "application/fhir+json");
  /* An unencoded '+' in a media type arrives as a space. */
  assert_int_equal(parse(f, "Patient", "_format=application/fhir+json", true),
                   MV_OK);
  assert_string_equal(f->s.format, "application/fhir+json");
  assert_int_equal(parse(f, "Patient", "_sort=birthdate", false), MV_OK);
  assert_int_equal(f->s.sort, MV_FHIR_SORT_DATE_ASC);
  assert_int_equal(parse(f, "Patient", "_sort=-_lastUpdated", false), MV_OK);
  assert_int_equal(f->s.sort, MV_FHIR_SORT_UPDATED_DESC);
  assert_int_equal(parse(f, "Patient", "_summary=count&_count=5", false),
                   MV_OK);
  assert_true(f->s.summary_count);
  assert_int_equal(f->s.count, 0);

  /* Lenient: too big a page is capped with a warning; strict: refused. */
  assert_int_equal(parse(f, "Observation", "_count=5000", false), MV_OK);
  assert_int_equal(f->s.count, MV_FHIR_SEARCH_COUNT_MAX);
  assert_int_equal(f->oo.issues[0].severity, MV_FHIR_WARNING);
  assert_int_equal(parse(f, "Observation", "_count=5000", true), MV_EINVAL);
  assert_int_equal(parse(f, "Observation", "_sort=code", false), MV_OK);
  assert_int_equal(f->s.sort, MV_FHIR_SORT_NONE);
  assert_string_equal(f->oo.issues[0].expression, "_sort");
  assert_int_equal(parse(f, "Observation", "_sort=date,_lastUpdated", true),
                   MV_EINVAL);
  assert_int_equal(parse(f, "Observation", "_summary=true", false), MV_OK);
  assert_int_equal(f->oo.issues[0].severity, MV_FHIR_WARNING);

  /* Bad values name the parameter. */
  const char *bad[][2] = {{"_count=-1", "_count"},
                          {"_count=ten", "_count"},
                          {"_offset=-5", "_offset"},
                          {"_offset=1000000000", "_offset"},
                          {"_count=1&_count=2", "_count"}};
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++) {
    assert_int_equal(parse(f, "Observation", bad[i][0], false), MV_EINVAL);
    assert_string_equal(f->oo.issues[0].expression, bad[i][1]);
  }
  /* A large _count is clamped, not an error, even with many digits. */
  assert_int_equal(
      parse(f, "Observation", "_count=00000000000000000000010", false), MV_OK);
  assert_int_equal(f->s.count, 10);
  assert_int_equal(parse(f, "Observation", "_format=xml", false),
                   MV_EUNSUPPORTED);
  assert_string_equal(f->oo.issues[0].expression, "_format");
}

static void empty_values_and_segments_are_ignored(void **state) {
  struct fx *f = *state;
  assert_int_equal(parse(f, "Patient", "&&name=&_count=&family=x&", false),
                   MV_OK);
  assert_int_equal(f->oo.n, 0);
  assert_int_equal(f->s.n_terms, 1);
  assert_int_equal(f->s.count, MV_FHIR_SEARCH_COUNT_DEFAULT);
  /* A NUL byte in a value is refused, not truncated. */
  assert_int_equal(parse(f, "Patient", "family=a%00b", false), MV_EINVAL);
}

static void caps_on_terms_and_values(void **state) {
  struct fx *f = *state;
  char q[4096];
  size_t o = 0;
  for (int i = 0; i < 33; i++)
    o += (size_t)snprintf(q + o, sizeof(q) - o, "%scode=c%d", i ? "&" : "", i);
  assert_int_equal(parse(f, "Observation", q, false), MV_ETOOBIG);
  assert_string_equal(f->oo.issues[0].code, "too-costly");
  o = (size_t)snprintf(q, sizeof(q), "code=");
  for (int i = 0; i < 33; i++)
    o += (size_t)snprintf(q + o, sizeof(q) - o, "%sc%d", i ? "," : "", i);
  assert_int_equal(parse(f, "Observation", q, false), MV_ETOOBIG);
  /* Exactly at the caps is fine. */
  o = (size_t)snprintf(q, sizeof(q), "code=");
  for (int i = 0; i < 32; i++)
    o += (size_t)snprintf(q + o, sizeof(q) - o, "%sc%d", i ? "," : "", i);
  assert_int_equal(parse(f, "Observation", q, false), MV_OK);
  assert_int_equal(f->s.terms[0].n_values, 32);

  static char big[MV_FHIR_SEARCH_QUERY_MAX + 16];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(parse(f, "Observation", big, false), MV_ETOOBIG);
}

static void many_warnings_keep_room_for_the_error(void **state) {
  struct fx *f = *state;
  char q[2048];
  size_t o = 0;
  for (int i = 0; i < 40; i++)
    o += (size_t)snprintf(q + o, sizeof(q) - o, "u%d=1&", i);
  snprintf(q + o, sizeof(q) - o, "_count=x");
  assert_int_equal(parse(f, "Observation", q, false), MV_EINVAL);
  assert_true(f->oo.truncated);
  assert_true(mv_fhir_outcome_has_errors(&f->oo));
  assert_string_equal(f->oo.issues[f->oo.n - 1].expression, "_count");
}

static void unknown_type_and_full_arena_fail_cleanly(void **state) {
  struct fx *f = *state;
  assert_int_equal(parse(f, "Bundle", "x=1", false), MV_EINVAL);
  assert_int_equal(parse(f, NULL, "x=1", false), MV_EINVAL);
  struct mv_arena *tiny = mv_arena_new(256);
  assert_non_null(tiny);
  mv_fhir_outcome_init(&f->oo);
  assert_int_equal(mv_fhir_search_parse("Observation", "code=a&code=b", false,
                                        tiny, &f->s, &f->oo),
                   MV_ENOMEM);
  mv_arena_free(tiny);
}

static void same_search(const struct mv_fhir_search *a,
                        const struct mv_fhir_search *b) {
  assert_string_equal(a->type, b->type);
  assert_int_equal(a->n_terms, b->n_terms);
  assert_int_equal(a->count, b->count);
  assert_int_equal(a->sort, b->sort);
  assert_int_equal(a->total, b->total);
  assert_int_equal(a->summary_count, b->summary_count);
  for (size_t i = 0; i < a->n_terms; i++) {
    const struct mv_fhir_search_term *x = &a->terms[i], *y = &b->terms[i];
    assert_ptr_equal(x->param, y->param);
    assert_int_equal(x->exact, y->exact);
    assert_int_equal(x->n_values, y->n_values);
    for (size_t j = 0; j < x->n_values; j++) {
      const struct mv_fhir_search_value *u = &x->values[j], *v = &y->values[j];
      if (u->system || v->system)
        assert_string_equal(u->system, v->system);
      if (u->code || v->code)
        assert_string_equal(u->code, v->code);
      assert_int_equal(u->n_words, v->n_words);
      for (size_t k = 0; k < u->n_words; k++)
        assert_string_equal(u->words[k], v->words[k]);
      assert_int_equal(u->prefix, v->prefix);
      assert_int_equal(u->lo_us, v->lo_us);
      assert_int_equal(u->hi_us, v->hi_us);
    }
  }
}

static void paging_links_round_trip(void **state) {
  struct fx *f = *state;
  const char *q = "patient=Patient%2F1&code=http://loinc.org%7C8867-4,x%5C,y"
                  "&date=ge2020-01-01T10:00:00%2B01:00&_count=50&_sort=-date"
                  "&unknown=1&_total=accurate&_format=json";
  assert_int_equal(parse(f, "Observation", q, false), MV_OK);
  struct mv_fhir_search first = f->s;
  const char *self, *next;
  assert_int_equal(mv_fhir_search_link(&first, NULL, 0, f->a, &self), MV_OK);
  assert_string_equal(self,
                      "patient=Patient/1&code=http://loinc.org%7C8867-4,x%5C,y"
                      "&date=ge2020-01-01T10:00:00%2B01:00&_count=50"
                      "&_sort=-date&_total=accurate&_format=json");
  assert_int_equal(mv_fhir_search_link(&first, "https://h/fhir",
                                       first.offset + first.count, f->a, &next),
                   MV_OK);
  const char *qs = strchr(next, '?');
  assert_non_null(qs);
  assert_memory_equal(next, "https://h/fhir/Observation?", 27);
  assert_non_null(strstr(next, "&_offset=50"));
  assert_int_equal(parse(f, "Observation", qs + 1, true), MV_OK);
  assert_int_equal(f->s.offset, 50);
  same_search(&first, &f->s);

  /* Strings, exact, spaces, non-ASCII and summary survive too. */
  assert_int_equal(parse(f, "Patient",
                         "name=J%C3%B6rg+van%26der&family:exact=O%27Brien"
                         "&_summary=count&_sort=birthdate",
                         false),
                   MV_OK);
  first = f->s;
  assert_int_equal(mv_fhir_search_link(&first, NULL, 0, f->a, &self), MV_OK);
  assert_string_equal(self, "name=J%C3%B6rg%20van%26der&family:exact=O%27Brien"
                            "&_summary=count&_sort=birthdate");
  assert_int_equal(parse(f, "Patient", self, true), MV_OK);
  same_search(&first, &f->s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(registry_lists_issue_parameters),
      cmocka_unit_test_setup_teardown(token_forms_parse_system_and_code, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(reference_forms_resolve_to_type_and_id,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(date_prefixes_parse_to_ranges, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(unsupported_date_prefix_warns_or_fails,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(unknown_param_lenient_warns_strict_fails,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(string_values_are_normalised_words, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(result_controls_are_parsed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(empty_values_and_segments_are_ignored,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(caps_on_terms_and_values, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(many_warnings_keep_room_for_the_error,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(unknown_type_and_full_arena_fail_cleanly,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(paging_links_round_trip, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the FHIR search query parser and page links
 * (mv_fhir_search.h). The input is "TYPE\nQUERY" (no newline: the whole
 * input is an Observation query). Checks: lenient and strict parsing never
 * crash and agree (strict succeeds only where lenient does, with no
 * warnings); a successful parse gives terms within the caps; the self link
 * of a lenient parse parses again, strictly, to the same search; every
 * refusal has an error issue and no diagnostics text holds the query; a
 * tiny arena fails cleanly with MV_ENOMEM.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_fhir_search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_values(const struct mv_fhir_search_value *u,
                        const struct mv_fhir_search_value *v) {
  if ((u->system == NULL) != (v->system == NULL) ||
      (u->system && strcmp(u->system, v->system) != 0))
    abort();
  if ((u->code == NULL) != (v->code == NULL) ||
      (u->code && strcmp(u->code, v->code) != 0))
    abort();
  if (u->n_words != v->n_words || u->prefix != v->prefix ||
      u->lo_us != v->lo_us || u->hi_us != v->hi_us)
    abort();
  for (size_t k = 0; k < u->n_words; k++)
    if (strcmp(u->words[k], v->words[k]) != 0)
      abort();
}

static void same_search(const struct mv_fhir_search *a,
                        const struct mv_fhir_search *b) {
  if (strcmp(a->type, b->type) != 0 || a->n_terms != b->n_terms ||
      a->count != b->count || a->offset != b->offset || a->sort != b->sort ||
      a->total != b->total || a->summary_count != b->summary_count)
    abort();
  for (size_t i = 0; i < a->n_terms; i++) {
    const struct mv_fhir_search_term *x = &a->terms[i], *y = &b->terms[i];
    if (x->param != y->param || x->exact != y->exact ||
        x->n_values != y->n_values)
      abort();
    for (size_t j = 0; j < x->n_values; j++)
      same_values(&x->values[j], &y->values[j]);
  }
}

static void check_caps(const struct mv_fhir_search *s) {
  if (s->n_terms > MV_FHIR_SEARCH_TERMS_MAX ||
      s->count > MV_FHIR_SEARCH_COUNT_MAX ||
      s->offset > MV_FHIR_SEARCH_OFFSET_MAX)
    abort();
  for (size_t i = 0; i < s->n_terms; i++) {
    const struct mv_fhir_search_term *t = &s->terms[i];
    if (t->n_values == 0 || t->n_values > MV_FHIR_SEARCH_VALUES_MAX)
      abort();
    for (size_t j = 0; j < t->n_values; j++)
      if (t->values[j].n_words > MV_FHIR_SEARCH_WORDS_MAX)
        abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MV_FHIR_SEARCH_QUERY_MAX + 64)
    return 0;
  char *text = malloc(size + 1);
  struct mv_arena *a = mv_arena_new(4u << 20), *tiny = mv_arena_new(64);
  struct mv_fhir_outcome oo, oo2;
  struct mv_fhir_search s, s2;
  if (!text || !a || !tiny)
    abort();
  memcpy(text, data, size);
  text[size] = '\0';
  const char *type = "Observation", *query = text;
  char *nl = strchr(text, '\n');
  if (nl) {
    *nl = '\0';
    type = text;
    query = nl + 1;
  }

  mv_fhir_outcome_init(&oo);
  int rc = mv_fhir_search_parse(type, query, false, a, &s, &oo);
  mv_fhir_outcome_init(&oo2);
  int rc2 = mv_fhir_search_parse(type, query, true, a, &s2, &oo2);
  if (rc2 == MV_OK && (rc != MV_OK || oo2.n != 0))
    abort();
  if (rc == MV_OK && rc2 == MV_OK)
    same_search(&s, &s2);
  if (rc != MV_OK && !mv_fhir_outcome_has_errors(&oo) &&
      mv_fhir_search_params(type, &(size_t){0}) && rc != MV_ENOMEM)
    abort(); /* every refusal says why */

  if (rc == MV_OK) {
    check_caps(&s);
    const char *link;
    if (mv_fhir_search_link(&s, NULL, s.offset, a, &link) != MV_OK)
      abort();
    if (strlen(link) <= MV_FHIR_SEARCH_QUERY_MAX) {
      mv_fhir_outcome_init(&oo2);
      if (mv_fhir_search_parse(type, link, true, a, &s2, &oo2) != MV_OK)
        abort();
      same_search(&s, &s2);
    }
  }
  /* Diagnostics are our own text: none may hold the raw query. */
  for (size_t i = 0; i < oo.n; i++)
    if (strlen(query) >= 24 && strstr(oo.issues[i].diagnostics, query))
      abort();

  mv_fhir_outcome_init(&oo2);
  rc = mv_fhir_search_parse(type, query, false, tiny, &s2, &oo2);
  if (rc == MV_OK && strlen(query) > 64)
    abort(); /* cannot fit: the parser must have run out of arena */

  mv_arena_free(tiny);
  mv_arena_free(a);
  free(text);
  return 0;
}

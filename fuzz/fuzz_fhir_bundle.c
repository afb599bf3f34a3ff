/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the parts of the fhir module that walk arbitrary
 * resources: batch/transaction planning with urn:uuid rewriting
 * (mv_fhir_bundle_plan), index extraction (mv_fhir_index_extract) and the
 * reference walk (mv_fhir_references_each). The input is JSON text.
 * Checks: no crash or overread; a plan's entries are in range and every
 * processing-order index appears once; a transaction plan leaves no
 * urn:uuid reference that names one of its own entries; index terms stay
 * within their caps; every issue text is our own (never the input's).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_fhir_search.h"
#include "mv_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int gen(void *ctx, char out[MV_LIMIT_ID_LEN + 1]) {
  unsigned *n = ctx;
  char buf[32];
  int len = snprintf(buf, sizeof(buf), "gen-%u", (*n)++);
  memcpy(out, buf, (size_t)len + 1);
  return MV_OK;
}

struct refs {
  struct json_object *bundle;
  unsigned n;
};

static int count_ref(void *ctx, struct json_object *holder, const char *ref,
                     const char *expr) {
  struct refs *r = ctx;
  (void)holder;
  if (!ref || !expr || !*expr)
    abort();
  r->n++;
  return 0;
}

/* No resolved transaction may keep a urn:uuid reference to a fullUrl of one
 * of its own entries. */
static int no_own_urn(void *ctx, struct json_object *holder, const char *ref,
                      const char *expr) {
  const struct mv_fhir_bundle_plan *p = ctx;
  (void)holder;
  (void)expr;
  if (strncmp(ref, "urn:uuid:", 9) != 0)
    return 0;
  for (size_t i = 0; i < p->n; i++)
    if (p->entries[i].full_url && strcmp(p->entries[i].full_url, ref) == 0)
      abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct json_object *obj = NULL;
  if (size > 1u << 16 ||
      mv_json_parse((const char *)data, size, &obj, NULL) != MV_OK || !obj)
    return 0;
  struct mv_arena *a = mv_arena_new(8u << 20);
  if (!a)
    abort();

  struct mv_fhir_index idx;
  if (mv_fhir_index_extract(obj, a, &idx) == MV_OK) {
    if (idx.n_terms > MV_FHIR_INDEX_TERMS_MAX)
      abort();
    for (size_t i = 0; i < idx.n_terms; i++)
      if (!idx.terms[i].param || !idx.terms[i].value ||
          strlen(idx.terms[i].value) > MV_FHIR_INDEX_VALUE_MAX)
        abort();
    if (idx.date_lo_us != MV_FHIR_NO_DATE && idx.date_hi_us < idx.date_lo_us)
      abort();
  }
  struct refs r = {obj, 0};
  if (mv_fhir_references_each(obj, count_ref, &r) != MV_OK)
    abort();

  struct mv_fhir_bundle_plan plan;
  struct mv_fhir_outcome oo;
  unsigned n = 0;
  mv_fhir_outcome_init(&oo);
  int rc = mv_fhir_bundle_plan(obj, gen, &n, a, &plan, &oo);
  if (rc == MV_OK) {
    if (plan.n > MV_FHIR_BUNDLE_ENTRIES_MAX)
      abort();
    char *seen = calloc(plan.n + 1, 1);
    if (!seen)
      abort();
    for (size_t i = 0; i < plan.n; i++) {
      size_t k = plan.order[i];
      if (k >= plan.n || seen[k])
        abort();
      seen[k] = 1;
    }
    free(seen);
    if (plan.transaction)
      for (size_t i = 0; i < plan.n; i++)
        if (plan.entries[i].resource &&
            mv_fhir_references_each(plan.entries[i].resource, no_own_urn,
                                    &plan) != MV_OK)
          abort();
  } else if (rc == MV_EINVAL && !mv_fhir_outcome_has_errors(&oo)) {
    abort(); /* a refusal says why */
  }
  char *text = malloc(size + 1);
  if (!text)
    abort();
  memcpy(text, data, size);
  text[size] = '\0';
  for (size_t i = 0; i < oo.n; i++)
    if (size >= 24 && strstr(oo.issues[i].diagnostics, text))
      abort();
  free(text);
  mv_arena_free(a);
  json_object_put(obj);
  return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for FHIR validation: whatever mv_json_parse accepts is
 * validated twice (any type, then as an Observation, the type devices
 * post). The result must be one of the documented codes and agree with the
 * issues: MV_OK exactly when no error issue was recorded, and the outcome
 * never holds more than its capacity. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mv_fhir.h"
#include "mv_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(struct json_object *obj, const char *type) {
  struct mv_fhir_outcome o;
  mv_fhir_outcome_init(&o);
  int rc = mv_fhir_validate(obj, type, &o);
  if (rc != MV_OK && rc != MV_EINVAL && rc != MV_EUNSUPPORTED)
    abort();
  if ((rc == MV_OK) == mv_fhir_outcome_has_errors(&o))
    abort();
  if (o.n > MV_FHIR_ISSUES_MAX || (o.truncated && o.n != MV_FHIR_ISSUES_MAX))
    abort();
  for (size_t i = 0; i < o.n; i++) {
    const struct mv_fhir_issue *is = &o.issues[i];
    if (!is->code || !is->diagnostics[0] ||
        strlen(is->diagnostics) >= MV_FHIR_DIAG_MAX ||
        strlen(is->expression) >= MV_FHIR_EXPR_MAX)
      abort();
  }
  struct json_object *oo = NULL;
  if (mv_fhir_outcome_to_json(&o, &oo) != MV_OK)
    abort();
  json_object_put(oo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct json_object *obj = NULL;
  struct mv_diag d;
  if (mv_json_parse((const char *)data, size, &obj, &d) != MV_OK)
    return 0;
  check(obj, NULL);
  check(obj, "Observation");
  json_object_put(obj);
  return 0;
}

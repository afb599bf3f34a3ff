/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A synthetic vital-signs population for benchmarks (store_int.h:
 * mv__store_load_synthetic): realistic FHIR Observation bodies with the
 * index terms the API layer would extract, written through the bulk path
 * in large transactions. Not used by the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define BODY_MAX 1536
#define ID_MAX (MV_LIMIT_ID_LEN + 1)
#define CATEGORY_SYSTEM                                                        \
  "http://terminology.hl7.org/CodeSystem/observation-category"

struct vital {
  const char *code, *display, *unit, *ucum;
  int base, spread, decimals;
};

static const struct vital vitals[] = {
    {"8867-4", "Heart rate", "beats/minute", "/min", 60, 40, 0},
    {"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%",
     "%", 92, 8, 0},
    {"9279-1", "Respiratory rate", "breaths/minute", "/min", 12, 10, 0},
    {"8310-5", "Body temperature", "C", "Cel", 363, 20, 1},
    {"85354-9", "Blood pressure panel with all children optional", "mmHg",
     "mm[Hg]", 110, 40, 0},
};

/* RFC 3339 UTC time of t_us (µs since the epoch, after 1970). */
static void iso_time(int64_t t_us, char *buf, size_t len) {
  int64_t s = t_us / 1000000, days = s / 86400, rem = s % 86400;
  /* Civil-from-days (H. Hinnant's algorithm). */
  int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  snprintf(buf, len, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
           (long long)(y + (m <= 2)), (long long)m, (long long)d,
           (long long)(rem / 3600), (long long)(rem / 60 % 60),
           (long long)(rem % 60));
}

static int make_value(const struct vital *v, uint64_t k, char *buf,
                      size_t len) {
  unsigned x = (unsigned)(k * 2654435761u);
  int val = v->base + (int)(x % (unsigned)v->spread);
  if (v == &vitals[4])
    return snprintf(
        buf, len,
        "\"component\":[{\"code\":{\"coding\":[{\"system\":\"http://"
        "loinc.org\",\"code\":\"8480-6\"}]},\"valueQuantity\":{\"value\":%d,"
        "\"unit\":\"mmHg\",\"system\":\"http://unitsofmeasure.org\","
        "\"code\":\"mm[Hg]\"}},{\"code\":{\"coding\":[{\"system\":\"http://"
        "loinc.org\",\"code\":\"8462-4\"}]},\"valueQuantity\":{\"value\":%d,"
        "\"unit\":\"mmHg\",\"system\":\"http://unitsofmeasure.org\","
        "\"code\":\"mm[Hg]\"}}]",
        val, val * 2 / 3);
  if (v->decimals)
    return snprintf(buf, len,
                    "\"valueQuantity\":{\"value\":%d.%d,\"unit\":\"%s\","
                    "\"system\":\"http://unitsofmeasure.org\",\"code\":\"%s\"}",
                    val / 10, val % 10, v->unit, v->ucum);
  return snprintf(buf, len,
                  "\"valueQuantity\":{\"value\":%d,\"unit\":\"%s\","
                  "\"system\":\"http://unitsofmeasure.org\",\"code\":\"%s\"}",
                  val, v->unit, v->ucum);
}

/* One synthetic Observation: ids, body and terms in the caller's slot. */
struct slot {
  char id[ID_MAX], pid[ID_MAX], body[BODY_MAX];
  struct mv_store_term terms[2];
};

static int fill(const struct mv__store_synth *sp, uint64_t k, struct slot *sl,
                struct mv_store_write *w) {
  /* Each patient cycles through the five vital signs over its readings. */
  const struct vital *v = &vitals[(k / sp->n_patients) % MV_ARRAY_LEN(vitals)];
  char when[96], value[512];
  int64_t t = sp->t0_us + (int64_t)k * sp->step_us;
  iso_time(t, when, sizeof(when));
  snprintf(sl->id, sizeof(sl->id), "%so%llu", sp->id_prefix,
           (unsigned long long)k);
  snprintf(sl->pid, sizeof(sl->pid), "%sp%llu", sp->id_prefix,
           (unsigned long long)(k % sp->n_patients));
  if (make_value(v, k, value, sizeof(value)) < 0)
    return MV_EINVAL;
  int n = snprintf(
      sl->body, sizeof(sl->body),
      "{\"resourceType\":\"Observation\",\"id\":\"%s\",\"meta\":{"
      "\"profile\":[\"http://hl7.org/fhir/StructureDefinition/vitalsigns\"]},"
      "\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":"
      "\"" CATEGORY_SYSTEM
      "\",\"code\":\"vital-signs\",\"display\":\"Vital Signs\"}]}],"
      "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"%s\","
      "\"display\":\"%s\"}],\"text\":\"%s\"},"
      "\"subject\":{\"reference\":\"Patient/%s\"},"
      "\"effectiveDateTime\":\"%s\",%s}",
      sl->id, v->code, v->display, v->display, sl->pid, when, value);
  if (n < 0 || (size_t)n >= sizeof(sl->body))
    return MV_EINVAL;
  sl->terms[0] = (struct mv_store_term){MV_STORE_TERM_TOKEN, "code",
                                        "http://loinc.org", v->code};
  sl->terms[1] = (struct mv_store_term){MV_STORE_TERM_TOKEN, "category",
                                        CATEGORY_SYSTEM, "vital-signs"};
  *w = (struct mv_store_write){.op = MV_STORE_CREATE,
                               .type = "Observation",
                               .id = sl->id,
                               .body = sl->body,
                               .body_len = (size_t)n,
                               .patient_id = sl->pid,
                               .date_us = t,
                               .date_hi_us = t + 999999, /* second precision */
                               .status = "final",
                               .terms = sl->terms,
                               .n_terms = 2};
  return MV_OK;
}

int mv__store_load_synthetic(struct mv_store *s,
                             const struct mv__store_synth *spec,
                             uint64_t *out_written) {
  struct mv__store_synth sp = *spec;
  uint64_t written = 0;
  int rc = MV_OK;
  if (!s || !sp.id_prefix || sp.n_patients == 0 || strlen(sp.id_prefix) > 24)
    return MV_EINVAL;
  if (sp.per_tx == 0)
    sp.per_tx = 5000;
  if (sp.per_tx > MV__STORE_BULK_MAX)
    sp.per_tx = MV__STORE_BULK_MAX;
  struct slot *slots = malloc(sp.per_tx * sizeof(*slots));
  struct mv_store_write *ws = malloc(sp.per_tx * sizeof(*ws));
  int *status = malloc(sp.per_tx * sizeof(*status));
  if (!slots || !ws || !status) {
    rc = MV_ENOMEM;
    goto out;
  }
  for (uint64_t done = 0; done < sp.n && rc == MV_OK;) {
    size_t m = sp.n - done < sp.per_tx ? (size_t)(sp.n - done) : sp.per_tx;
    for (size_t i = 0; i < m && rc == MV_OK; i++)
      rc = fill(&sp, sp.first_index + done + i, &slots[i], &ws[i]);
    if (rc == MV_OK)
      rc = mv__store_write_bulk(s, ws, m, status);
    for (size_t i = 0; i < m && rc == MV_OK; i++)
      if (status[i] == MV_OK)
        written++;
    done += m;
  }
out:
  free(slots);
  free(ws);
  free(status);
  if (out_written)
    *out_written = written;
  return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stored result of a triage session: one FHIR R4 DiagnosticReport
 * (status preliminary; conclusion = the clinician summary and the "not a
 * diagnosis" statement; presentedForm = the full result as JSON and the
 * patient's advice as text; an extension with the urgency) and, for the most
 * probable labels, Conditions with verificationStatus "provisional" whose
 * evidence points at the report. Both go through mv_api_ingest_sync, i.e.
 * the same validation, reference checks, encryption under the patient's key
 * and AuditEvent as an API create.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "mv_clf_redflag.h"
#include "mv_json.h"
#include "triage_int.h"

#define EXT_URGENCY                                                            \
  "https://medverse.dev/fhir/StructureDefinition/triage-urgency"
#define EXT_PROB                                                               \
  "https://medverse.dev/fhir/StructureDefinition/triage-probability"
#define COND_MIN_P 0.10 /* differential entries recorded as Conditions */
#define COND_MAX 3u

static struct json_object *coding(const char *system, const char *code,
                                  const char *display) {
  struct json_object *c = json_object_new_object(),
                     *a = json_object_new_array(),
                     *cc = json_object_new_object();
  json_object_object_add(c, "system", json_object_new_string(system));
  json_object_object_add(c, "code", json_object_new_string(code));
  if (display)
    json_object_object_add(c, "display", json_object_new_string(display));
  json_object_array_add(a, c);
  json_object_object_add(cc, "coding", a);
  return cc;
}

static struct json_object *text_concept(const char *text) {
  struct json_object *cc = json_object_new_object();
  json_object_object_add(cc, "text", json_object_new_string(text));
  return cc;
}

static struct json_object *ref(const char *type, const char *id) {
  char b[TRI_REF_MAX];
  struct json_object *r = json_object_new_object();
  snprintf(b, sizeof(b), "%s/%s", type, id);
  json_object_object_add(r, "reference", json_object_new_string(b));
  return r;
}

/* An Attachment holding text (base64, as FHIR requires for data). */
static struct json_object *attachment(const char *ctype, const char *lang,
                                      const char *title, const char *data) {
  size_t n = strlen(data);
  size_t b64 = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
  char *enc = malloc(b64);
  struct json_object *a = json_object_new_object();
  if (!enc)
    return a; /* an empty attachment still validates; caller checks size */
  sodium_bin2base64(enc, b64, (const unsigned char *)data, n,
                    sodium_base64_VARIANT_ORIGINAL);
  json_object_object_add(a, "contentType", json_object_new_string(ctype));
  json_object_object_add(a, "language", json_object_new_string(lang));
  json_object_object_add(a, "title", json_object_new_string(title));
  json_object_object_add(a, "data", json_object_new_string(enc));
  free(enc);
  return a;
}

static int ingest(struct mv_api *api, struct json_object *res,
                  const char *actor, char id_out[65], struct mv_diag *diag) {
  struct mv_buf b;
  struct mv_api_result r;
  int rc;
  mv_buf_init(&b, MV_LIMIT_HTTP_RESP_MAX);
  rc = mv_json_write(&b, res);
  if (rc == MV_OK)
    rc = mv_api_ingest_sync(api, mv_buf_cstr(&b), b.len,
                            actor && *actor ? actor : NULL, &r, diag);
  if (rc == MV_OK)
    snprintf(id_out, 65, "%s", r.id);
  mv_buf_release(&b);
  return rc;
}

static struct json_object *report_json(const struct api_triage *E,
                                       const struct tri_session *t,
                                       const struct tri_result *res,
                                       const size_t *idx, size_t k) {
  struct json_object *dr = json_object_new_object(), *a, *view, *ext;
  char when[40], concl[2048];
  const char *lang = t->lang == MV_CLF_INQ_ZH ? "zh" : "en";
  json_object_object_add(dr, "resourceType",
                         json_object_new_string("DiagnosticReport"));
  ext = json_object_new_object();
  json_object_object_add(ext, "url", json_object_new_string(EXT_URGENCY));
  json_object_object_add(ext, "valueCode",
                         json_object_new_string(res->urgency));
  a = json_object_new_array();
  json_object_array_add(a, ext);
  json_object_object_add(dr, "extension", a);
  json_object_object_add(dr, "status", json_object_new_string("preliminary"));
  a = json_object_new_array();
  json_object_array_add(
      a,
      coding("http://terminology.hl7.org/CodeSystem/v2-0074", "OTH", "Other"));
  json_object_object_add(dr, "category", a);
  json_object_object_add(
      dr, "code", text_concept("Automated symptom triage (not a diagnosis)"));
  json_object_object_add(dr, "subject", ref("Patient", t->patient_id));
  if (mv_time_format_rfc3339(t->created_us, when, sizeof(when)))
    json_object_object_add(dr, "effectiveDateTime",
                           json_object_new_string(when));
  if (mv_time_format_rfc3339(t->touched_us, when, sizeof(when)))
    json_object_object_add(dr, "issued", json_object_new_string(when));
  snprintf(concl, sizeof(concl), "%s %s", res->summary,
           "Automated triage: not a diagnosis; a clinician must review it.");
  json_object_object_add(dr, "conclusion", json_object_new_string(concl));
  if (k > 0) {
    a = json_object_new_array();
    json_object_array_add(a, text_concept(mv_clf_label(E->model, idx[0])));
    json_object_object_add(dr, "conclusionCode", a);
  }
  /* The whole session view minus transient fields, as JSON. */
  view = tri_view(E, t);
  json_object_object_del(view, "expiresAt");
  json_object_object_del(view, "question");
  json_object_object_del(view, "version");
  a = json_object_new_array();
  json_object_array_add(a, attachment("application/json", "en", "Triage result",
                                      json_object_to_json_string_ext(
                                          view, JSON_C_TO_STRING_PLAIN)));
  json_object_put(view);
  char advice[4096];
  snprintf(advice, sizeof(advice), "%s\n\n%s", res->advice, res->disclaimer);
  json_object_array_add(
      a, attachment("text/plain; charset=utf-8", lang, "Advice", advice));
  json_object_object_add(dr, "presentedForm", a);
  return dr;
}

static struct json_object *condition_json(const struct api_triage *E,
                                          const struct tri_session *t,
                                          size_t label, const char *report_id) {
  struct json_object *c = json_object_new_object(), *a, *ev, *ext, *note;
  char when[40], text[512];
  double p = t->post[label];
  json_object_object_add(c, "resourceType",
                         json_object_new_string("Condition"));
  ext = json_object_new_object();
  json_object_object_add(ext, "url", json_object_new_string(EXT_PROB));
  json_object_object_add(ext, "valueDecimal", json_object_new_double(p));
  a = json_object_new_array();
  json_object_array_add(a, ext);
  json_object_object_add(c, "extension", a);
  json_object_object_add(
      c, "clinicalStatus",
      coding("http://terminology.hl7.org/CodeSystem/condition-clinical",
             "active", "Active"));
  json_object_object_add(
      c, "verificationStatus",
      coding("http://terminology.hl7.org/CodeSystem/condition-ver-status",
             "provisional", "Provisional"));
  a = json_object_new_array();
  json_object_array_add(
      a, coding("http://terminology.hl7.org/CodeSystem/condition-category",
                "encounter-diagnosis", "Encounter Diagnosis"));
  json_object_object_add(c, "category", a);
  json_object_object_add(c, "code",
                         text_concept(mv_clf_label(E->model, label)));
  json_object_object_add(c, "subject", ref("Patient", t->patient_id));
  if (mv_time_format_rfc3339(t->touched_us, when, sizeof(when)))
    json_object_object_add(c, "recordedDate", json_object_new_string(when));
  ev = json_object_new_object();
  a = json_object_new_array();
  json_object_array_add(a, ref("DiagnosticReport", report_id));
  json_object_object_add(ev, "detail", a);
  a = json_object_new_array();
  json_object_array_add(a, ev);
  json_object_object_add(c, "evidence", a);
  snprintf(text, sizeof(text),
           "Suggested by automated triage with probability %.2f; not a "
           "diagnosis, to be confirmed or refuted by a clinician.",
           p);
  note = json_object_new_object();
  json_object_object_add(note, "text", json_object_new_string(text));
  a = json_object_new_array();
  json_object_array_add(a, note);
  json_object_object_add(c, "note", a);
  return c;
}

int tri_store_report(struct mv_api *api, const struct api_triage *E,
                     const struct tri_session *t, const struct tri_result *res,
                     char report_id[65], char cond_ids[][65], size_t *n_cond,
                     struct mv_diag *diag) {
  size_t idx[TRI_TOPK], k = tri_topk(E, t, idx, TRI_TOPK);
  struct json_object *dr = report_json(E, t, res, idx, k);
  int rc = ingest(api, dr, t->agent_ref, report_id, diag);
  json_object_put(dr);
  *n_cond = 0;
  if (rc != MV_OK)
    return rc;
  for (size_t i = 0; i < k && i < COND_MAX; i++) {
    if (i > 0 && t->post[idx[i]] < COND_MIN_P)
      break;
    struct json_object *c = condition_json(E, t, idx[i], report_id);
    rc = ingest(api, c, t->agent_ref, cond_ids[*n_cond], diag);
    json_object_put(c);
    if (rc != MV_OK)
      return rc;
    (*n_cond)++;
  }
  return MV_OK;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit trail: one AuditEvent (FHIR R4, DICOM/HL7 audit vocabularies)
 * for every access to clinical data — who (agent), what (entity), when
 * (recorded), from where (network address), outcome. AuditEvents are
 * written by the server only. A write's AuditEvent commits in the same
 * transaction as the write; a read's is queued without waiting (the read
 * itself changes nothing, and waiting would add a commit to every read).
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"
#include "mv_json.h"
#include "mv_log.h"
#include "mv_rand.h"

static struct json_object *coding(const char *system, const char *code,
                                  const char *display) {
  struct json_object *c = json_object_new_object();
  json_object_object_add(c, "system", json_object_new_string(system));
  json_object_object_add(c, "code", json_object_new_string(code));
  if (display)
    json_object_object_add(c, "display", json_object_new_string(display));
  return c;
}

static struct json_object *reference(const char *ref) {
  struct json_object *r = json_object_new_object();
  json_object_object_add(r, "reference", json_object_new_string(ref));
  return r;
}

/* RESTful interaction codes of http://hl7.org/fhir/restful-interaction. */
static const char *action_for(const char *interaction) {
  if (strcmp(interaction, "create") == 0)
    return "C";
  if (strcmp(interaction, "update") == 0)
    return "U";
  if (strcmp(interaction, "delete") == 0 || strcmp(interaction, "erase") == 0)
    return "D";
  if (strcmp(interaction, "transaction") == 0 ||
      strcmp(interaction, "batch") == 0 ||
      strcmp(interaction, "operation") == 0)
    return "E";
  return "R";
}

static struct json_object *audit_event(struct api_req *q,
                                       const char *interaction,
                                       const char *type, const char *id,
                                       const char *patient_id, int outcome,
                                       const char *aid) {
  struct json_object *ae = json_object_new_object();
  struct json_object *arr, *agent, *who, *net, *src, *ent;
  char when[40];

  json_object_object_add(ae, "resourceType",
                         json_object_new_string("AuditEvent"));
  json_object_object_add(ae, "id", json_object_new_string(aid));
  json_object_object_add(
      ae, "type",
      coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest",
             "RESTful Operation"));
  arr = json_object_new_array();
  /* $erase is an operation in the restful-interaction code system */
  json_object_array_add(
      arr, coding("http://hl7.org/fhir/restful-interaction",
                  strcmp(interaction, "erase") == 0 ? "operation" : interaction,
                  NULL));
  json_object_object_add(ae, "subtype", arr);
  json_object_object_add(ae, "action",
                         json_object_new_string(action_for(interaction)));
  API_IGNORE(mv_fhir_instant_format(mv_clock_now_us(q->api->clock), when,
                                    sizeof(when)));
  json_object_object_add(ae, "recorded", json_object_new_string(when));
  char oc[4];
  snprintf(oc, sizeof(oc), "%d", outcome);
  json_object_object_add(ae, "outcome", json_object_new_string(oc));

  agent = json_object_new_object();
  who = json_object_new_object();
  if (q->agent_ref)
    json_object_object_add(who, "reference",
                           json_object_new_string(q->agent_ref));
  if (q->authed) {
    struct json_object *ident = json_object_new_object();
    json_object_object_add(ident, "system",
                           json_object_new_string("urn:medverse:username"));
    json_object_object_add(ident, "value", json_object_new_string(q->who.sub));
    json_object_object_add(who, "identifier", ident);
  } else {
    json_object_object_add(
        who, "display",
        json_object_new_string(q->x ? "anonymous" : "medverse server"));
  }
  json_object_object_add(agent, "who", who);
  json_object_object_add(agent, "requestor", json_object_new_boolean(1));
  if (q->r && q->r->remote && q->r->remote[0]) {
    net = json_object_new_object();
    json_object_object_add(net, "address",
                           json_object_new_string(q->r->remote));
    json_object_object_add(net, "type", json_object_new_string("2"));
    json_object_object_add(agent, "network", net);
  }
  arr = json_object_new_array();
  json_object_array_add(arr, agent);
  json_object_object_add(ae, "agent", arr);

  src = json_object_new_object();
  json_object_object_add(src, "site", json_object_new_string("medverse"));
  struct json_object *obs = json_object_new_object();
  json_object_object_add(obs, "display", json_object_new_string("medverse"));
  json_object_object_add(src, "observer", obs);
  json_object_object_add(ae, "source", src);

  arr = json_object_new_array();
  if (type && id) {
    ent = json_object_new_object();
    char *ref = mv_arena_printf(q->a, "%s/%s", type, id);
    json_object_object_add(ent, "what", reference(ref ? ref : type));
    json_object_array_add(arr, ent);
  } else if (type) {
    ent = json_object_new_object();
    json_object_object_add(ent, "what", reference(type));
    json_object_array_add(arr, ent);
  }
  if (patient_id && *patient_id &&
      !(type && id && strcmp(type, "Patient") == 0 &&
        strcmp(id, patient_id) == 0)) {
    ent = json_object_new_object();
    char *ref = mv_arena_printf(q->a, "Patient/%s", patient_id);
    json_object_object_add(ent, "what", reference(ref ? ref : "Patient"));
    json_object_object_add(
        ent, "type",
        coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1",
               "Person"));
    json_object_array_add(arr, ent);
  }
  if (json_object_array_length(arr) > 0)
    json_object_object_add(ae, "entity", arr);
  else
    json_object_put(arr);
  return ae;
}

int api_audit_write(struct api_req *q, const char *interaction,
                    const char *type, const char *id, const char *patient_id,
                    int outcome, struct api_write *out) {
  char aid[37];
  struct json_object *ae;
  struct mv_fhir_outcome oo;
  int rc;
  if ((rc = mv_uuid7(aid)) != MV_OK)
    return rc;
  if (!(ae = audit_event(q, interaction, type, id, patient_id, outcome, aid)))
    return MV_ENOMEM;
  mv_fhir_outcome_init(&oo);
  rc = api_write_prepare(q, ae, MV_STORE_CREATE, out, &oo);
  /* The event is filed (and encrypted) under the patient the caller names,
   * or under the general key: the audit record of an erasure must outlive
   * the erased patient's key. */
  if (rc == MV_OK)
    out->w.patient_id = patient_id && *patient_id ? patient_id : NULL;
  return rc;
}

static void audit_done(void *ctx, int status, const struct mv_store_result *r) {
  (void)ctx;
  (void)r;
  if (status != MV_OK)
    MV_LOG_ERROR("audit", "an audit event was not stored: %s",
                 mv_err_name(status));
}

void api_audit_async(struct api_req *q, const char *interaction,
                     const char *type, const char *id, const char *patient_id,
                     int outcome) {
  struct api_write w = {0};
  int rc = api_audit_write(q, interaction, type, id, patient_id, outcome, &w);
  if (rc == MV_OK)
    rc = mv_store_submit(q->api->store, &w.w, audit_done, NULL);
  json_object_put(w.res); /* the store copied the body */
  if (rc != MV_OK)
    MV_LOG_ERROR("audit", "an audit event was not queued: %s", mv_err_name(rc));
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse simulate --via http`: each simulated second of every patient
 * becomes five FHIR vital-signs Observations (LOINC codes, UCUM units),
 * POSTed to /fhir as batch Bundles of at most SIM_HTTP_ENTRIES entries.
 * An entry counts as acknowledged when its response status is 201: the
 * server answers a batch only after its writes are durable.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mv_clock.h"
#include "mv_err.h"
#include "mv_json.h"
#include "sim.h"

#include <json-c/json.h>

#define SIM_HTTP_ENTRIES 250

static const char cat[] =
    "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
    "CodeSystem/observation-category\",\"code\":\"vital-signs\"}]}]";

static int qty(struct mv_buf *b, double v, int dec, const char *u) {
  return mv_buf_appendf(b,
                        "\"valueQuantity\":{\"value\":%.*f,\"unit\":\"%s\","
                        "\"system\":\"http://unitsofmeasure.org\","
                        "\"code\":\"%s\"}",
                        dec, v, u, u);
}

static int entry(struct mv_buf *b, bool first, const char *pid,
                 const char *when, const char *loinc, const char *display,
                 uint32_t q) {
  int rc = mv_buf_appendf(
      b,
      "%s{\"request\":{\"method\":\"POST\",\"url\":\"Observation\"},"
      "\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",%s,"
      "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"%s\","
      "\"display\":\"%s\"}%s]},\"subject\":{\"reference\":\"Patient/%s\"},"
      "\"effectiveDateTime\":\"%s\",%s",
      first ? "" : ",", cat, loinc, display,
      strcmp(loinc, "59408-5") == 0
          ? ",{\"system\":\"http://loinc.org\",\"code\":\"2708-6\"}"
          : "",
      pid, when,
      q ? "\"note\":[{\"text\":\"device flagged this value as questionable\"}],"
        : "");
  return rc;
}

/* The five Observations of one reading. */
static int reading(struct mv_buf *b, bool first, const char *pid,
                   const char *when, const struct mv_sig_scen_vitals *r) {
  const struct mv_sig_vitals *v = &r->v;
  int rc = MV_OK;
  if ((rc = entry(b, first, pid, when, "8867-4", "Heart rate", r->q_hr)) ||
      (rc = qty(b, v->hr_bpm, 0, "/min")) || (rc = mv_buf_appends(b, "}}")))
    return rc;
  if ((rc = entry(b, false, pid, when, "59408-5", "Oxygen saturation",
                  r->q_spo2)) ||
      (rc = qty(b, v->spo2_pct, 0, "%")) || (rc = mv_buf_appends(b, "}}")))
    return rc;
  if ((rc = entry(b, false, pid, when, "85354-9", "Blood pressure panel", 0)) ||
      (rc = mv_buf_appends(b, "\"component\":[{\"code\":{\"coding\":[{"
                              "\"system\":\"http://loinc.org\",\"code\":"
                              "\"8480-6\"}]},")) ||
      (rc = qty(b, v->sbp_mmhg, 0, "mm[Hg]")) ||
      (rc =
           mv_buf_appends(b, "},{\"code\":{\"coding\":[{\"system\":"
                             "\"http://loinc.org\",\"code\":\"8462-4\"}]},")) ||
      (rc = qty(b, v->dbp_mmhg, 0, "mm[Hg]")) ||
      (rc = mv_buf_appends(b, "}]}}")))
    return rc;
  if ((rc = entry(b, false, pid, when, "9279-1", "Respiratory rate", 0)) ||
      (rc = qty(b, v->rr_bpm, 0, "/min")) || (rc = mv_buf_appends(b, "}}")))
    return rc;
  if ((rc = entry(b, false, pid, when, "8310-5", "Body temperature", 0)) ||
      (rc = qty(b, v->temp_c, 1, "Cel")) || (rc = mv_buf_appends(b, "}}")))
    return rc;
  return MV_OK;
}

/* Count the 201 entries of a batch-response. */
static size_t created(const struct mv_buf *resp) {
  struct json_object *o = NULL, *e = NULL;
  size_t ok = 0;
  if (mv_json_parse(mv_buf_cstr(resp), resp->len, &o, NULL) != MV_OK)
    return 0;
  if (json_object_object_get_ex(o, "entry", &e) &&
      json_object_is_type(e, json_type_array)) {
    for (size_t i = 0; i < json_object_array_length(e); i++) {
      struct json_object *x = json_object_array_get_idx(e, i), *r, *st;
      if (json_object_object_get_ex(x, "response", &r) &&
          json_object_object_get_ex(r, "status", &st) &&
          strncmp(json_object_get_string(st), "201", 3) == 0)
        ok++;
    }
  }
  json_object_put(o);
  return ok;
}

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int sim_run_http(struct sim *s) {
  struct mv_buf b, resp;
  mv_buf_init(&b, 16u << 20);
  mv_buf_init(&resp, 64u << 20);
  char url[1100];
  snprintf(url, sizeof(url), "%s/fhir", s->server);
  int rc = MV_OK;
  int64_t tick = 0;
  unsigned per_req = SIM_HTTP_ENTRIES / 5;
  while (!sim_done(s)) {
    if (tick >= sim_due_ticks(s)) {
      nap_ms(5);
      continue;
    }
    char when[40];
    mv_time_format_rfc3339(s->t0_us + tick * 1000000, when, sizeof(when));
    for (unsigned i0 = 0; i0 < s->n && !*s->stop; i0 += per_req) {
      unsigned i1 = i0 + per_req < s->n ? i0 + per_req : s->n;
      mv_buf_reset(&b);
      rc = mv_buf_appends(&b, "{\"resourceType\":\"Bundle\",\"type\":"
                              "\"batch\",\"entry\":[");
      for (unsigned i = i0; rc == MV_OK && i < i1; i++) {
        struct mv_sig_scen_vitals r;
        sim_vitals(s, i, &r);
        s->p[i].ticks++;
        rc = reading(&b, i == i0, s->p[i].id, when, &r);
      }
      if (rc == MV_OK)
        rc = mv_buf_appends(&b, "]}");
      if (rc != MV_OK)
        goto out;
      size_t n = (size_t)(i1 - i0) * 5;
      long status = 0;
      double t = sim_now_s();
      s->st.msgs_sent++;
      s->st.values_sent += n;
      rc = sim_http("POST", url, s->token, "application/fhir+json",
                    mv_buf_cstr(&b), b.len, &status, &resp);
      if (rc != MV_OK) {
        s->st.errors++;
        fprintf(stderr, "medverse simulate: POST /fhir failed\n");
        goto out;
      }
      double ms = (sim_now_s() - t) * 1000.0;
      size_t ok = status == 200 ? created(&resp) : 0;
      if (status == 200)
        s->st.msgs_acked++;
      s->st.values_acked += ok;
      s->st.errors += n - ok;
      if (ok < n && !s->quiet)
        fprintf(stderr,
                "medverse simulate: batch HTTP %ld, %zu of %zu "
                "entries created\n",
                status, ok, n);
      for (size_t k = 0; k < ok; k++)
        sim_lat_add(s, ms);
    }
    tick++;
  }
out:
  mv_buf_release(&b);
  mv_buf_release(&resp);
  return rc;
}

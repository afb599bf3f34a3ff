/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Batched device writes (mv_api_ingest_batch, src/api/ingest_batch.c)
 * against a real store, without HTTP: a batch is stored whole with one
 * AuditEvent naming every record and one ledger leaf per record; an invalid
 * item or a refused permission stores nothing and names the item; the
 * stream cursor refuses replays, also when two threads race with the same
 * sequence number; live publishing (device_pub.c) runs under the
 * sanitizers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "api_int.h"
#include "mv_dev.h"
#include "mv_json.h"
#include "mv_test.h"
/* The message builders are static: test them from the source itself (the
 * library's copy of device_pub.o is then not linked in). */
#include "device_pub.c"

struct fx {
  char dir[64];
  char url[96];
  struct mv_store *s;
  struct mv_api *api; /* hand-made: only what the batch path uses */
};

static int setup(void **state) {
  struct fx *f = calloc(1, sizeof(*f));
  struct mv_store_opts o = {0};
  struct mv_diag d;
  if (!f || mvt_store_dir(f->dir, sizeof(f->dir), f->url, sizeof(f->url),
                          "ingb") != 0)
    return -1;
  o.url = f->url;
  mv_diag_clear(&d);
  if (mv_store_open(&o, &f->s, &d) != MV_OK) {
    fprintf(stderr, "store: %s\n", d.msg);
    return -1;
  }
  f->api = calloc(1, sizeof(*f->api));
  if (!f->api)
    return -1;
  f->api->store = f->s;
  f->api->clock = mv_clock_system();
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fx *f = *state;
  free(f->api);
  mv_store_close(f->s);
  mvt_rm_rf(f->dir);
  free(f);
  return 0;
}

static void put_patient(struct fx *f, const char *id) {
  char body[256];
  int n = snprintf(body, sizeof(body),
                   "{\"resourceType\":\"Patient\",\"id\":\"%s\","
                   "\"name\":[{\"family\":\"Test\"}]}",
                   id);
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_api_ingest_sync(f->api, body, (size_t)n, NULL, NULL, &d);
  if (rc != MV_OK)
    fprintf(stderr, "patient: %s %s\n", d.msg, d.path);
  assert_int_equal(rc, MV_OK);
}

static char *obs_json(const char *pid, const char *loinc, double v) {
  const char *unit = strcmp(loinc, "59408-5") == 0 ? "%" : "/min";
  char *s = malloc(1024);
  assert_non_null(s);
  snprintf(s, 1024,
           "{\"resourceType\":\"Observation\",\"status\":\"final\","
           "\"category\":[{\"coding\":[{\"system\":\"http://"
           "terminology.hl7.org/CodeSystem/observation-category\","
           "\"code\":\"vital-signs\"}]}],"
           "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
           "\"code\":\"%s\"}]},\"subject\":{\"reference\":\"Patient/%s\"},"
           "\"effectiveDateTime\":\"2026-11-25T05:00:00Z\","
           "\"valueQuantity\":{\"value\":%g,\"unit\":\"%s\","
           "\"system\":\"http://unitsofmeasure.org\",\"code\":\"%s\"}}",
           loinc, pid, v, unit, unit);
  return s;
}

struct wait {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  int status;
  size_t n;
  struct mv_api_result r[8];
};

static void wait_init(struct wait *w) {
  memset(w, 0, sizeof(*w));
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
}

static void wait_fini(struct wait *w) {
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
}

static void on_done(void *ctx, int status, size_t n,
                    const struct mv_api_result *r) {
  struct wait *w = ctx;
  pthread_mutex_lock(&w->mu);
  w->status = status;
  w->n = n;
  for (size_t i = 0; i < n && i < 8; i++)
    w->r[i] = r[i];
  w->done = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static int wait_for(struct wait *w) {
  pthread_mutex_lock(&w->mu);
  while (!w->done)
    pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
  return w->status;
}

static int64_t count(struct fx *f, const char *type) {
  int64_t n = -1;
  assert_int_equal(mv_store_count(f->s, type, &n), MV_OK);
  return n;
}

static int64_t ledger(struct fx *f) {
  int64_t n = -1;
  assert_int_equal(mv_store_ledger_size(f->s, &n), MV_OK);
  return n;
}

static const char *const CODES[3] = {"8867-4", "9279-1", "59408-5"};

/* Submit n observations of pid; returns the synchronous code. */
static int submit(struct fx *f, const char *pid, size_t n,
                  const struct mv_auth_principal *who,
                  const struct mv_api_cursor *cur, struct wait *w,
                  size_t *out_failed, struct mv_diag *d) {
  struct mv_api_item items[8];
  char *js[8];
  for (size_t i = 0; i < n; i++) {
    js[i] = obs_json(pid, CODES[i % 3], 90.0 + (double)i);
    items[i] = (struct mv_api_item){js[i], strlen(js[i])};
  }
  mv_diag_clear(d);
  int rc = mv_api_ingest_batch(f->api, items, n, who, "Device/monitor-1", cur,
                               on_done, w, out_failed, d);
  for (size_t i = 0; i < n; i++)
    free(js[i]);
  if (rc != MV_OK)
    fprintf(stderr, "batch: %s (%s at %s)\n", mv_err_name(rc), d->msg, d->path);
  return rc;
}

static int visit(void *ctx, const char *id, const struct mv_store_record *rec) {
  char **out = ctx;
  (void)id;
  *out = strdup(rec->body);
  return 1;
}

static void batch_is_stored_whole_with_audit_and_ledger(void **state) {
  struct fx *f = *state;
  put_patient(f, "p1");
  int64_t ae0 = count(f, "AuditEvent"), led0 = ledger(f);
  struct wait w;
  struct mv_diag d;
  size_t failed = 0;
  wait_init(&w);
  assert_int_equal(submit(f, "p1", 3, NULL, NULL, &w, &failed, &d), MV_OK);
  assert_int_equal(failed, SIZE_MAX);
  assert_int_equal(wait_for(&w), MV_OK);
  assert_int_equal(w.n, 3);
  assert_int_equal(count(f, "Observation"), 3);
  /* ONE AuditEvent for the batch; a ledger leaf per stored record (3
   * Observations and the AuditEvent). */
  assert_int_equal(count(f, "AuditEvent"), ae0 + 1);
  assert_int_equal(ledger(f), led0 + 4);
  for (size_t i = 0; i < 3; i++) {
    struct mv_store_record rec = {0};
    assert_int_equal(w.r[i].version, 1);
    assert_true(w.r[i].ledger_index >= led0 && w.r[i].ledger_index < led0 + 4);
    for (size_t k = 0; k < i; k++)
      assert_true(w.r[k].ledger_index != w.r[i].ledger_index);
    assert_int_equal(mv_store_read(f->s, "Observation", w.r[i].id, 0, &rec),
                     MV_OK);
    assert_non_null(strstr(rec.body, CODES[i]));
    mv_store_record_release(&rec);
  }
  /* The AuditEvent names every Observation and the patient. */
  const char *pids[1] = {"p1"};
  struct mv_store_query q = {.type = "AuditEvent",
                             .patient_ids = pids,
                             .n_patient_ids = 1,
                             .sort = MV_STORE_SORT_UPDATED_DESC,
                             .limit = 1};
  char *body = NULL;
  assert_int_equal(mv_store_search(f->s, &q, visit, &body, NULL), MV_OK);
  assert_non_null(body);
  for (size_t i = 0; i < 3; i++) {
    char ref[96];
    snprintf(ref, sizeof(ref), "Observation/%s", w.r[i].id);
    assert_non_null(strstr(body, ref));
  }
  assert_non_null(strstr(body, "Patient/p1"));
  assert_non_null(strstr(body, "Device/monitor-1"));
  free(body);
  wait_fini(&w);
}

static void invalid_item_stores_nothing(void **state) {
  struct fx *f = *state;
  put_patient(f, "p1");
  int64_t ae0 = count(f, "AuditEvent"), led0 = ledger(f);
  char *a = obs_json("p1", "8867-4", 70), *b = obs_json("p1", "8867-4", 71);
  char *c = obs_json("nobody", "8867-4", 72); /* unknown patient */
  char bad[] = "{\"resourceType\":\"Observation\",\"status\":\"bogus\"}";
  struct mv_api_item items[3] = {
      {a, strlen(a)}, {b, strlen(b)}, {c, strlen(c)}};
  struct wait w;
  struct mv_diag d;
  size_t failed = 0;
  wait_init(&w);
  mv_diag_clear(&d);
  int rc = mv_api_ingest_batch(f->api, items, 3, NULL, NULL, NULL, on_done, &w,
                               &failed, &d);
  assert_int_equal(rc, MV_EINVALID);
  assert_int_equal(failed, 2);
  assert_non_null(strstr(d.path, "subject"));
  items[1] = (struct mv_api_item){bad, strlen(bad)};
  mv_diag_clear(&d);
  rc = mv_api_ingest_batch(f->api, items, 2, NULL, NULL, NULL, on_done, &w,
                           &failed, &d);
  assert_true(rc == MV_EINVALID || rc == MV_EINVAL);
  assert_int_equal(failed, 1);
  assert_true(d.path[0] != '\0');
  items[1] = (struct mv_api_item){"{not json", 9};
  rc = mv_api_ingest_batch(f->api, items, 2, NULL, NULL, NULL, on_done, &w,
                           &failed, &d);
  assert_int_equal(rc, MV_EPARSE);
  assert_int_equal(failed, 1);
  assert_false(w.done);
  assert_int_equal(mv_store_flush(f->s), MV_OK);
  assert_int_equal(count(f, "Observation"), 0);
  assert_int_equal(count(f, "AuditEvent"), ae0);
  assert_int_equal(ledger(f), led0);
  free(a);
  free(b);
  free(c);
  wait_fini(&w);
}

static void device_principal_only_its_patient(void **state) {
  struct fx *f = *state;
  put_patient(f, "p1");
  put_patient(f, "p2");
  struct mv_auth_principal who;
  memset(&who, 0, sizeof(who));
  snprintf(who.sub, sizeof(who.sub), "monitor-1");
  who.role = MV_AUTH_ROLE_DEVICE;
  snprintf(who.fhir_id, sizeof(who.fhir_id), "p1");
  const char *sc = "patient/Observation.write";
  assert_int_equal(mv_auth_scopes_parse(sc, strlen(sc), &who.scopes), MV_OK);
  struct wait w;
  struct mv_diag d;
  size_t failed = 0;
  wait_init(&w);
  /* Its own patient: stored. */
  assert_int_equal(submit(f, "p1", 2, &who, NULL, &w, &failed, &d), MV_OK);
  assert_int_equal(wait_for(&w), MV_OK);
  assert_int_equal(count(f, "Observation"), 2);
  /* A batch with one item for another patient: refused whole. */
  char *a = obs_json("p1", "8867-4", 70), *b = obs_json("p2", "8867-4", 71);
  struct mv_api_item items[2] = {{a, strlen(a)}, {b, strlen(b)}};
  wait_init(&w);
  mv_diag_clear(&d);
  int rc = mv_api_ingest_batch(f->api, items, 2, &who, NULL, NULL, on_done, &w,
                               &failed, &d);
  assert_int_equal(rc, MV_EPERM);
  assert_int_equal(failed, 1);
  assert_string_equal(d.path, "Observation.subject");
  /* A device may not write other types either. */
  char pat[] = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}";
  items[1] = (struct mv_api_item){pat, strlen(pat)};
  rc = mv_api_ingest_batch(f->api, items, 2, &who, NULL, NULL, on_done, &w,
                           &failed, &d);
  assert_int_equal(rc, MV_EPERM);
  assert_int_equal(failed, 1);
  assert_int_equal(mv_store_flush(f->s), MV_OK);
  assert_int_equal(count(f, "Observation"), 2);
  free(a);
  free(b);
  wait_fini(&w);
}

static void cursor_refuses_replay(void **state) {
  struct fx *f = *state;
  put_patient(f, "p1");
  struct mv_api_cursor cur = {"ws:monitor-1", 10};
  struct wait w;
  struct mv_diag d;
  size_t failed;
  int64_t seq = 0;
  assert_int_equal(mv_api_cursor_get(f->api, "ws:monitor-1", &seq), MV_OK);
  assert_int_equal(seq, -1);
  wait_init(&w);
  assert_int_equal(submit(f, "p1", 2, NULL, &cur, &w, &failed, &d), MV_OK);
  assert_int_equal(wait_for(&w), MV_OK);
  assert_int_equal(mv_api_cursor_get(f->api, "ws:monitor-1", &seq), MV_OK);
  assert_int_equal(seq, 10);
  int64_t led = ledger(f), ae = count(f, "AuditEvent");
  wait_fini(&w);
  wait_init(&w);
  assert_int_equal(submit(f, "p1", 2, NULL, &cur, &w, &failed, &d), MV_OK);
  assert_int_equal(wait_for(&w), MV_ECONFLICT);
  assert_int_equal(w.r[0].version, 0);
  assert_int_equal(count(f, "Observation"), 2);
  assert_int_equal(count(f, "AuditEvent"), ae);
  assert_int_equal(ledger(f), led);
  /* bad stream names are refused synchronously */
  struct mv_api_cursor bad = {"no spaces", 11};
  assert_int_equal(submit(f, "p1", 1, NULL, &bad, &w, &failed, &d), MV_EINVAL);
  assert_int_equal(mv_api_cursor_get(f->api, "no spaces", &seq), MV_EINVAL);
  wait_fini(&w);
}

struct racer {
  struct fx *f;
  int64_t seq;
  int status;
};

static void *race(void *arg) {
  struct racer *r = arg;
  struct mv_api_cursor cur = {"ws:racer", r->seq};
  struct wait w;
  struct mv_diag d;
  size_t failed;
  wait_init(&w);
  r->status = submit(r->f, "p1", 2, NULL, &cur, &w, &failed, &d);
  if (r->status == MV_OK)
    r->status = wait_for(&w);
  wait_fini(&w);
  return NULL;
}

static void racing_connections_store_once(void **state) {
  struct fx *f = *state;
  put_patient(f, "p1");
  for (int64_t round = 1; round <= 8; round++) {
    struct racer r[2] = {{f, round, -999}, {f, round, -999}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
      assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 2; i++)
      pthread_join(t[i], NULL);
    /* exactly one of the two was stored */
    assert_true((r[0].status == MV_OK && r[1].status == MV_ECONFLICT) ||
                (r[1].status == MV_OK && r[0].status == MV_ECONFLICT));
    assert_int_equal(count(f, "Observation"), 2 * round);
  }
}

static void publish_is_bounded(void **state) {
  struct fx *f = *state;
  struct mv_server_opts so = {.host = "127.0.0.1", .port = 0};
  struct mv_server *srv = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_server_new(&so, &srv, &d), MV_OK);
  f->api->srv = srv;
  double ecg[2000];
  for (size_t i = 0; i < MV_ARRAY_LEN(ecg); i++)
    ecg[i] = (double)(i % 100);
  struct mv_dev_obs o[5];
  memset(o, 0, sizeof(o));
  o[0] = (struct mv_dev_obs){
      .patient = "p1", .loinc = "8867-4", .t_us = 1, .value = 72, .seq = -1};
  o[1] = (struct mv_dev_obs){.patient = "p1",
                             .loinc = "85354-9",
                             .kind = MV_DEV_PANEL_BP,
                             .t_us = 2,
                             .value = 120,
                             .value2 = 80,
                             .seq = -1};
  o[2] = (struct mv_dev_obs){.patient = "p1",
                             .loinc = "8310-5",
                             .t_us = 3,
                             .value = 37.2,
                             .quality = MV_DEV_Q_NOISY,
                             .seq = -1};
  o[3] = (struct mv_dev_obs){.patient = "p1",
                             .loinc = "131328",
                             .mdc = "MDC_ECG_LEAD_II",
                             .ucum = "uV",
                             .kind = MV_DEV_SERIES,
                             .data = ecg,
                             .n = MV_ARRAY_LEN(ecg),
                             .factor = 5,
                             .period_ms = 2,
                             .t_us = 4,
                             .seq = -1};
  o[4] =
      (struct mv_dev_obs){.patient = "bad id\"", .loinc = "8867-4", .seq = -1};
  /* More calls than the loop's post queue holds: the rest is dropped, the
   * caller never waits. The posted tasks run (and are freed) when the
   * server is freed. */
  for (unsigned i = 0; i < MV_LIMIT_LOOP_POST_QUEUE + 10; i++)
    api_device_publish(f->api, o, MV_ARRAY_LEN(o));
  api_device_publish(f->api, o, 0);
  f->api->srv = NULL;
  mv_server_free(srv);
}

static struct json_object *parse_buf(const struct mv_buf *b) {
  struct json_object *o = NULL;
  assert_int_equal(mv_json_parse(b->data, b->len, &o, NULL), MV_OK);
  assert_non_null(o);
  return o;
}

static double num(struct json_object *o, const char *k) {
  struct json_object *v;
  assert_true(json_object_object_get_ex(o, k, &v));
  return json_object_get_double(v);
}

static void publish_messages_have_the_demo_shape(void **state) {
  (void)state;
  double ecg[2000];
  for (size_t i = 0; i < MV_ARRAY_LEN(ecg); i++)
    ecg[i] = (double)(i % 100);
  struct mv_dev_obs o[4] = {
      {.patient = "p1", .loinc = "8867-4", .t_us = 1000, .value = 72},
      {.patient = "p1",
       .loinc = "8867-4",
       .t_us = 500,
       .value = 99}, /* older */
      {.patient = "p1",
       .loinc = "85354-9",
       .kind = MV_DEV_PANEL_BP,
       .t_us = 2000,
       .value = 120,
       .value2 = 80},
      {.patient = "p1",
       .loinc = "8310-5",
       .t_us = 3000,
       .value = 37.2,
       .quality = MV_DEV_Q_NOISY},
  };
  struct mv_buf b;
  bool any = false;
  mv_buf_init(&b, 1u << 20);
  assert_int_equal(vitals_msg(&b, "p1", o, 4, &any), MV_OK);
  assert_true(any);
  struct json_object *m = parse_buf(&b);
  assert_string_equal(
      json_object_get_string(json_object_object_get(m, "patient")), "p1");
  assert_true(num(m, "hr") == 72); /* the latest heart rate */
  assert_true(num(m, "sbp") == 120 && num(m, "dbp") == 80);
  assert_true(fabs(num(m, "temp") - 37.2) < 1e-9);
  assert_null(json_object_object_get(m, "spo2")); /* absent: no key */
  assert_string_equal(
      json_object_get_string(json_object_object_get(m, "source")), "device");
  assert_non_null(
      strstr(json_object_to_json_string(json_object_object_get(m, "quality")),
             "noisy"));
  json_object_put(m);

  struct mv_dev_obs s = {.patient = "p1",
                         .loinc = "131328",
                         .mdc = "MDC_ECG_LEAD_II",
                         .ucum = "uV",
                         .kind = MV_DEV_SERIES,
                         .data = ecg,
                         .n = MV_ARRAY_LEN(ecg),
                         .factor = 5,
                         .period_ms = 2,
                         .t_us = 1700000000000000LL};
  assert_true(is_ecg(&s));
  mv_buf_reset(&b);
  assert_int_equal(series_msg(&b, &s), MV_OK);
  m = parse_buf(&b);
  struct json_object *mv = json_object_object_get(m, "mv");
  assert_int_equal(json_object_array_length(mv), 500); /* 2000 / 4 */
  assert_true(num(m, "fs") == 125);                    /* 500 Hz / 4 */
  assert_true(num(m, "t0") == 1700000000000.0);        /* ms */
  /* block averages in mV: (0+1+2+3)/4 * 5 uV */
  assert_true(fabs(json_object_get_double(json_object_array_get_idx(mv, 0)) -
                   0.0075) < 1e-9);
  assert_string_equal(json_object_get_string(json_object_object_get(m, "lead")),
                      "MDC_ECG_LEAD_II");
  json_object_put(m);
  mv_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          batch_is_stored_whole_with_audit_and_ledger, setup, teardown),
      cmocka_unit_test_setup_teardown(invalid_item_stores_nothing, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(device_principal_only_its_patient, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(cursor_refuses_replay, setup, teardown),
      cmocka_unit_test_setup_teardown(racing_connections_store_once, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(publish_is_bounded, setup, teardown),
      cmocka_unit_test(publish_messages_have_the_demo_shape),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

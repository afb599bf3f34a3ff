/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Surveillance computations in the server: a (region, disease) series read
 * from the store onto a regular grid of days or weeks, then aberration
 * detection (EARS C1 by default, as the R package surveillance 1.20.3
 * computes it: Hutwagner et al. 2003; Fricker et al. 2008), Rt with
 * credible intervals (Cori et al. 2013, weekly sliding windows, parametric
 * serial interval) and a renewal-equation forecast, all through src/epi.
 * A run does this for every series, stores one summary per series and an
 * alert for each new alarm at a series' latest point, and pushes new alerts
 * on the hub. Runs happen on demand and on a schedule (a uv timer on the
 * loop that hands the work to the pool).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "epi_int.h"
#include "mv_json.h"
#include "mv_limits.h"
#include "mv_log.h"
#include "mv_pool.h"

/* Raw rows read for one series before it is refused (bounded memory). */
#define EPI_RAW_MAX MV_LIMIT_EPI_POINTS

void epi_day_text(int32_t day, char *buf, size_t len) {
  mv_epi_date_format(day, buf, len);
}

/* ---- series -------------------------------------------------------------- */

void epi_series_release(struct epi_series *s) {
  if (!s)
    return;
  free(s->day);
  free(s->obs);
  free(s->pop);
  memset(s, 0, sizeof(*s));
}

struct raw {
  int32_t *day;
  double *obs, *pop;
  size_t n, cap;
  bool any_pop, too_big, nomem;
};

static int raw_visit(void *ctx, int32_t day, int64_t observed,
                     double population) {
  struct raw *r = ctx;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 512;
    if (cap > EPI_RAW_MAX) {
      r->too_big = true;
      return 1;
    }
    int32_t *d = realloc(r->day, cap * sizeof(*d));
    if (d)
      r->day = d;
    double *o = realloc(r->obs, cap * sizeof(*o));
    if (o)
      r->obs = o;
    double *p = realloc(r->pop, cap * sizeof(*p));
    if (p)
      r->pop = p;
    if (!d || !o || !p) {
      r->nomem = true;
      return 1;
    }
    r->cap = cap;
  }
  r->day[r->n] = day;
  r->obs[r->n] = (double)observed;
  r->pop[r->n] = population;
  r->any_pop |= !isnan(population);
  r->n++;
  return 0;
}

int epi_series_load(struct mv_store_epi *db, const char *region,
                    const char *disease, struct epi_series *out) {
  struct raw r = {0};
  struct epi_series s = {0};
  int rc = mv_store_epi_series(db, region, disease, raw_visit, &r);
  if (rc == MV_OK && (r.too_big || r.nomem))
    rc = r.too_big ? MV_ETOOBIG : MV_ENOMEM;
  if (rc == MV_OK && r.n == 0)
    rc = MV_ENOTFOUND;
  if (rc != MV_OK)
    goto out;
  /* Weekly when every gap is a whole number of weeks, else daily. */
  s.step = r.n > 1 ? 7 : 1;
  for (size_t i = 1; i < r.n && s.step == 7; i++)
    if ((r.day[i] - r.day[i - 1]) % 7 != 0)
      s.step = 1;
  int64_t first = r.day[0], last = r.day[r.n - 1];
  int64_t span = (last - first) / s.step + 1;
  if (span > (int64_t)MV_LIMIT_EPI_SRV_DAYS) {
    first = last - (int64_t)(MV_LIMIT_EPI_SRV_DAYS - 1) * s.step;
    span = MV_LIMIT_EPI_SRV_DAYS;
  }
  s.n = (size_t)span;
  s.day = malloc(s.n * sizeof(*s.day));
  s.obs = malloc(s.n * sizeof(*s.obs));
  s.pop = r.any_pop ? malloc(s.n * sizeof(*s.pop)) : NULL;
  if (!s.day || !s.obs || (r.any_pop && !s.pop)) {
    rc = MV_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < s.n; i++) {
    s.day[i] = (int32_t)(first + (int64_t)i * s.step);
    s.obs[i] = NAN; /* a period nobody reported is missing, not zero */
    if (s.pop)
      s.pop[i] = NAN;
  }
  for (size_t i = 0; i < r.n; i++) {
    if (r.day[i] < first)
      continue;
    size_t k = (size_t)((r.day[i] - first) / s.step);
    s.obs[k] = r.obs[i];
    if (s.pop)
      s.pop[k] = r.pop[i];
  }
  *out = s;
  memset(&s, 0, sizeof(s));
out:
  epi_series_release(&s);
  free(r.day);
  free(r.obs);
  free(r.pop);
  return rc;
}

/* ---- parameters ------------------------------------------------------------ */

/* Serial intervals (mean, sd in days) of the EpiEstim examples and common
 * literature values, used until an epidemiologist sets one per disease:
 * influenza 2.6/1.5 (Cowling et al. 2011, the EpiEstim Flu2009 example),
 * measles 14.9/3.9 (Groendyke et al. 2011), SARS 8.4/3.8 (Lipsitch et al.
 * 2003), smallpox 22.4/6.1 (Gani and Leach 2001), MERS 6.8/4.1 (Cauchemez
 * et al. 2016), COVID-19 4.7/2.9 (Nishiura et al. 2020). */
static const struct {
  const char *name;
  double mean, sd;
} si_defaults[] = {
    {"influenza", 2.6, 1.5}, {"flu", 2.6, 1.5},       {"measles", 14.9, 3.9},
    {"sars", 8.4, 3.8},      {"smallpox", 22.4, 6.1}, {"mers", 6.8, 4.1},
    {"covid-19", 4.7, 2.9},  {"covid", 4.7, 2.9},
};
#define SI_GENERIC_MEAN 4.7
#define SI_GENERIC_SD 2.9

void epi_params_for(struct mv_store_epi *db, const char *disease,
                    struct epi_params *out) {
  memset(out, 0, sizeof(*out));
  out->method = MV_EPI_EARS_C1;
  out->window = EPI_RT_WINDOW;
  out->horizon = EPI_HORIZON;
  out->si_mean = SI_GENERIC_MEAN;
  out->si_sd = SI_GENERIC_SD;
  for (size_t i = 0; i < MV_ARRAY_LEN(si_defaults); i++)
    if (strcasecmp(disease, si_defaults[i].name) == 0) {
      out->si_mean = si_defaults[i].mean;
      out->si_sd = si_defaults[i].sd;
    }
  double m, sd;
  if (db && mv_store_epi_disease_get(db, disease, &m, &sd) == MV_OK) {
    out->si_mean = m;
    out->si_sd = sd;
  }
}

/* ---- JSON ------------------------------------------------------------------ */

/* A number with 6 significant digits, or null for NaN/NA. */
static struct json_object *jnum(double v) {
  char buf[32];
  if (!isfinite(v))
    return NULL;
  if (v == floor(v) && fabs(v) < 1e15)
    return json_object_new_int64((int64_t)v);
  snprintf(buf, sizeof(buf), "%.6g", v);
  return json_object_new_double_s(v, buf);
}

static struct json_object *jdate(int32_t day) {
  char buf[16];
  epi_day_text(day, buf, sizeof(buf));
  return json_object_new_string(buf);
}

static struct json_object *jalarm(enum mv_epi_alarm a) {
  return a == MV_EPI_ALARM_NA ? NULL
                              : json_object_new_boolean(a == MV_EPI_ALARM_YES);
}

/* A note for the client: what, and the library's reason when there is one. */
static void note(struct json_object *notes, const char *what,
                 const struct mv_diag *d) {
  char buf[sizeof(d->msg) + 64]; /* truncation of a long reason is fine */
  int n = snprintf(buf, sizeof(buf), "%s%s%s", what, d && d->msg[0] ? ": " : "",
                   d && d->msg[0] ? d->msg : "");
  (void)n;
  json_object_array_add(notes, json_object_new_string(buf));
}

struct json_object *epi_alert_json(const struct mv_store_epi_alert *a) {
  struct json_object *o = json_object_new_object();
  char t[40];
  json_object_object_add(o, "id", json_object_new_int64(a->id));
  json_object_object_add(o, "region", json_object_new_string(a->region));
  json_object_object_add(o, "disease", json_object_new_string(a->disease));
  json_object_object_add(o, "date", jdate(a->day));
  json_object_object_add(o, "method", json_object_new_string(a->method));
  json_object_object_add(o, "observed", json_object_new_int64(a->observed));
  json_object_object_add(o, "upperbound", jnum(a->upperbound));
  if (a->created_us > 0 && mv_time_format_rfc3339(a->created_us, t, sizeof(t)))
    json_object_object_add(o, "raised", json_object_new_string(t));
  json_object_object_add(o, "acknowledged",
                         json_object_new_boolean(a->acked_us != 0));
  if (a->acked_us) {
    json_object_object_add(o, "acknowledgedBy",
                           json_object_new_string(a->acked_by));
    if (mv_time_format_rfc3339(a->acked_us, t, sizeof(t)))
      json_object_object_add(o, "acknowledgedAt", json_object_new_string(t));
  }
  return o;
}

/* ---- one series ---------------------------------------------------------- */

/* Risk of a series for the regions table: how far the latest count is above
 * the detection threshold, (observed + 1) / (upperbound + 1), so > 1 exactly
 * when it alarms, smooth near zero counts; 0 without a threshold. */
static double risk_of(double observed, double upperbound) {
  if (!isfinite(observed) || !isfinite(upperbound) || upperbound < 0)
    return 0;
  return (observed + 1) / (upperbound + 1);
}

static int add_detection(const struct epi_series *s, const struct epi_params *p,
                         bool full, struct json_object *o,
                         struct json_object *notes, struct epi_latest *lt) {
  struct mv_epi_series es = {
      s->obs, NULL, s->day, s->n, s->step == 7 ? 52 : 365, 1};
  struct mv_epi_detect_ctl ctl;
  struct mv_epi_detect_point *pts = calloc(s->n, sizeof(*pts));
  struct mv_diag d;
  size_t n = 0;
  if (!pts)
    return MV_ENOMEM;
  mv_diag_clear(&d);
  mv_epi_detect_defaults(p->method, &ctl);
  int rc = mv_epi_detect(&es, &ctl, pts, &n, &d);
  if (rc == MV_ENOMEM) {
    free(pts);
    return rc;
  }
  if (rc != MV_OK) {
    note(notes, "no detection", &d);
    n = 0;
  }
  if (n > 0 && pts[n - 1].t == s->n) {
    lt->upperbound = pts[n - 1].upperbound;
    lt->alarm = pts[n - 1].alarm;
  }
  if (full) {
    struct json_object *arr = json_object_new_array();
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
      struct json_object *pt = json_object_new_object();
      while (k < n && pts[k].t < i + 1)
        k++;
      bool has = k < n && pts[k].t == i + 1;
      json_object_object_add(pt, "date", jdate(s->day[i]));
      json_object_object_add(pt, "observed", jnum(s->obs[i]));
      json_object_object_add(pt, "upperbound",
                             has ? jnum(pts[k].upperbound) : NULL);
      json_object_object_add(pt, "alarm", has ? jalarm(pts[k].alarm) : NULL);
      json_object_array_add(arr, pt);
    }
    json_object_object_add(o, "points", arr);
  }
  free(pts);
  return MV_OK;
}

static int add_rt(const struct epi_series *s, const struct epi_params *p,
                  bool full, struct mv_epi_qcache *qc, struct json_object *o,
                  struct json_object *notes, struct epi_latest *lt) {
  struct mv_epi_rt_opts ro = {
      .si_mean = p->si_mean, .si_sd = p->si_sd, .window = p->window};
  struct mv_epi_rt_result r;
  struct mv_diag d;
  if (s->step != 1) {
    note(notes, "no Rt: it needs daily counts", NULL);
    return MV_OK;
  }
  if (s->n < p->window + 2) {
    note(notes, "no Rt: too few days", NULL);
    return MV_OK;
  }
  mv_diag_clear(&d);
  int rc = mv_epi_rt_estimate(s->obs, NULL, s->n, &ro, qc, &r, &d);
  if (rc == MV_ENOMEM)
    return rc;
  if (rc != MV_OK) {
    note(notes, "no Rt", &d);
    return MV_OK;
  }
  if (r.n_rows > 0) {
    const struct mv_epi_rt_row *last = &r.rows[r.n_rows - 1];
    lt->rt_mean = last->mean;
    lt->rt_lower = last->q[0];
    lt->rt_upper = last->q[MV_EPI_RT_NQ - 1];
  }
  if (full) {
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; i < r.n_rows; i++) {
      const struct mv_epi_rt_row *w = &r.rows[i];
      if (isnan(w->mean))
        continue; /* before the serial interval's mean: not estimable */
      struct json_object *e = json_object_new_object();
      json_object_object_add(e, "date", jdate(s->day[w->t_end - 1]));
      json_object_object_add(e, "tStart", json_object_new_int64(w->t_start));
      json_object_object_add(e, "tEnd", json_object_new_int64(w->t_end));
      json_object_object_add(e, "mean", jnum(w->mean));
      json_object_object_add(e, "median", jnum(w->q[3]));
      json_object_object_add(e, "lower", jnum(w->q[0]));
      json_object_object_add(e, "upper", jnum(w->q[MV_EPI_RT_NQ - 1]));
      json_object_array_add(arr, e);
    }
    json_object_object_add(o, "rt", arr);
  }
  mv_epi_rt_release(&r);
  return MV_OK;
}

static int add_forecast(const struct epi_series *s, const struct epi_params *p,
                        struct json_object *o, struct json_object *notes) {
  struct mv_epi_forecast_row rows[MV_LIMIT_EPI_SRV_HORIZON];
  struct mv_diag d;
  size_t h = p->horizon < MV_LIMIT_EPI_SRV_HORIZON ? p->horizon
                                                   : MV_LIMIT_EPI_SRV_HORIZON;
  if (s->step != 1 || s->n < 8 || h == 0)
    return MV_OK;
  mv_diag_clear(&d);
  int rc = mv_epi_forecast(s->obs, NULL, s->n, p->si_mean, p->si_sd, 0, 0, h,
                           rows, NULL, NULL, &d);
  if (rc == MV_ENOMEM)
    return rc;
  if (rc != MV_OK) {
    note(notes, "no forecast", &d);
    return MV_OK;
  }
  struct json_object *arr = json_object_new_array();
  for (size_t i = 0; i < h; i++) {
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "date",
                           jdate(s->day[s->n - 1] + (int32_t)rows[i].h));
    json_object_object_add(e, "mean", jnum(rows[i].mean));
    json_object_object_add(e, "lower", jnum(rows[i].q025));
    json_object_object_add(e, "median", jnum(rows[i].q50));
    json_object_object_add(e, "upper", jnum(rows[i].q975));
    json_object_object_add(e, "bandLower", jnum(rows[i].band_lo));
    json_object_object_add(e, "bandUpper", jnum(rows[i].band_hi));
    json_object_array_add(arr, e);
  }
  json_object_object_add(o, "forecast", arr);
  return MV_OK;
}

int epi_series_json(const struct epi_series *s, const char *region,
                    const char *disease, const struct epi_params *p, bool full,
                    struct mv_epi_qcache *qc, struct json_object **out,
                    struct epi_latest *latest) {
  struct json_object *o = json_object_new_object();
  struct json_object *notes = json_object_new_array();
  struct epi_latest lt = {.day = s->day[s->n - 1],
                          .observed = s->obs[s->n - 1],
                          .upperbound = NAN,
                          .alarm = MV_EPI_ALARM_NA,
                          .rt_mean = NAN,
                          .rt_lower = NAN,
                          .rt_upper = NAN};
  int rc;
  json_object_object_add(o, "region", json_object_new_string(region));
  json_object_object_add(o, "disease", json_object_new_string(disease));
  json_object_object_add(o, "interval",
                         json_object_new_string(s->step == 7 ? "week" : "day"));
  json_object_object_add(o, "method",
                         json_object_new_string(mv_epi_method_name(p->method)));
  json_object_object_add(o, "siMean", jnum(p->si_mean));
  json_object_object_add(o, "siSd", jnum(p->si_sd));
  if ((rc = add_detection(s, p, full, o, notes, &lt)) != MV_OK ||
      (rc = add_rt(s, p, full, qc, o, notes, &lt)) != MV_OK ||
      (full && (rc = add_forecast(s, p, o, notes)) != MV_OK)) {
    json_object_put(o);
    json_object_put(notes);
    return rc;
  }
  lt.risk = risk_of(lt.observed, lt.upperbound);
  struct json_object *l = json_object_new_object();
  json_object_object_add(l, "date", jdate(lt.day));
  json_object_object_add(l, "observed", jnum(lt.observed));
  json_object_object_add(l, "upperbound", jnum(lt.upperbound));
  json_object_object_add(l, "alarm", jalarm(lt.alarm));
  json_object_object_add(l, "rtMean", jnum(lt.rt_mean));
  json_object_object_add(l, "rtLower", jnum(lt.rt_lower));
  json_object_object_add(l, "rtUpper", jnum(lt.rt_upper));
  json_object_object_add(o, "latest", l);
  json_object_object_add(o, "risk", jnum(lt.risk));
  json_object_object_add(o, "notes", notes);
  *out = o;
  if (latest)
    *latest = lt;
  return MV_OK;
}

/* ---- runs ------------------------------------------------------------------ */

struct key {
  char region[MV_STORE_EPI_NAME + 1];
  char disease[MV_STORE_EPI_NAME + 1];
};

struct keys {
  struct key *k;
  size_t n, cap;
  bool too_many, nomem;
};

static int key_visit(void *ctx, const char *region, const char *disease,
                     int64_t n_days, int32_t first, int32_t last) {
  struct keys *ks = ctx;
  (void)n_days;
  (void)first;
  (void)last;
  if (ks->n >= MV_LIMIT_EPI_SRV_SERIES) {
    ks->too_many = true;
    return 1;
  }
  if (ks->n == ks->cap) {
    size_t cap = ks->cap ? ks->cap * 2 : 64;
    struct key *k = realloc(ks->k, cap * sizeof(*k));
    if (!k) {
      ks->nomem = true;
      return 1;
    }
    ks->k = k;
    ks->cap = cap;
  }
  snprintf(ks->k[ks->n].region, sizeof(ks->k[0].region), "%s", region);
  snprintf(ks->k[ks->n].disease, sizeof(ks->k[0].disease), "%s", disease);
  ks->n++;
  return 0;
}

struct push {
  struct mv_server *srv;
  size_t len;
  char json[];
};

static void push_task(void *arg) {
  struct push *p = arg;
  int n = mv_hub_publish(p->srv, EPI_TOPIC, p->json, p->len);
  if (n < 0)
    MV_LOG_WARN("epi", "alert push failed: %s", mv_err_name(n));
  free(p);
}

void epi_push(struct mv_api *api, struct json_object *msg) {
  const char *s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
  size_t len = strlen(s);
  struct push *p = malloc(sizeof(*p) + len + 1);
  if (!p)
    return;
  p->srv = api->srv;
  p->len = len;
  memcpy(p->json, s, len + 1);
  if (mv_server_post(api->srv, push_task, p) != MV_OK)
    free(p); /* the server is stopping */
}

/* One series' outcome in a run. */
struct slot {
  char *text; /* the summary JSON, malloc'd; NULL when the series is gone */
  struct epi_latest lt;
  enum mv_epi_method method;
  int rc;
};

/* The series [lo, hi) of a run, on one thread with its own quantile memo
 * (mv_epi_qcache is per thread). Slots are disjoint between threads. */
struct part {
  struct mv_store_epi *db;
  const struct key *k;
  struct slot *slot;
  size_t lo, hi;
};

static void *compute_part(void *arg) {
  struct part *P = arg;
  struct mv_epi_qcache *qc = NULL;
  struct epi_params cur;
  memset(&cur, 0, sizeof(cur));
  if (mv_epi_qcache_new(&qc) != MV_OK)
    qc = NULL; /* slower, still right */
  for (size_t i = P->lo; i < P->hi; i++) {
    struct slot *sl = &P->slot[i];
    struct epi_series s;
    struct epi_params p;
    struct json_object *j = NULL;
    /* Keys come in disease order: look each disease's settings up once. */
    if (i == P->lo || strcmp(P->k[i].disease, P->k[i - 1].disease) != 0)
      epi_params_for(P->db, P->k[i].disease, &cur);
    p = cur;
    sl->method = p.method;
    sl->rc = epi_series_load(P->db, P->k[i].region, P->k[i].disease, &s);
    if (sl->rc == MV_ENOTFOUND) {
      sl->rc = MV_OK; /* deleted meanwhile: nothing to summarise */
      continue;
    }
    if (sl->rc != MV_OK)
      break;
    sl->rc = epi_series_json(&s, P->k[i].region, P->k[i].disease, &p, false, qc,
                             &j, &sl->lt);
    epi_series_release(&s);
    if (sl->rc != MV_OK)
      break;
    sl->text =
        strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
    json_object_put(j);
    if (!sl->text) {
      sl->rc = MV_ENOMEM;
      break;
    }
  }
  mv_epi_qcache_free(qc);
  return NULL;
}

/* Series per run before a second thread is worth starting. */
#define EPI_PARALLEL_MIN 32

int epi_run_all(struct mv_api *api, int64_t now_us, size_t *out_series,
                size_t *out_alerts, struct mv_diag *diag) {
  struct api_epi *E = api->epi;
  struct keys ks = {0};
  struct slot *slots = NULL;
  struct mv_store_epi_summary *sums = NULL;
  struct mv_store_epi_alert *alerts = NULL;
  size_t n_sums = 0, n_alerts = 0, n_new = 0;
  int rc;
  if (!E || !E->db)
    return mv_diag_set(diag, MV_ECONFIG, "surveillance storage is off");
  pthread_mutex_lock(&E->run_mu);
  rc = mv_store_epi_keys(E->db, NULL, key_visit, &ks);
  if (rc == MV_OK && (ks.too_many || ks.nomem))
    rc = ks.nomem ? MV_ENOMEM : MV_ETOOBIG;
  if (rc != MV_OK) {
    mv_diag_set(diag, rc, "cannot list the series");
    goto out;
  }
  slots = calloc(ks.n + 1, sizeof(*slots));
  sums = calloc(ks.n + 1, sizeof(*sums));
  alerts = calloc(ks.n + 1, sizeof(*alerts));
  if (!slots || !sums || !alerts) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  /* The computation is independent per series: the second half on a
   * thread of its own, so a run uses both cores of a small machine. */
  {
    struct part a = {E->db, ks.k, slots, 0, ks.n}, b = a;
    pthread_t th;
    bool two = false;
    if (ks.n >= EPI_PARALLEL_MIN) {
      a.hi = b.lo = ks.n / 2;
      two = pthread_create(&th, NULL, compute_part, &b) == 0;
      if (!two)
        a.hi = ks.n;
    }
    compute_part(&a);
    if (two)
      pthread_join(th, NULL);
  }
  for (size_t i = 0; i < ks.n; i++) {
    const struct key *k = &ks.k[i];
    struct slot *sl = &slots[i];
    if (sl->rc != MV_OK) {
      rc = mv_diag_set(diag, sl->rc, "cannot compute a series");
      goto out;
    }
    if (!sl->text)
      continue;
    sums[n_sums++] = (struct mv_store_epi_summary){k->region, k->disease,
                                                   sl->lt.risk, sl->text};
    if (sl->lt.alarm == MV_EPI_ALARM_YES) {
      struct mv_store_epi_alert *a = &alerts[n_alerts++];
      snprintf(a->region, sizeof(a->region), "%s", k->region);
      snprintf(a->disease, sizeof(a->disease), "%s", k->disease);
      snprintf(a->method, sizeof(a->method), "%s",
               mv_epi_method_name(sl->method));
      a->day = sl->lt.day;
      a->observed = (int64_t)sl->lt.observed;
      a->upperbound = sl->lt.upperbound;
    }
  }
  rc = mv_store_epi_save_run(E->db, sums, n_sums, alerts, n_alerts, now_us);
  if (rc != MV_OK) {
    mv_diag_set(diag, rc, "cannot save the run");
    goto out;
  }
  for (size_t i = 0; i < n_alerts; i++) {
    if (alerts[i].id <= 0)
      continue; /* raised by an earlier run */
    struct json_object *m = json_object_new_object();
    json_object_object_add(m, "type", json_object_new_string("alert"));
    json_object_object_add(m, "alert", epi_alert_json(&alerts[i]));
    epi_push(api, m);
    json_object_put(m);
    n_new++;
  }
  {
    struct json_object *m = json_object_new_object();
    json_object_object_add(m, "type", json_object_new_string("run"));
    json_object_object_add(m, "series", json_object_new_int64((int64_t)n_sums));
    json_object_object_add(m, "newAlerts",
                           json_object_new_int64((int64_t)n_new));
    epi_push(api, m);
    json_object_put(m);
  }
  MV_LOG_INFO("epi", "surveillance run: %zu series, %zu new alerts", n_sums,
              n_new);
  if (out_series)
    *out_series = n_sums;
  if (out_alerts)
    *out_alerts = n_new;
out:
  pthread_mutex_unlock(&E->run_mu);
  if (slots)
    for (size_t i = 0; i < ks.n; i++)
      free(slots[i].text);
  free(slots);
  free(sums);
  free(alerts);
  free(ks.k);
  return rc;
}

/* ---- the schedule ----------------------------------------------------------- */

static void scheduled_job(void *arg) {
  struct mv_api *api = arg;
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = epi_run_all(api, mv_clock_now_us(api->clock), NULL, NULL, &d);
  if (rc != MV_OK)
    MV_LOG_WARN("epi", "scheduled surveillance run failed: %s (%s)",
                mv_err_name(rc), d.msg);
  atomic_store(&api->epi->running, false);
}

static void on_timer(uv_timer_t *t) {
  struct mv_api *api = t->data;
  struct api_epi *E = api->epi;
  /* Skip a tick while the last scheduled run is still going (never block
   * the loop on the run lock). */
  if (atomic_exchange(&E->running, true))
    return;
  if (mv_pool_submit(api->pool, scheduled_job, api) != MV_OK) {
    MV_LOG_WARN("epi", "scheduled surveillance run skipped: pool busy");
    atomic_store(&E->running, false);
  }
}

static void on_shutdown(void *ctx) {
  struct api_epi *E = ctx;
  if (E->timer_on) {
    uv_timer_stop(&E->timer);
    uv_close((uv_handle_t *)&E->timer, NULL);
    E->timer_on = false;
  }
}

int epi_schedule_start(struct mv_api *api, struct mv_diag *diag) {
  struct api_epi *E = api->epi;
  int rc;
  if (!E->db || E->interval_s == 0)
    return MV_OK;
  /* The first run at the next instant t with (t - run_at) a multiple of the
   * interval (epoch-aligned: daily at run_at after midnight UTC), then
   * every interval. */
  int64_t now_ms = mv_clock_now_us(api->clock) / 1000;
  int64_t iv_ms = (int64_t)E->interval_s * 1000;
  int64_t off_ms = (int64_t)E->run_at_s * 1000 % iv_ms;
  int64_t phase = ((now_ms - off_ms) % iv_ms + iv_ms) % iv_ms;
  uint64_t first = (uint64_t)(iv_ms - phase);
  if (uv_timer_init(mv_server_loop(api->srv), &E->timer) != 0)
    return mv_diag_set(diag, MV_EIO, "cannot create the surveillance timer");
  E->timer.data = api;
  E->timer_on = true;
  if ((rc = mv_server_on_shutdown(api->srv, on_shutdown, E)) != MV_OK) {
    on_shutdown(E);
    return mv_diag_set(diag, rc, "cannot register the surveillance timer");
  }
  uv_timer_start(&E->timer, on_timer, first, (uint64_t)iv_ms);
  MV_LOG_INFO("epi", "surveillance runs every %u s, next in %llu s",
              E->interval_s, (unsigned long long)(first / 1000));
  return MV_OK;
}

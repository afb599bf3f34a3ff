/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface of the surveillance part of the api module: epi.c
 * (routes, access, alerts, sharing export), epi_upload.c (case counts from
 * CSV and FHIR MeasureReport) and epi_run.c (series, detection, Rt and
 * forecast through src/epi, the scheduled and on-demand runs, live pushes).
 */
#ifndef MV_API_EPI_INT_H
#define MV_API_EPI_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <uv.h>

#include "api_int.h"
#include "mv_epi.h"
#include "mv_epi_detect.h"

/* The hub topic alerts are pushed on. */
#define EPI_TOPIC "surveillance"
/* Counts below this are suppressed in the sharing export (1..4). */
#define EPI_SHARE_MIN_COUNT 5
/* Sliding Rt window (days) and forecast horizon (days) by default. */
#define EPI_RT_WINDOW 7u
#define EPI_HORIZON 14u

struct api_epi {
  struct mv_store_epi *db; /* NULL when no store url was configured */
  /* The scheduled run: a timer on the loop posting a job to the pool. */
  uv_timer_t timer;
  bool timer_on;
  unsigned interval_s;    /* 0 = no scheduled runs */
  unsigned run_at_s;      /* offset of the schedule from midnight UTC */
  pthread_mutex_t run_mu; /* one run at a time */
  atomic_bool running;    /* a scheduled run is queued or going */
};

/* What a computation of one series needs. */
struct epi_params {
  enum mv_epi_method method;
  double si_mean, si_sd; /* days */
  size_t window;         /* Rt sliding window, days */
  size_t horizon;        /* forecast days */
};

/* One (region, disease) series on a regular grid of days (step 1 or 7),
 * missing periods NAN. Arrays malloc'd; epi_series_release frees them. */
struct epi_series {
  size_t n;
  int step; /* 1 daily, 7 weekly */
  int32_t *day;
  double *obs;
  double *pop; /* NULL when no count carried a population */
};
void epi_series_release(struct epi_series *s);
/* Read the series of region/disease (MV_ENOTFOUND when it has no counts),
 * keeping the last MV_LIMIT_EPI_SRV_DAYS periods. */
int epi_series_load(struct mv_store_epi *db, const char *region,
                    const char *disease, struct epi_series *out);

/* The latest point of a computed series, for summaries and alerts. */
struct epi_latest {
  int32_t day;
  double observed, upperbound;
  enum mv_epi_alarm alarm;
  double rt_mean, rt_lower, rt_upper; /* NAN when not estimable */
  double risk;
};

/* Compute detection, Rt and the forecast of s and describe them as JSON
 * (returned, caller releases with json_object_put); latest (may be NULL)
 * gets the latest point. full false: the summary only. qc (may be NULL)
 * speeds up Rt; it belongs to the calling thread. */
int epi_series_json(const struct epi_series *s, const char *region,
                    const char *disease, const struct epi_params *p, bool full,
                    struct mv_epi_qcache *qc, struct json_object **out,
                    struct epi_latest *latest);

/* The parameters for a disease: the stored serial interval, else the
 * built-in default for known diseases, else a generic one. */
void epi_params_for(struct mv_store_epi *db, const char *disease,
                    struct epi_params *out);

/* Run detection and Rt on every series, save the summaries and alerts, and
 * push new alerts. Any thread but the loop's. out_series / out_alerts (may
 * be NULL) get the series computed and the new alerts raised. */
int epi_run_all(struct mv_api *api, int64_t now_us, size_t *out_series,
                size_t *out_alerts, struct mv_diag *diag);
/* Start the scheduled runs (loop thread, before the server runs). */
int epi_schedule_start(struct mv_api *api, struct mv_diag *diag);

/* Publish msg (borrowed; serialised now) on the hub topic, from any
 * thread: the publish itself runs on the loop thread. Best effort. */
void epi_push(struct mv_api *api, struct json_object *msg);
/* An alert as JSON (returned, caller releases with json_object_put). */
struct json_object *epi_alert_json(const struct mv_store_epi_alert *a);
/* A day as "YYYY-MM-DD" into buf (>= 11 bytes). */
void epi_day_text(int32_t day, char *buf, size_t len);

/* epi_upload.c: parse an upload (text/csv or FHIR MeasureReport / Bundle)
 * into counts (*out returned, caller frees with free(); may be NULL when
 * *out_n is 0). On a content error answers q with an OperationOutcome
 * naming the failing place and returns non-zero (nothing to free). */
int epi_upload_parse(struct api_req *q, const char *ctype,
                     struct mv_store_epi_count **out, size_t *out_n);

#endif

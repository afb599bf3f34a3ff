/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Case-count uploads for surveillance: the long CSV layout of the shared
 * datasets (date or t, unit or region, observed, optional population and
 * disease) and FHIR R4 MeasureReport (one, or a Bundle of them), turned into
 * rows of (site, region, disease, day, observed, population). Everything
 * used is validated; an error names its place (CSV line and column, or the
 * FHIRPath of the element) in an OperationOutcome, and nothing is stored.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "epi_int.h"
#include "mv_csv.h"
#include "mv_json.h"
#include "mv_limits.h"

struct rows {
  struct mv_store_epi_count *c;
  size_t *line; /* CSV line or Bundle entry of each row, for duplicates */
  size_t n, cap;
};

/* Rows are malloc'd (an upload may hold MV_LIMIT_EPI_SRV_UPLOAD_ROWS of
 * them, more than a request arena), grown by doubling. */
static int rows_add(struct rows *r, struct mv_store_epi_count **out) {
  if (r->n >= MV_LIMIT_EPI_SRV_UPLOAD_ROWS)
    return MV_ETOOBIG;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 256;
    if (cap > MV_LIMIT_EPI_SRV_UPLOAD_ROWS)
      cap = MV_LIMIT_EPI_SRV_UPLOAD_ROWS;
    struct mv_store_epi_count *c = realloc(r->c, cap * sizeof(*c));
    if (!c)
      return MV_ENOMEM;
    r->c = c;
    size_t *line = realloc(r->line, cap * sizeof(*line));
    if (!line)
      return MV_ENOMEM;
    r->line = line;
    r->cap = cap;
  }
  *out = &r->c[r->n];
  memset(*out, 0, sizeof(**out));
  r->line[r->n] = 0;
  r->n++;
  return MV_OK;
}

/* A count: a non-negative integer written in decimal digits. */
static bool parse_count(const char *s, int64_t *out) {
  int64_t v = 0;
  if (!*s)
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 100000000000LL)
      return false;
    v = v * 10 + (*s - '0');
  }
  *out = v;
  return true;
}

static bool parse_population(const char *s, double *out) {
  char *end;
  if (!*s || strcmp(s, "NA") == 0) {
    *out = NAN;
    return true;
  }
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !isfinite(v) || v <= 0)
    return false;
  *out = v;
  return true;
}

static bool copy_name(char *dst, size_t cap, const char *s) {
  if (!mv_store_epi_name_ok(s))
    return false;
  snprintf(dst, cap, "%s", s);
  return true;
}

/* The uploading site: ?site=, else the account's organisation, else
 * "local". */
static const char *site_of(struct api_req *q) {
  const char *s = mv_http_query(q->x, "site");
  if (s)
    return s;
  return q->who.org_id[0] ? q->who.org_id : "local";
}

struct dup_key {
  const struct mv_store_epi_count *c;
  size_t line;
};

static int dup_cmp(const void *a, const void *b) {
  const struct mv_store_epi_count *x = ((const struct dup_key *)a)->c;
  const struct mv_store_epi_count *y = ((const struct dup_key *)b)->c;
  int r = strcmp(x->region, y->region);
  if (!r)
    r = strcmp(x->disease, y->disease);
  if (!r)
    r = (x->day > y->day) - (x->day < y->day);
  return r;
}

/* Two rows for the same (region, disease, day) in one upload are
 * ambiguous: refuse rather than keep either. */
static int check_duplicates(struct api_req *q, const struct rows *r, bool csv) {
  struct dup_key *k;
  if (r->n < 2)
    return 0;
  if (!(k = malloc(r->n * sizeof(*k)))) {
    api_fail(q, 503, "transient", NULL, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < r->n; i++)
    k[i] = (struct dup_key){&r->c[i], r->line[i]};
  qsort(k, r->n, sizeof(*k), dup_cmp);
  for (size_t i = 1; i < r->n; i++)
    if (dup_cmp(&k[i - 1], &k[i]) == 0) {
      size_t a = k[i - 1].line < k[i].line ? k[i - 1].line : k[i].line;
      size_t b = k[i - 1].line < k[i].line ? k[i].line : k[i - 1].line;
      if (csv)
        api_fail(q, 400, "duplicate", mv_arena_printf(q->a, "line %zu", b),
                 "line %zu repeats the region, disease and date of line %zu", b,
                 a);
      else
        api_fail(q, 400, "duplicate",
                 mv_arena_printf(q->a, "Bundle.entry[%zu]", b),
                 "entry %zu repeats the region, disease and period of entry "
                 "%zu",
                 b, a);
      free(k);
      return -1;
    }
  free(k);
  return 0;
}

/* ---- CSV ----------------------------------------------------------------- */

static int csv_fail(struct api_req *q, size_t line, const char *col,
                    const char *what) {
  api_fail(q, 400, "invalid",
           col ? mv_arena_printf(q->a, "line %zu, column %s", line, col)
               : mv_arena_printf(q->a, "line %zu", line),
           "line %zu: %s%s%s", line, col ? col : "", col ? ": " : "", what);
  return -1;
}

static int parse_csv(struct api_req *q, struct rows *r) {
  struct mv_csv *csv = NULL;
  struct mv_diag d;
  char **f;
  size_t n, line;
  long c_date, c_t, c_unit, c_obs, c_pop, c_dis;
  const char *q_disease = mv_http_query(q->x, "disease");
  const char *q_start = mv_http_query(q->x, "start");
  const char *q_interval = mv_http_query(q->x, "interval");
  const char *site = site_of(q);
  const char *unit_col = "unit";
  int32_t start = 0;
  int step = 1, rc = -1;

  const char *bad = NULL, *why = NULL;
  if (!mv_store_epi_name_ok(site))
    bad = "site", why = "site must be 1 to 64 printable bytes";
  else if (q_disease && !mv_store_epi_name_ok(q_disease))
    bad = "disease", why = "disease must be 1 to 64 printable bytes";
  else if (q_interval && strcmp(q_interval, "day") != 0 &&
           strcmp(q_interval, "week") != 0)
    bad = "interval", why = "interval must be day or week";
  else if (q_start && mv_epi_parse_date(q_start, &start) != MV_OK)
    bad = "start", why = "start must be a date YYYY-MM-DD";
  if (bad) {
    api_fail(q, 400, "invalid", bad, "%s", why);
    return -1;
  }
  if (q_interval && strcmp(q_interval, "week") == 0)
    step = 7;
  mv_diag_clear(&d);
  if (mv_csv_open_mem(q->r->body, q->r->body_len, &csv) != MV_OK) {
    api_fail(q, 503, "transient", NULL, "out of memory");
    goto out;
  }
  int crc = mv_csv_next(csv, &f, &n, &d);
  if (crc != MV_OK) {
    csv_fail(q, crc == MV_ENOTFOUND ? 1 : d.line, NULL,
             crc == MV_ENOTFOUND ? "empty upload: a header line is required"
                                 : d.msg);
    goto out;
  }
  c_date = mv_csv_find(f, n, "date");
  c_t = mv_csv_find(f, n, "t");
  c_unit = mv_csv_find(f, n, "unit");
  if (c_unit < 0) {
    c_unit = mv_csv_find(f, n, "region");
    unit_col = "region";
  }
  c_obs = mv_csv_find(f, n, "observed");
  c_pop = mv_csv_find(f, n, "population");
  c_dis = mv_csv_find(f, n, "disease");
  if (c_obs < 0 || c_unit < 0 || (c_date < 0 && c_t < 0)) {
    csv_fail(q, 1, NULL,
             "the header needs observed, unit (or region), and date (or t)");
    goto out;
  }
  if (c_date < 0 && !q_start) {
    csv_fail(q, 1, "t",
             "rows without a date need ?start=YYYY-MM-DD (the date of t=1)");
    goto out;
  }
  if (c_dis < 0 && !q_disease) {
    csv_fail(q, 1, NULL, "name the disease: a disease column or ?disease=NAME");
    goto out;
  }
  while ((crc = mv_csv_next(csv, &f, &n, &d)) == MV_OK) {
    struct mv_store_epi_count *c;
    line = mv_csv_line(csv);
    if ((c_date >= 0 && (size_t)c_date >= n) ||
        (c_t >= 0 && (size_t)c_t >= n) || (size_t)c_unit >= n ||
        (size_t)c_obs >= n || (c_pop >= 0 && (size_t)c_pop >= n) ||
        (c_dis >= 0 && (size_t)c_dis >= n)) {
      csv_fail(q, line, NULL, "too few fields");
      goto out;
    }
    const char *obs = f[c_obs];
    if (strcmp(obs, "NA") == 0 || !*obs)
      continue; /* a missing count is not a zero */
    int arc = rows_add(r, &c);
    if (arc != MV_OK) {
      if (arc == MV_ETOOBIG)
        api_fail(q, 413, "too-costly", NULL, "more than %u rows in one upload",
                 (unsigned)MV_LIMIT_EPI_SRV_UPLOAD_ROWS);
      else
        api_fail(q, 503, "transient", NULL, "out of memory");
      goto out;
    }
    r->line[r->n - 1] = line;
    snprintf(c->site, sizeof(c->site), "%s", site);
    if (!parse_count(obs, &c->observed)) {
      csv_fail(q, line, "observed", "not a non-negative integer count");
      goto out;
    }
    if (!copy_name(c->region, sizeof(c->region), f[c_unit])) {
      csv_fail(q, line, unit_col, "region names are 1 to 64 printable bytes");
      goto out;
    }
    if (!copy_name(c->disease, sizeof(c->disease),
                   c_dis >= 0 ? f[c_dis] : q_disease)) {
      csv_fail(q, line, "disease", "disease names are 1 to 64 printable bytes");
      goto out;
    }
    if (c_date >= 0) {
      if (mv_epi_parse_date(f[c_date], &c->day) != MV_OK) {
        csv_fail(q, line, "date", "not a date YYYY-MM-DD");
        goto out;
      }
    } else {
      int64_t t;
      if (!parse_count(f[c_t], &t) || t < 1 || t > MV_LIMIT_EPI_SRV_DAYS * 7) {
        csv_fail(q, line, "t", "not a time index 1, 2, ...");
        goto out;
      }
      c->day = start + (int32_t)(t - 1) * step;
    }
    if (!parse_population(c_pop >= 0 ? f[c_pop] : "", &c->population)) {
      csv_fail(q, line, "population", "not a positive number");
      goto out;
    }
  }
  if (crc != MV_ENOTFOUND) {
    csv_fail(q, d.line, NULL, d.msg);
    goto out;
  }
  rc = check_duplicates(q, r, true);
out:
  mv_csv_free(csv);
  return rc;
}

/* ---- FHIR MeasureReport ------------------------------------------------ */

struct mr_err {
  const char *path;
  const char *msg;
};

static struct json_object *member(struct json_object *o, const char *k) {
  struct json_object *v = NULL;
  if (o && json_object_is_type(o, json_type_object))
    json_object_object_get_ex(o, k, &v);
  return v;
}

static const char *str_member(struct json_object *o, const char *k) {
  struct json_object *v = member(o, k);
  return v && json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : NULL;
}

/* The name in a Reference: display, else identifier.value. */
static const char *ref_name(struct json_object *ref) {
  const char *s = str_member(ref, "display");
  return s ? s : str_member(member(ref, "identifier"), "value");
}

/* A CodeableConcept's name: text, else coding[0].code. */
static const char *concept_name(struct json_object *cc) {
  const char *s = str_member(cc, "text");
  struct json_object *coding = member(cc, "coding");
  if (s)
    return s;
  if (coding && json_object_is_type(coding, json_type_array) &&
      json_object_array_length(coding) > 0)
    return str_member(json_object_array_get_idx(coding, 0), "code");
  return NULL;
}

#define MR_FAIL(p, m)                                                          \
  do {                                                                         \
    e->path = (p);                                                             \
    e->msg = (m);                                                              \
    return -1;                                                                 \
  } while (0)

/* One MeasureReport at path base ("MeasureReport" or
 * "Bundle.entry[i].resource"): one row per group. */
static int parse_report(struct api_req *q, struct json_object *mr,
                        const char *base, size_t entry, struct rows *r,
                        struct mr_err *e) {
  const char *rt = str_member(mr, "resourceType");
  const char *status = str_member(mr, "status");
  const char *start = str_member(member(mr, "period"), "start");
  const char *region = ref_name(member(mr, "subject"));
  const char *site = ref_name(member(mr, "reporter"));
  struct json_object *groups = member(mr, "group");
  int32_t day;
  struct mv_arena *a = q->a;

  if (!rt || strcmp(rt, "MeasureReport") != 0)
    MR_FAIL(mv_arena_printf(a, "%s.resourceType", base),
            "expected a MeasureReport");
  if (!status ||
      (strcmp(status, "complete") != 0 && strcmp(status, "pending") != 0 &&
       strcmp(status, "error") != 0))
    MR_FAIL(mv_arena_printf(a, "%s.status", base),
            "status is required: complete, pending or error");
  if (strcmp(status, "complete") != 0)
    return 0; /* not final: nothing to count */
  if (!start || strlen(start) < 10 ||
      mv_epi_parse_date(mv_arena_strndup(a, start, 10), &day) != MV_OK ||
      (start[10] && start[10] != 'T'))
    MR_FAIL(mv_arena_printf(a, "%s.period.start", base),
            "period.start must be a date (YYYY-MM-DD)");
  if (!region || !mv_store_epi_name_ok(region))
    MR_FAIL(mv_arena_printf(a, "%s.subject", base),
            "subject.display (or subject.identifier.value) must name the "
            "region in 1 to 64 printable bytes");
  if (!site)
    site = site_of(q);
  if (!mv_store_epi_name_ok(site))
    MR_FAIL(mv_arena_printf(a, "%s.reporter", base),
            "reporter must name the site in 1 to 64 printable bytes");
  if (!groups || !json_object_is_type(groups, json_type_array) ||
      json_object_array_length(groups) == 0)
    MR_FAIL(mv_arena_printf(a, "%s.group", base),
            "at least one group (one disease's count) is required");
  for (size_t g = 0; g < json_object_array_length(groups); g++) {
    struct json_object *grp = json_object_array_get_idx(groups, g);
    const char *disease = concept_name(member(grp, "code"));
    struct json_object *score = member(grp, "measureScore");
    struct json_object *val = member(score, "value");
    struct json_object *pops = member(grp, "population");
    struct mv_store_epi_count *c;
    double pop = NAN;
    if (!disease || !mv_store_epi_name_ok(disease))
      MR_FAIL(mv_arena_printf(a, "%s.group[%zu].code", base, g),
              "group.code (text or coding[0].code) must name the disease");
    if (!score)
      MR_FAIL(mv_arena_printf(a, "%s.group[%zu].measureScore", base, g),
              "measureScore (the case count) is required");
    if (!val ||
        !(json_object_is_type(val, json_type_int) ||
          json_object_is_type(val, json_type_double)) ||
        json_object_get_double(val) < 0 || json_object_get_double(val) > 1e11 ||
        json_object_get_double(val) != floor(json_object_get_double(val)))
      MR_FAIL(mv_arena_printf(a, "%s.group[%zu].measureScore.value", base, g),
              "measureScore.value must be a non-negative integer count");
    if (pops && json_object_is_type(pops, json_type_array))
      for (size_t k = 0; k < json_object_array_length(pops); k++) {
        struct json_object *p = json_object_array_get_idx(pops, k);
        const char *code = concept_name(member(p, "code"));
        struct json_object *cnt = member(p, "count");
        if (!code || strcmp(code, "denominator") != 0)
          continue;
        if (!cnt || !json_object_is_type(cnt, json_type_int) ||
            json_object_get_int64(cnt) <= 0)
          MR_FAIL(mv_arena_printf(a, "%s.group[%zu].population[%zu].count",
                                  base, g, k),
                  "the denominator count must be a positive integer");
        pop = (double)json_object_get_int64(cnt);
      }
    int arc = rows_add(r, &c);
    if (arc != MV_OK)
      MR_FAIL(NULL, arc == MV_ETOOBIG ? "too many counts in one upload"
                                      : "out of memory");
    r->line[r->n - 1] = entry;
    snprintf(c->site, sizeof(c->site), "%s", site);
    snprintf(c->region, sizeof(c->region), "%s", region);
    snprintf(c->disease, sizeof(c->disease), "%s", disease);
    c->day = day;
    c->observed = (int64_t)json_object_get_double(val);
    c->population = pop;
  }
  return 0;
}

static int parse_fhir(struct api_req *q, struct rows *r) {
  struct json_object *root = NULL;
  struct mr_err e = {NULL, NULL};
  int rc = -1;
  if (mv_json_parse(q->r->body, q->r->body_len, &root, NULL) != MV_OK ||
      !json_object_is_type(root, json_type_object)) {
    api_fail(q, 400, "structure", NULL, "the body is not a JSON object");
    goto out;
  }
  const char *rt = str_member(root, "resourceType");
  if (rt && strcmp(rt, "Bundle") == 0) {
    struct json_object *entries = member(root, "entry");
    if (!entries || !json_object_is_type(entries, json_type_array) ||
        json_object_array_length(entries) == 0) {
      api_fail(q, 400, "required", "Bundle.entry",
               "the Bundle holds no MeasureReport");
      goto out;
    }
    for (size_t i = 0; i < json_object_array_length(entries); i++) {
      struct json_object *res =
          member(json_object_array_get_idx(entries, i), "resource");
      if (parse_report(q, res,
                       mv_arena_printf(q->a, "Bundle.entry[%zu].resource", i),
                       i, r, &e) != 0)
        break;
    }
  } else {
    (void)parse_report(q, root, "MeasureReport", 0, r, &e);
  }
  if (e.msg) {
    api_fail(q, e.path ? 400 : 413, e.path ? "invalid" : "too-costly", e.path,
             "%s", e.msg);
    goto out;
  }
  rc = check_duplicates(q, r, false);
out:
  json_object_put(root);
  return rc;
}

static bool ctype_is(const char *ct, const char *want) {
  size_t n = strlen(want);
  while (ct && *ct == ' ')
    ct++;
  return ct && strncasecmp(ct, want, n) == 0 &&
         (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int epi_upload_parse(struct api_req *q, const char *ctype,
                     struct mv_store_epi_count **out, size_t *out_n) {
  struct rows r = {0};
  int rc;
  if (ctype_is(ctype, "text/csv"))
    rc = parse_csv(q, &r);
  else if (ctype_is(ctype, "application/fhir+json") ||
           ctype_is(ctype, "application/json"))
    rc = parse_fhir(q, &r);
  else {
    api_fail(q, 415, "not-supported", NULL,
             "send text/csv or application/fhir+json (MeasureReport)");
    return -1;
  }
  free(r.line);
  if (rc != 0) {
    free(r.c);
    return rc;
  }
  *out = r.c;
  *out_n = r.n;
  return 0;
}

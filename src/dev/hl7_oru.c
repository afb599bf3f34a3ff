/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ORU^R01 to device observations, after IHE PCD TF-2 (PCD-01): PID-3 names
 * the patient, OBR-7 and OBX-14 the time, OBX-3 the code (IEEE 11073-10101
 * "MDC" or LOINC "LN"), OBX-6 the unit (MDC dimension or UCUM), OBX-5 the
 * value (NM, or SN with no comparator), OBX-11 the result status and OBX-8
 * the measurement status. OBX rows that carry no measurement (the MDS/VMD/
 * channel containment rows of PCD-01, text values) are skipped. The first
 * problem found ends decoding with its ERR location (HL7 table 0357).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hl7_int.h"
#include "mv_clin.h"
#include "mv_limits.h"

struct oru {
  const struct hl7_msg *m;
  struct mv_arena *a;
  struct mv_hl7_result *r;
  const char *patient; /* current PID-3, NULL before a PID */
  unsigned pid_seq;
  bool in_obr;
  int64_t obr_t_us; /* OBR-7, -1 when absent */
  size_t cap;
};

#define FAIL(o, code, s, f, c, ...)                                            \
  (mv_hl7_error_set(&(o)->r->err, code, (s)->id, (s)->seq, f, c, __VA_ARGS__), \
   MV_EINVALID)

static bool fhir_id_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > MV_LIMIT_ID_LEN)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return false;
  }
  return true;
}

/* HL7 NM: optional sign, digits, optional decimal point and digits. */
static bool parse_nm(const char *s, double *out) {
  size_t i = 0, nd = 0;
  while (s[i] == ' ')
    i++;
  size_t start = i;
  if (s[i] == '+' || s[i] == '-')
    i++;
  while (s[i] >= '0' && s[i] <= '9')
    i++, nd++;
  if (s[i] == '.') {
    i++;
    while (s[i] >= '0' && s[i] <= '9')
      i++, nd++;
  }
  size_t end = i;
  while (s[i] == ' ')
    i++;
  if (nd == 0 || s[i] != 0 || end - start > 64)
    return false;
  char tmp[72];
  memcpy(tmp, s + start, end - start);
  tmp[end - start] = 0;
  double v = strtod(tmp, NULL);
  if (!isfinite(v))
    return false;
  *out = v;
  return true;
}

static const char *get(struct oru *o, const struct hl7_seg *s, unsigned f,
                       unsigned c) {
  const char *v = mv__hl7_get(o->m, s, f, c, o->a);
  return v ? v : "";
}

static int on_pid(struct oru *o, const struct hl7_seg *s) {
  const char *id = get(o, s, 3, 1);
  if (!*id)
    return FAIL(o, MV_HL7_E_REQUIRED, s, 3, 1,
                "PID-3 patient identifier is missing");
  if (!fhir_id_ok(id))
    return FAIL(o, MV_HL7_E_DATATYPE, s, 3, 1,
                "PID-3.1 is not a valid patient id (1-64 of A-Z a-z 0-9 - .)");
  o->patient = id;
  o->pid_seq = s->seq;
  o->in_obr = false;
  return MV_OK;
}

static int on_obr(struct oru *o, const struct hl7_seg *s) {
  if (!o->patient)
    return FAIL(o, MV_HL7_E_SEQUENCE, s, 0, 0, "OBR before any PID segment");
  o->in_obr = true;
  o->obr_t_us = -1;
  struct hl7_slice t = mv__hl7_comp(o->m, mv__hl7_field(s, 7), 1);
  if (t.n && mv_hl7_ts_parse(t.p, t.n, &o->obr_t_us) != MV_OK)
    return FAIL(o, MV_HL7_E_DATATYPE, s, 7, 1,
                "OBR-7 is not a date-time with minutes and a UTC offset");
  return MV_OK;
}

static bool is_mdc(const char *sys) {
  return strcmp(sys, "MDC") == 0 || strcmp(sys, MV_CLIN_MDC_SYSTEM) == 0;
}

static bool all_digits(const char *s) {
  if (!*s || strlen(s) > 9)
    return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

/* One CWE triple (id, text, system) of OBX-3 to a table entry. */
static const struct mv_clin_code *code_of(const char *id, const char *text,
                                          const char *sys) {
  const struct mv_clin_code *c = NULL;
  if (is_mdc(sys)) {
    if (all_digits(id))
      c = mv_clin_by_mdc_code((uint32_t)strtoul(id, NULL, 10));
    if (!c && *id)
      c = mv_clin_by_mdc_ref(id);
    if (!c && *text)
      c = mv_clin_by_mdc_ref(text);
  } else if (strcmp(sys, "LN") == 0 || strcmp(sys, "LOINC") == 0) {
    c = mv_clin_by_loinc(id);
  } else if (!*sys && *id) {
    c = mv_clin_lookup(id);
  }
  return c;
}

static const char *unit_of(const char *id, const char *text, const char *sys) {
  const char *u = NULL;
  if (is_mdc(sys)) {
    if (all_digits(id))
      u = mv_clin_unit_by_mdc_code((uint32_t)strtoul(id, NULL, 10));
    if (!u && *id)
      u = mv_clin_unit_by_mdc_ref(id);
    if (!u && *text)
      u = mv_clin_unit_by_mdc_ref(text);
  } else {
    if (*id)
      u = mv_clin_unit_normalize(id);
    if (!u && *text)
      u = mv_clin_unit_normalize(text);
  }
  return u;
}

/* OBX-8: IEEE 11073 MeasurementStatus words (PCD TF-2) mark the value as
 * questionable. The clinical abnormal flags of table 0078 (L, H, LL, HH, A,
 * AA, ...) describe the patient, not the data: they do not change quality,
 * or a real tachycardia would be skipped by the scores. */
static uint32_t quality_of(struct oru *o, const struct hl7_seg *s) {
  static const char *const bad[] = {
      "invalid",   "questionable", "not-available", "calibration-ongoing",
      "test-data", "demo-data",    "msmt-ongoing",  "early-indication",
  };
  struct hl7_slice f = mv__hl7_field(s, 8);
  uint32_t q = 0;
  for (unsigned r = 0; r < 32; r++) {
    struct hl7_slice rep = mv__hl7_rep(o->m, f, r);
    if (rep.p == f.p + f.n && r > 0)
      break;
    struct hl7_slice c = mv__hl7_comp(o->m, rep, 1);
    for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++)
      if (c.n == strlen(bad[i]) && strncasecmp(c.p, bad[i], c.n) == 0)
        q |= MV_DEV_Q_DEVICE;
  }
  return q;
}

static int obx_value(struct oru *o, const struct hl7_seg *s, bool sn,
                     double *out) {
  if (!sn) {
    const char *v = get(o, s, 5, 1);
    if (!*v)
      return FAIL(o, MV_HL7_E_REQUIRED, s, 5, 1, "OBX-5 value is missing");
    if (!parse_nm(v, out))
      return FAIL(o, MV_HL7_E_DATATYPE, s, 5, 1, "OBX-5 is not a number (NM)");
    return MV_OK;
  }
  const char *cmp = get(o, s, 5, 1), *n1 = get(o, s, 5, 2);
  const char *sep = get(o, s, 5, 3), *n2 = get(o, s, 5, 4);
  if (!*n1)
    return FAIL(o, MV_HL7_E_REQUIRED, s, 5, 2, "OBX-5 value is missing");
  if ((*cmp && strcmp(cmp, "=") != 0) || *sep || *n2)
    return FAIL(o, MV_HL7_E_DATATYPE, s, 5, 1,
                "OBX-5 SN with a comparator or a range is not supported");
  if (!parse_nm(n1, out))
    return FAIL(o, MV_HL7_E_DATATYPE, s, 5, 2, "OBX-5 is not a number (SN)");
  return MV_OK;
}

static int obx_code(struct oru *o, const struct hl7_seg *s,
                    const struct mv_clin_code **out) {
  const struct mv_clin_code *c =
      code_of(get(o, s, 3, 1), get(o, s, 3, 2), get(o, s, 3, 3));
  if (!c)
    c = code_of(get(o, s, 3, 4), get(o, s, 3, 5), get(o, s, 3, 6));
  if (!*get(o, s, 3, 1) && !*get(o, s, 3, 4))
    return FAIL(o, MV_HL7_E_REQUIRED, s, 3, 1, "OBX-3 code is missing");
  if (!c || !c->loinc || c->kind != MV_CLIN_QUANTITY)
    return FAIL(o, MV_HL7_E_TABLE, s, 3, 1,
                "OBX-3 code is not a supported MDC or LOINC measurement");
  *out = c;
  return MV_OK;
}

static int obx_unit(struct oru *o, const struct hl7_seg *s,
                    const struct mv_clin_code *c, double *v) {
  const char *id = get(o, s, 6, 1), *text = get(o, s, 6, 2);
  if (!*id && !*text)
    return FAIL(o, MV_HL7_E_REQUIRED, s, 6, 1, "OBX-6 units are missing");
  const char *u = unit_of(id, text, get(o, s, 6, 3));
  if (!u)
    u = unit_of(get(o, s, 6, 4), get(o, s, 6, 5), get(o, s, 6, 6));
  if (!u)
    return FAIL(o, MV_HL7_E_TABLE, s, 6, 1,
                "OBX-6 unit is not a known MDC dimension or UCUM unit");
  double conv;
  if (mv_clin_convert_to_canonical(c, *v, u, &conv, NULL) != MV_OK)
    return FAIL(o, MV_HL7_E_TABLE, s, 6, 1,
                "OBX-6 unit does not fit the OBX-3 code");
  *v = conv;
  return MV_OK;
}

static int push_obs(struct oru *o, const struct mv_dev_obs *ob, unsigned seq) {
  struct mv_hl7_result *r = o->r;
  if (r->n_obs == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 16;
    struct mv_dev_obs *n = mv_arena_alloc(o->a, cap * sizeof(*n));
    unsigned *x = mv_arena_alloc(o->a, cap * sizeof(*x));
    unsigned *y = mv_arena_alloc(o->a, cap * sizeof(*y));
    if (!n || !x || !y)
      return MV_ENOMEM;
    if (r->n_obs) {
      memcpy(n, r->obs, r->n_obs * sizeof(*n));
      memcpy(x, r->obs_obx, r->n_obs * sizeof(*x));
      memcpy(y, r->obs_pid, r->n_obs * sizeof(*y));
    }
    r->obs = n;
    r->obs_obx = x;
    r->obs_pid = y;
    o->cap = cap;
  }
  r->obs[r->n_obs] = *ob;
  r->obs_obx[r->n_obs] = seq;
  r->obs_pid[r->n_obs] = o->pid_seq;
  r->n_obs++;
  return MV_OK;
}

static int on_obx(struct oru *o, const struct hl7_seg *s) {
  if (!o->in_obr)
    return FAIL(o, MV_HL7_E_SEQUENCE, s, 0, 0, "OBX before any OBR segment");
  const char *type = get(o, s, 2, 1);
  bool sn = strcmp(type, "SN") == 0;
  if (!sn && strcmp(type, "NM") != 0) {
    o->r->n_skipped++; /* containment row, text, waveform array */
    return MV_OK;
  }
  const char *st = get(o, s, 11, 1);
  if (!*st)
    return FAIL(o, MV_HL7_E_REQUIRED, s, 11, 1,
                "OBX-11 result status is missing");
  if (strcmp(st, "X") == 0) { /* "no result can be obtained" */
    o->r->n_skipped++;
    return MV_OK;
  }
  if (strcmp(st, "F") != 0 && strcmp(st, "R") != 0 && strcmp(st, "C") != 0)
    return FAIL(o, MV_HL7_E_TABLE, s, 11, 1,
                "OBX-11 result status must be F, R, C or X");
  struct mv_dev_obs ob = {.kind = MV_DEV_QUANTITY, .seq = -1};
  const struct mv_clin_code *c = NULL;
  int rc;
  if ((rc = obx_code(o, s, &c)) || (rc = obx_value(o, s, sn, &ob.value)) ||
      (rc = obx_unit(o, s, c, &ob.value)))
    return rc;
  enum mv_clin_verdict v = mv_clin_range_check(c, ob.value);
  if (v == MV_CLIN_IMPOSSIBLE)
    return FAIL(o, MV_HL7_E_DATATYPE, s, 5, 1,
                "OBX-5 value is outside the possible range for OBX-3");
  ob.quality =
      quality_of(o, s) | (v == MV_CLIN_IMPLAUSIBLE ? MV_DEV_Q_RANGE : 0);
  struct hl7_slice t = mv__hl7_comp(o->m, mv__hl7_field(s, 14), 1);
  if (t.n) {
    if (mv_hl7_ts_parse(t.p, t.n, &ob.t_us) != MV_OK)
      return FAIL(o, MV_HL7_E_DATATYPE, s, 14, 1,
                  "OBX-14 is not a date-time with minutes and a UTC offset");
  } else if (o->obr_t_us >= 0) {
    ob.t_us = o->obr_t_us;
  } else {
    return FAIL(o, MV_HL7_E_REQUIRED, s, 14, 1,
                "no observation time in OBX-14 or OBR-7");
  }
  const char *dev = get(o, s, 18, 1);
  ob.device = (*dev && strlen(dev) <= MV_LIMIT_ID_LEN) ? dev : NULL;
  ob.patient = o->patient;
  ob.loinc = c->loinc;
  ob.mdc = c->mdc_ref;
  ob.ucum = c->ucum;
  if (o->r->n_obs >= MV_LIMIT_HL7_OBS) {
    mv_hl7_error_set(&o->r->err, MV_HL7_E_INTERNAL, s->id, s->seq, 0, 0,
                     "more than %u observations in one message",
                     MV_LIMIT_HL7_OBS);
    return MV_ETOOBIG;
  }
  return push_obs(o, &ob, s->seq);
}

static void read_header(const struct hl7_msg *m, struct mv_arena *a,
                        struct mv_hl7_header *h) {
  const struct hl7_seg *s = m->nseg ? &m->seg[0] : NULL;
#define H(f, c) (s ? mv__hl7_get(m, s, f, c, a) : NULL)
  h->sending_app = H(3, 1);
  h->sending_fac = H(4, 1);
  h->receiving_app = H(5, 1);
  h->receiving_fac = H(6, 1);
  h->msg_type = H(9, 1);
  h->trigger = H(9, 2);
  h->control_id = H(10, 1);
  h->processing_id = H(11, 1);
  h->version = H(12, 1);
#undef H
}

static void header_defaults(struct mv_hl7_header *h) {
  const char **f[] = {&h->sending_app,   &h->sending_fac,   &h->receiving_app,
                      &h->receiving_fac, &h->msg_type,      &h->trigger,
                      &h->control_id,    &h->processing_id, &h->version};
  for (size_t i = 0; i < MV_ARRAY_LEN(f); i++)
    if (!*f[i])
      *f[i] = "";
}

static bool version_ok(const char *v) {
  return strlen(v) >= 3 && v[0] == '2' && v[1] == '.' && v[2] >= '3' &&
         v[2] <= '8' && (v[3] == 0 || v[3] == '.');
}

static int check_header(struct mv_hl7_result *r, const struct hl7_seg *msh) {
  const struct mv_hl7_header *h = &r->hdr;
  if (!*h->control_id) {
    mv_hl7_error_set(&r->err, MV_HL7_E_REQUIRED, "MSH", 1, 10, 0,
                     "MSH-10 message control id is missing");
    return MV_EPARSE;
  }
  if (!version_ok(h->version)) {
    mv_hl7_error_set(&r->err, MV_HL7_E_VERSION, "MSH", 1, 12, 1,
                     "MSH-12 version must be 2.3 to 2.8");
    return MV_EUNSUPPORTED;
  }
  if (strcmp(h->msg_type, "ORU") != 0 || strcmp(h->trigger, "R01") != 0) {
    mv_hl7_error_set(&r->err, MV_HL7_E_MSGTYPE, "MSH", 1, 9,
                     strcmp(h->msg_type, "ORU") ? 1 : 2,
                     "only ORU^R01 is supported");
    return MV_EUNSUPPORTED;
  }
  (void)msh;
  return MV_OK;
}

static int walk(struct oru *o) {
  const struct hl7_msg *m = o->m;
  for (size_t i = 1; i < m->nseg; i++) {
    const struct hl7_seg *s = &m->seg[i];
    int rc = MV_OK;
    if (strcmp(s->id, "PID") == 0)
      rc = on_pid(o, s);
    else if (strcmp(s->id, "OBR") == 0)
      rc = on_obr(o, s);
    else if (strcmp(s->id, "OBX") == 0)
      rc = on_obx(o, s);
    else if (s->msh)
      rc = FAIL(o, MV_HL7_E_SEQUENCE, s, 0, 0, "a second MSH segment");
    if (rc)
      return rc;
  }
  if (!o->patient) {
    mv_hl7_error_set(&o->r->err, MV_HL7_E_REQUIRED, "PID", 1, 3, 1,
                     "no PID segment with a patient identifier");
    return MV_EINVALID;
  }
  return MV_OK;
}

int mv_hl7_decode(const char *msg, size_t len, struct mv_arena *a,
                  struct mv_hl7_result *out, struct mv_diag *diag) {
  struct hl7_msg m;
  memset(out, 0, sizeof(*out));
  int rc = mv__hl7_split(msg, len, a, &m, &out->err);
  read_header(&m, a, &out->hdr);
  header_defaults(&out->hdr);
  if (rc == MV_OK)
    rc = check_header(out, &m.seg[0]);
  if (rc == MV_OK) {
    struct oru o = {.m = &m, .a = a, .r = out, .obr_t_us = -1};
    rc = walk(&o);
  }
  if (rc == MV_ENOMEM && !out->err.code)
    mv_hl7_error_set(&out->err, MV_HL7_E_INTERNAL, NULL, 0, 0, 0,
                     "out of memory");
  if (rc == MV_OK) {
    out->ack = MV_HL7_AA;
    return MV_OK;
  }
  out->ack = (rc == MV_EPARSE || rc == MV_EUNSUPPORTED) ? MV_HL7_AR : MV_HL7_AE;
  out->n_obs = 0;
  mv_diag_set(diag, rc, "%s", out->err.text);
  if (out->err.segment[0]) {
    char path[32];
    snprintf(path, sizeof(path), "%s^%u^%u^%u", out->err.segment, out->err.seq,
             out->err.field, out->err.comp);
    mv_diag_set_path(diag, path);
  }
  return rc;
}

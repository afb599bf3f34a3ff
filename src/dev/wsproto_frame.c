/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The binary half of the WebSocket device protocol v1: one "MVW1" waveform
 * chunk (little-endian header, optional patient id, int16 samples) to one
 * sampled-data observation. Every length is checked before it is used: the
 * total must be exactly 37 + P + 2n. Samples are read byte by byte, so the
 * frame may sit at any alignment and the host's byte order does not matter.
 */
#include <math.h>
#include <string.h>

#include "mv_clin.h"
#include "mv_dev_ws.h"

static uint16_t rd16(const unsigned char *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}

static int64_t rd64(const unsigned char *p) {
  uint64_t v = (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32);
  int64_t s;
  memcpy(&s, &v, sizeof(s));
  return s;
}

static int fail(struct mv_diag *diag, int err, const char *path,
                const char *msg) {
  mv_diag_set(diag, err, "%s", msg);
  mv_diag_set_path(diag, path);
  return err;
}

_Static_assert(sizeof(float) == 4, "float32 gain");

int mv_dev_ws_decode_frame(const void *data, size_t len,
                           const char *patient_default, const char *device,
                           struct mv_arena *a, struct mv_dev_ws_msg *out,
                           struct mv_diag *diag) {
  const unsigned char *b = data;
  struct mv_dev_ws_frame *f = &out->frame;
  const struct mv_clin_code *c;
  const char *patient = patient_default;
  uint32_t gbits;
  float gain;
  size_t plen;

  memset(out, 0, sizeof(*out));
  out->type = MV_DEV_WS_WAVE;
  out->seq = -1;
  if (!b || !a)
    return fail(diag, MV_EINVAL, "frame", "no frame");
  if (len < 4 || memcmp(b, "MVW1", 4) != 0)
    return fail(diag, MV_EINVAL, "frame.magic", "not an MVW1 frame");
  if (len >= 12)
    out->seq = rd64(b + 4) >= 1 ? rd64(b + 4) : -1;
  if (len < MV_DEV_WS_FRAME_HEAD)
    return fail(diag, MV_EINVAL, "frame", "frame shorter than its header");
  if (out->seq < 1)
    return fail(diag, MV_ERANGE, "frame.seq", "must be >= 1");
  f->t0_us = rd64(b + 12);
  f->fs_mhz = rd32(b + 20);
  f->lead = rd16(b + 24);
  f->n = rd16(b + 26);
  gbits = rd32(b + 28);
  memcpy(&gain, &gbits, sizeof(gain));
  f->baseline = (int16_t)rd16(b + 32);
  f->flags = rd16(b + 34);
  plen = b[36];
  /* the length check comes first: a truncated frame is "frame" whatever
   * its fields say */
  if (len != MV_DEV_WS_FRAME_HEAD + plen + 2 * f->n)
    return fail(diag, MV_EINVAL, "frame",
                "length does not match 37 + patient_len + 2n");
  if (f->t0_us <= 0)
    return fail(diag, MV_ERANGE, "frame.t0_us", "must be positive");
  if (f->fs_mhz < 1 || f->fs_mhz > MV_DEV_WS_FS_MHZ_MAX)
    return fail(diag, MV_ERANGE, "frame.fs_mhz", "must be 1..2000000");
  if (f->n < 1 || f->n > MV_DEV_WS_FRAME_SAMPLES_MAX)
    return fail(diag, MV_ERANGE, "frame.n", "must be 1..8192");
  if (!isfinite(gain) || !(gain > 0))
    return fail(diag, MV_ERANGE, "frame.gain", "must be positive");
  if (f->flags &
      ~(unsigned)(MV_DEV_WS_FLAG_LEAD_OFF | MV_DEV_WS_FLAG_QUESTIONABLE))
    return fail(diag, MV_EINVAL, "frame.flags", "unknown flag bits");
  if (!(c = mv_clin_by_lead(f->lead)) || c->kind != MV_CLIN_WAVEFORM)
    return fail(diag, MV_EINVAL, "frame.lead", "unknown lead");
  f->gain = gain;
  f->fs_hz = f->fs_mhz / 1000.0;
  if (plen > 0) {
    if (!mv_dev_ws_id_valid((const char *)b + MV_DEV_WS_FRAME_HEAD, plen))
      return fail(diag, MV_EINVAL, "frame.patient", "not a FHIR id");
    patient = mv_arena_strndup(a, (const char *)b + MV_DEV_WS_FRAME_HEAD, plen);
    if (!patient)
      return fail(diag, MV_ENOMEM, "frame", "out of memory");
  } else if (!patient || !*patient) {
    return fail(diag, MV_EINVAL, "frame.patient",
                "a patient is required for this token");
  }
  int16_t *x = mv_arena_alloc(a, f->n * sizeof(*x));
  double *d = mv_arena_alloc(a, f->n * sizeof(*d));
  struct mv_dev_obs *o = mv_arena_zalloc(a, sizeof(*o));
  if (!x || !d || !o)
    return fail(diag, MV_ENOMEM, "frame", "out of memory");
  const unsigned char *s = b + MV_DEV_WS_FRAME_HEAD + plen;
  for (size_t i = 0; i < f->n; i++) {
    x[i] = (int16_t)rd16(s + 2 * i);
    d[i] = (double)x[i] - f->baseline;
  }
  f->x = x;
  o->patient = patient;
  o->device = device;
  o->loinc = c->loinc;
  o->mdc = c->mdc_ref;
  o->display = c->display;
  o->ucum = c->ucum;
  o->t_us = f->t0_us;
  o->kind = MV_DEV_SERIES;
  o->data = d;
  o->n = f->n;
  o->origin = 0;
  o->factor = 1.0 / gain;
  o->period_ms = 1e6 / f->fs_mhz;
  o->seq = out->seq;
  if (f->flags & MV_DEV_WS_FLAG_LEAD_OFF)
    o->quality |= MV_DEV_Q_LEAD_OFF;
  if (f->flags & MV_DEV_WS_FLAG_QUESTIONABLE)
    o->quality |= MV_DEV_Q_DEVICE;
  out->obs = o;
  out->n_obs = 1;
  return MV_OK;
}

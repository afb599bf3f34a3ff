/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoders of the WebSocket device protocol v1 (docs/API.md, "Device
 * ingestion"): one text message (JSON: hello, vitals) or one binary frame
 * (a waveform chunk, "MVW1") in, normalised observations (mv_dev.h) out.
 * Pure: no sockets, no storage, no clock. Codes, units and ranges come from
 * the clinical tables (mv_clin.h): a value in another unit is converted to
 * the code's canonical UCUM unit, a value outside the possible range is
 * rejected, one outside the plausible range is flagged MV_DEV_Q_RANGE.
 *
 * Errors name the place in the message as a path: "values[3].unit",
 * "values[0].data[17]", "seq", "frame" (a binary frame whose length does
 * not match its header), "frame.fs_mhz". Error strings never quote values.
 *
 * Ownership: everything an mv_dev_ws_msg points at lives in the arena given
 * to the decode call (or in static tables) and dies with it.
 */
#ifndef MV_DEV_WS_H
#define MV_DEV_WS_H

#include "mv_arena.h"
#include "mv_dev.h"
#include "mv_err.h"

#define MV_DEV_WS_VALUES_MAX 4096u /* entries of "values" in one message */
#define MV_DEV_WS_SERIES_MAX 8192u /* numbers in one "data" series */
#define MV_DEV_WS_DEVICE_LEN 48u   /* bytes of a hello's device name */
#define MV_DEV_WS_PATIENT_LEN 64u  /* bytes of a Patient id */
#define MV_DEV_WS_FRAME_HEAD 37u   /* bytes before the patient id */
#define MV_DEV_WS_FRAME_SAMPLES_MAX 8192u
#define MV_DEV_WS_FS_MHZ_MAX 2000000u /* 2000 Hz */

enum mv_dev_ws_type {
  MV_DEV_WS_HELLO = 1,  /* {"type":"hello","device":...} */
  MV_DEV_WS_VITALS = 2, /* {"type":"vitals","seq":...,"values":[...]} */
  MV_DEV_WS_WAVE = 3,   /* a binary "MVW1" frame */
};

/* Frame flag bits (PROTOCOL.md). */
#define MV_DEV_WS_FLAG_LEAD_OFF 0x1u
#define MV_DEV_WS_FLAG_QUESTIONABLE 0x2u

/* A decoded waveform frame: the header and the raw samples. */
struct mv_dev_ws_frame {
  int64_t t0_us;    /* time of sample 0, µs since the epoch (UTC) */
  uint32_t fs_mhz;  /* sampling rate, millihertz */
  double fs_hz;     /* the same in Hz */
  unsigned lead;    /* lead number (mv_clin_by_lead) */
  size_t n;         /* samples, 1..MV_DEV_WS_FRAME_SAMPLES_MAX */
  double gain;      /* ADC units per mV (or per unit), > 0 */
  int32_t baseline; /* ADC value of 0 */
  uint16_t flags;   /* MV_DEV_WS_FLAG_* */
  const int16_t *x; /* n samples (arena, host order) */
};

struct mv_dev_ws_msg {
  enum mv_dev_ws_type type;
  int64_t seq;            /* >= 1 for vitals and waves; -1 for hello, or
                             when it could not be read */
  const char *device;     /* hello: the device name (arena) */
  struct mv_dev_obs *obs; /* vitals and waves: n_obs observations (arena) */
  size_t n_obs;
  struct mv_dev_ws_frame frame; /* waves only */
};

/* Decode one text message (len bytes, need not be NUL-terminated).
 * patient_default (borrowed; NULL = none) is the Patient a value belongs to
 * when the message names none (a device token's own patient). device
 * (borrowed, may be NULL) is copied by reference into every observation.
 * On error out->type and out->seq are set when they could be read (so the
 * answer can name the seq) and diag names the path: MV_EPARSE (not JSON),
 * MV_EINVAL (a field missing, of the wrong type, an unknown code, unit or
 * flag), MV_ERANGE (an impossible value), MV_ETOOBIG (more than
 * MV_DEV_WS_VALUES_MAX values or MV_DEV_WS_SERIES_MAX data points),
 * MV_ENOMEM (the arena is full). */
MV_API MV_NODISCARD int
mv_dev_ws_decode_text(const char *text, size_t len, const char *patient_default,
                      const char *device, struct mv_arena *a,
                      struct mv_dev_ws_msg *out, struct mv_diag *diag);

/* Decode one binary frame into out (type MV_DEV_WS_WAVE): the header, the
 * samples, and one MV_DEV_SERIES observation (data = sample - baseline,
 * origin 0, factor 1/gain, period 1000/fs ms, the lead's code and unit;
 * MV_DEV_Q_LEAD_OFF / MV_DEV_Q_DEVICE from the flags). Every length is
 * checked: a total length other than 37 + P + 2n is MV_EINVAL with path
 * "frame"; bad fields name "frame.<field>". out->seq is set whenever the
 * first 12 bytes were there. */
MV_API MV_NODISCARD int mv_dev_ws_decode_frame(const void *data, size_t len,
                                               const char *patient_default,
                                               const char *device,
                                               struct mv_arena *a,
                                               struct mv_dev_ws_msg *out,
                                               struct mv_diag *diag);

/* The protocol's error code word for a decode or ingest error:
 * "too-large" (MV_ETOOBIG), "forbidden" (MV_EPERM, MV_EAUTH), "busy"
 * (MV_EBUSY, MV_ECLOSED, MV_ENOMEM, MV_EDB, MV_EIO), else "invalid". */
MV_API const char *mv_dev_ws_error_code(int err);

/* RFC 3339 date-time with a time zone ("2026-11-25T04:00:00.250Z",
 * "...+01:00"), to µs since the epoch. MV_EINVAL when malformed. */
MV_API MV_NODISCARD int mv_dev_ws_parse_time(const char *s, int64_t *out_us);

/* A FHIR id: 1..64 of [A-Za-z0-9-.]. */
MV_API bool mv_dev_ws_id_valid(const char *s, size_t len);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device data, normalised. Every front door (WebSocket device protocol,
 * HL7 v2 over MLLP, HTTP NDJSON, later MQTT) decodes what a device sent into
 * an array of struct mv_dev_obs; everything after that (FHIR Observation
 * JSON, storage, live publishing, waveform processing) is the same for all
 * of them. This header is the contract between the decoders (src/dev, pure:
 * no sockets, no storage) and the server glue (src/api/device*.c).
 *
 * Ownership: an mv_dev_obs only borrows. Strings and data arrays point into
 * the decoder's input, its arena or static tables, and live as long as the
 * decode call's arena (or the caller's buffer) does.
 */
#ifndef MV_DEV_H
#define MV_DEV_H

#include "mv_common.h"

/* Quality flags of a value or a waveform chunk. Bad data is never silently
 * scored as good: any flag set reaches the FHIR Observation (see
 * mv_dev_obs_to_fhir) and the clinical scores skip flagged values. The same
 * bits are produced by the signal-quality code in src/sig. */
enum mv_dev_quality {
  MV_DEV_Q_FLAT = 1u << 0,     /* flat line (no variation) */
  MV_DEV_Q_CLIPPED = 1u << 1,  /* clipping / saturation at the ADC rails */
  MV_DEV_Q_RANGE = 1u << 2,    /* outside the physiological range */
  MV_DEV_Q_NOISY = 1u << 3,    /* noise level too high to trust */
  MV_DEV_Q_LEAD_OFF = 1u << 4, /* device reports lead/probe off */
  MV_DEV_Q_DEVICE = 1u << 5,   /* device marked the value questionable */
};

enum mv_dev_kind {
  MV_DEV_QUANTITY = 0, /* one value: valueQuantity */
  MV_DEV_PANEL_BP = 1, /* blood pressure: components systolic (value) and
                          diastolic (value2) */
  MV_DEV_SERIES = 2,   /* regularly sampled series: valueSampledData */
};

#define MV_DEV_CODE_LEN 32u /* bytes of a LOINC/MDC code or a UCUM unit */

/* One normalised observation. */
struct mv_dev_obs {
  const char *patient; /* Patient id (FHIR id), required */
  const char *device;  /* device identifier as the device names itself; NULL
                          when unknown */
  const char *loinc;   /* LOINC code after mapping; NULL for waveforms, which
                          have only an MDC code (mdc is then required) */
  const char *mdc;     /* IEEE 11073-10101 code (e.g. "MDC_PULS_OXIM_SAT_O2"
                          or its numeric form) when the device sent one */
  const char *display; /* human name for code.text; NULL = from the table */
  const char *ucum;    /* UCUM unit of value/value2/data after conversion */
  int64_t t_us;        /* effective time (series: time of data[0]), µs UTC */
  enum mv_dev_kind kind;
  double value;  /* QUANTITY, PANEL_BP systolic */
  double value2; /* PANEL_BP diastolic */
  /* SERIES: n values, physical value = origin + factor * data[i], one every
   * period_ms. data are what the device sent (e.g. ADC units). */
  const double *data;
  size_t n;
  double origin, factor, period_ms;
  uint32_t quality; /* enum mv_dev_quality bits; 0 = good */
  int64_t seq;      /* the device message sequence number it came in; -1 */
};

#endif

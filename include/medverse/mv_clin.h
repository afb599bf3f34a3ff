/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Clinical code tables and UCUM unit conversion, in one place. One static
 * table names every vital sign and waveform the device front doors accept:
 * its LOINC code, the IEEE 11073-10101 (MDC) reference id and numeric code,
 * the canonical UCUM unit with its MDC dimension code, a plausible range
 * (outside: quality flag MV_DEV_Q_RANGE) and a possible range (outside: the
 * value is rejected as impossible). Pure computation: no I/O, no allocation;
 * every returned pointer is static and lives for the whole program.
 * The code tables are documented in docs/SIGNALS.md.
 */
#ifndef MV_CLIN_H
#define MV_CLIN_H

#include "mv_common.h"
#include "mv_err.h"

/* FHIR code system URIs the tables speak. */
#define MV_CLIN_LOINC_SYSTEM "http://loinc.org"
#define MV_CLIN_MDC_SYSTEM "urn:iso:std:iso:11073:10101"
#define MV_CLIN_UCUM_SYSTEM "http://unitsofmeasure.org"

enum mv_clin_kind {
  MV_CLIN_QUANTITY = 0, /* one value (heart rate, SpO2, a BP part, ...) */
  MV_CLIN_BP_PANEL = 1, /* blood pressure panel 85354-9: systolic 8480-6 and
                           diastolic 8462-4 components */
  MV_CLIN_WAVEFORM = 2, /* a sampled waveform (ECG lead, pleth, resp) */
};

/* Closed interval [lo, hi] in the entry's canonical unit. */
struct mv_clin_range {
  double lo, hi;
};

/* One concept of the table. All strings static. */
struct mv_clin_code {
  const char *loinc;   /* LOINC code; NULL for waveforms (LOINC has none) */
  const char *display; /* human name, used as code.text */
  const char *ucum;    /* canonical UCUM unit ("/min", "%", "mm[Hg]") */
  const char *mdc_unit_ref; /* MDC dimension of ucum ("MDC_DIM_PERCENT") */
  uint32_t mdc_unit_code;   /* its numeric code (262688) */
  const char *mdc_ref;      /* IEEE 11073-10101 reference id, NULL when none */
  uint32_t mdc_code; /* its numeric code (partition << 16 | term), 0 none */
  struct mv_clin_range plausible; /* outside -> MV_DEV_Q_RANGE */
  struct mv_clin_range possible;  /* outside -> rejected (MV_ERANGE) */
  enum mv_clin_kind kind;
  int lead;          /* PROTOCOL.md waveform lead number, -1 when none */
  bool vital_sign;   /* in the FHIR R4 vital-signs profile */
  double molar_mass; /* g/mol for mmol/L <-> mg/dL, 0 when n/a */
};

/* ---- lookups: O(log n), thread-safe, NULL when unknown ------------------ */

/* The entry for a LOINC code. Several MDC codes may share one LOINC code
 * (ECG heart rate and NIBP pulse rate are both 8867-4): this returns the
 * primary one (the first in the table). */
MV_API const struct mv_clin_code *mv_clin_by_loinc(const char *loinc);
/* By MDC reference id ("MDC_PULS_OXIM_SAT_O2"), exact (case-sensitive). */
MV_API const struct mv_clin_code *mv_clin_by_mdc_ref(const char *ref);
/* By MDC numeric code (150456). */
MV_API const struct mv_clin_code *mv_clin_by_mdc_code(uint32_t code);
/* By waveform lead number of the binary device frame (PROTOCOL.md: 0 = II,
 * 1 = I, 2 = III, 3 = aVR, 4 = aVL, 5 = aVF, 6..11 = V1..V6, 100 = pleth,
 * 101 = respiration impedance). */
MV_API const struct mv_clin_code *mv_clin_by_lead(unsigned lead);
/* What a device may send as "code": a LOINC code, an MDC reference id or an
 * MDC numeric code in decimal ("150456"). */
MV_API const struct mv_clin_code *mv_clin_lookup(const char *code);
/* The whole table (static), in table order. */
MV_API const struct mv_clin_code *mv_clin_codes(size_t *out_n);

enum mv_clin_verdict {
  MV_CLIN_OK = 0,          /* inside the plausible range */
  MV_CLIN_IMPLAUSIBLE = 1, /* possible but not plausible: flag it */
  MV_CLIN_IMPOSSIBLE = 2,  /* outside the possible range or not finite:
                              reject it */
};
/* Judge value v, in c's canonical unit. Bounds are inclusive. */
MV_API enum mv_clin_verdict mv_clin_range_check(const struct mv_clin_code *c,
                                                double v);

/* ---- units ---------------------------------------------------------------- */

/* The canonical UCUM code for what a device sent as a unit: exact UCUM
 * codes and common device spellings, compared case-insensitively after
 * trimming blanks ("bpm", "beats/min", "{beats}/min" -> "/min"; "mmHg" ->
 * "mm[Hg]"; "degC", "°C" -> "Cel"; "lb", "lbs" -> "[lb_av]"; "mg/dl" ->
 * "mg/dL"). NULL when unknown. Static. */
MV_API const char *mv_clin_unit_normalize(const char *unit);
/* The UCUM code of an MDC dimension, by reference id or numeric code
 * (262688 or "MDC_DIM_PERCENT" -> "%"). NULL when unknown. */
MV_API const char *mv_clin_unit_by_mdc_ref(const char *ref);
MV_API const char *mv_clin_unit_by_mdc_code(uint32_t code);

/*
 * Convert v from unit `from` to unit `to` (both as mv_clin_unit_normalize
 * accepts them): degF, Cel and K; kPa and mm[Hg]; [lb_av], g and kg; cm and
 * [in_i]; mV, uV and V; /min, /s and their aliases. Amount of substance to
 * mass (mmol/L <-> mg/dL) needs the analyte's molar mass: use
 * mv_clin_convert_to_canonical. *out is untouched on error.
 * MV_EINVAL: unknown unit, incompatible units (diag names which), or a non-
 * finite value.
 */
MV_API MV_NODISCARD int mv_clin_unit_convert(double v, const char *from,
                                             const char *to, double *out,
                                             struct mv_diag *diag);
/* The affine map of the conversion: to = scale * from + offset (SampledData
 * conversion: origin' = scale * origin + offset, factor' = scale * factor).
 * Errors as mv_clin_unit_convert. */
MV_API MV_NODISCARD int mv_clin_unit_affine(const char *from, const char *to,
                                            double *out_scale,
                                            double *out_offset,
                                            struct mv_diag *diag);
/* Like mv_clin_unit_affine into c's canonical unit, also across mmol/L and
 * mg/dL when c has a molar mass (glucose: 1 mmol/L = 18.0156 mg/dL). */
MV_API MV_NODISCARD int
mv_clin_affine_to_canonical(const struct mv_clin_code *c, const char *from,
                            double *out_scale, double *out_offset,
                            struct mv_diag *diag);
/* v in unit `from` -> c's canonical unit. Errors as above. */
MV_API MV_NODISCARD int
mv_clin_convert_to_canonical(const struct mv_clin_code *c, double v,
                             const char *from, double *out,
                             struct mv_diag *diag);

#endif

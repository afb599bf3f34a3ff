/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From a normalised device observation (mv_dev.h) to one FHIR R4
 * Observation, and the checks every decoder runs before that. The JSON
 * passes mv_fhir_validate for every kind and every quality flag; how quality
 * flags are represented (interpretation + extension, never a value next to
 * dataAbsentReason) is documented in docs/SIGNALS.md.
 */
#ifndef MV_DEV_FHIR_H
#define MV_DEV_FHIR_H

#include "mv_buf.h"
#include "mv_clin.h"
#include "mv_dev.h"
#include "mv_err.h"

/* Extension carrying one quality flag (valueCode: flat, clipped, range,
 * noisy, lead-off, questionable) on a flagged Observation. */
#define MV_DEV_QUALITY_EXT                                                     \
  "https://medverse.dev/fhir/StructureDefinition/signal-quality"
/* The interpretation code system a flagged Observation carries
 * ("questionable", from ISO/IEEE 11073-10201 MeasurementStatus). */
#define MV_DEV_MEAS_STATUS_SYSTEM                                              \
  "http://terminology.hl7.org/CodeSystem/measurement-status"

/* Longest device name and series the checks accept. */
#define MV_DEV_DEVICE_LEN 64u
#define MV_DEV_SERIES_MAX 8192u

/* The protocol name of one quality bit ("flat", "clipped", "range",
 * "noisy", "lead-off", "questionable"); NULL for anything else. Static. */
MV_API const char *mv_dev_quality_name(uint32_t bit);

/* The table entry of o: by o->mdc when given, else by o->loinc; NULL when
 * unknown. (Waveforms have no LOINC code: o->loinc NULL, o->mdc set.) */
MV_API const struct mv_clin_code *mv_dev_obs_code(const struct mv_dev_obs *o);

/*
 * Check o before it is stored: known code (and o->loinc consistent with
 * o->mdc when both are set), kind matches the code (BP panel only for
 * 85354-9; waveforms only as series), unit convertible to the canonical one,
 * finite numbers, values inside the possible range after conversion (series
 * of waveforms: never rejected for range, see mv_dev_obs_normalize),
 * patient a FHIR id, device printable ASCII of at most MV_DEV_DEVICE_LEN
 * bytes, series 1..MV_DEV_SERIES_MAX values with period_ms > 0 and factor
 * != 0. MV_EINVAL (unknown code, unit, kind, bad id) or MV_ERANGE
 * (impossible value); diag->path names the field ("unit", "value",
 * "data[12]"), never a value.
 */
MV_API MV_NODISCARD int mv_dev_obs_check(const struct mv_dev_obs *o,
                                         struct mv_diag *diag);

/*
 * Check o (as mv_dev_obs_check) and bring it to the table's form: loinc,
 * mdc (the reference id, only when o named an MDC code), display (when
 * NULL) and ucum point at the static table, values
 * (or a series' origin and factor) are converted to the canonical unit, and
 * MV_DEV_Q_RANGE is set when a value (any sample of a series) lies outside
 * the plausible range. Waveform samples outside the possible range are
 * flagged MV_DEV_Q_RANGE instead of rejected (an artefact is still data).
 * o is untouched on error.
 */
MV_API MV_NODISCARD int mv_dev_obs_normalize(struct mv_dev_obs *o,
                                             struct mv_diag *diag);

/*
 * Append one FHIR R4 Observation (JSON, no id) for o to out: status final;
 * category vital-signs (waveforms: procedure); code with the LOINC coding
 * and the MDC coding (system urn:iso:std:iso:11073:10101, numeric code)
 * when known, text = display; subject Patient/<patient>; effectiveDateTime
 * (series: effectivePeriod start..last sample); device.display when known;
 * valueQuantity in the canonical UCUM unit, or the BP components 8480-6 and
 * 8462-4, or valueSampledData (origin, period ms, factor, dimensions 1, data
 * space-separated). A vital-sign series (e.g. heart rate every second) is
 * coded with its MDC coding only, because the vital-signs profiles allow
 * only valueQuantity for their LOINC codes. Quality flags -> interpretation
 * "questionable" plus one extension per flag. Numbers are printed with 15
 * significant digits, the shortest form ("72", "36.6", never
 * "72.00000001").
 * Runs mv_dev_obs_check first. MV_EINVAL/MV_ERANGE as there; MV_ETOOBIG or
 * MV_ENOMEM from out (out may then hold a partial object: reset it).
 */
MV_API MV_NODISCARD int mv_dev_obs_to_fhir(const struct mv_dev_obs *o,
                                           struct mv_buf *out,
                                           struct mv_diag *diag);

#endif

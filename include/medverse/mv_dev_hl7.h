/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HL7 v2 ORU^R01 decoding (IHE PCD-01 "Communicate PCD Data") into
 * normalised device observations, and the ACK answer with its ERR segment.
 * Pure computation: bytes in, struct mv_dev_obs and ACK text out; no
 * sockets, no storage. Versions 2.3 to 2.8; the delimiters are the ones the
 * message declares in MSH-1/MSH-2; escape sequences (\F\ \S\ \T\ \R\ \E\
 * \Xhh..\) are decoded. Codes and units are mapped through the clinical
 * tables (mv_clin.h); see docs/HL7.md for the field-by-field mapping.
 *
 * Errors name a place, never a value: ERR-8 texts carry no patient data.
 */
#ifndef MV_DEV_HL7_H
#define MV_DEV_HL7_H

#include "mv_arena.h"
#include "mv_buf.h"
#include "mv_dev.h"
#include "mv_err.h"

/* MSA-1 acknowledgement codes. */
enum mv_hl7_ack {
  MV_HL7_AA = 0, /* accepted */
  MV_HL7_AE = 1, /* application error: content refused, resend corrected */
  MV_HL7_AR = 2, /* application reject: message type/version/header refused */
};

/* HL7 table 0357 message error condition codes used in ERR-3. */
enum mv_hl7_errcode {
  MV_HL7_E_OK = 0,
  MV_HL7_E_SEQUENCE = 100,    /* segment sequence error */
  MV_HL7_E_REQUIRED = 101,    /* required field missing */
  MV_HL7_E_DATATYPE = 102,    /* data type error */
  MV_HL7_E_TABLE = 103,       /* table value not found */
  MV_HL7_E_MSGTYPE = 200,     /* unsupported message type */
  MV_HL7_E_VERSION = 203,     /* unsupported version id */
  MV_HL7_E_UNKNOWN_KEY = 204, /* unknown key identifier */
  MV_HL7_E_INTERNAL = 207,    /* application internal error */
};

/* An ERR segment: where (ERR-2, an ERL) and what (ERR-3, ERR-8). */
struct mv_hl7_error {
  enum mv_hl7_errcode code;
  char segment[4]; /* "OBX"; "" when no segment applies */
  unsigned seq;    /* 1-based occurrence of that segment id; 0 none */
  unsigned field;  /* 1-based field; 0 none */
  unsigned comp;   /* 1-based component; 0 none */
  char text[160];  /* user message, no patient data */
};

/* The header fields an ACK echoes, unescaped (arena strings, "" absent). */
struct mv_hl7_header {
  const char *sending_app, *sending_fac;     /* MSH-3, MSH-4 (HD.1) */
  const char *receiving_app, *receiving_fac; /* MSH-5, MSH-6 (HD.1) */
  const char *control_id;                    /* MSH-10 */
  const char *processing_id;                 /* MSH-11.1 */
  const char *version;                       /* MSH-12.1 */
  const char *msg_type, *trigger;            /* MSH-9.1, MSH-9.2 */
};

/* What one ORU^R01 decodes to. Everything lives in the decode arena. */
struct mv_hl7_result {
  enum mv_hl7_ack ack;     /* AA when decoding succeeded */
  struct mv_hl7_error err; /* set when ack != AA */
  struct mv_hl7_header hdr;
  struct mv_dev_obs *obs; /* n_obs measurements, in message order */
  size_t n_obs;
  size_t n_skipped; /* OBX not stored: device hierarchy, text, status X */
  /* For each obs: the OBX it came from (1-based occurrence), for an ERR
   * naming it when a later stage (FHIR validation, storage) refuses it. */
  unsigned *obs_obx;
  unsigned *obs_pid; /* and the PID (1-based occurrence) naming its patient */
};

/*
 * Decode one HL7 message (msg, len bytes: one MLLP frame's payload).
 * Always fills *out as far as it could read (out->hdr for the ACK even when
 * the header is broken). Returns MV_OK with out->ack == MV_HL7_AA, or:
 * MV_EPARSE (broken MSH, bad delimiters: AR), MV_EUNSUPPORTED (version or
 * message type: AR), MV_EINVALID (content: AE with ERR), MV_ENOMEM or
 * MV_ETOOBIG (AE 207). diag (may be NULL) gets the same text as out->err.
 * a: arena for every string and array of *out (borrowed).
 */
MV_API MV_NODISCARD int mv_hl7_decode(const char *msg, size_t len,
                                      struct mv_arena *a,
                                      struct mv_hl7_result *out,
                                      struct mv_diag *diag);

/*
 * Write the ACK for a decoded message (segments separated by CR, no MLLP
 * framing) to out: MSH with sender and receiver swapped, MSH-7 now_us,
 * MSH-9 ACK^<trigger>^ACK, MSH-10 control_id (the ACK's own, e.g. a
 * counter), MSH-12 the message's version (or 2.5); MSA-1 ack, MSA-2 the
 * message's MSH-10; and ERR when err is non-NULL and err->code != 0.
 * MV_ETOOBIG/MV_ENOMEM from out.
 */
MV_API MV_NODISCARD int mv_hl7_ack_write(const struct mv_hl7_header *hdr,
                                         enum mv_hl7_ack ack,
                                         const struct mv_hl7_error *err,
                                         const char *control_id, int64_t now_us,
                                         struct mv_buf *out);

/* Set err (code, location, printf-style text); for the glue's later stages.
 * seg may be NULL. */
MV_API void mv_hl7_error_set(struct mv_hl7_error *err, enum mv_hl7_errcode code,
                             const char *seg, unsigned seq, unsigned field,
                             unsigned comp, const char *fmt, ...)
    MV_PRINTF(7, 8);

/* Parse an HL7 TS/DTM (YYYYMMDDHHMM[SS[.S{1,4}]]+/-ZZZZ: minute precision
 * and a UTC offset are required) to µs since the epoch, UTC. MV_EPARSE. */
MV_API MV_NODISCARD int mv_hl7_ts_parse(const char *s, size_t n,
                                        int64_t *out_us);

/* Unescape one HL7 value (len bytes; esc/field/comp/rep/sub delimiters) into
 * the arena: \F\ \S\ \T\ \R\ \E\ \Xhh..\ decoded; formatting escapes
 * (\H\ \N\ \.br\ \Cxxyy\ \Mxxyyzz\ \Zxx\) dropped; a lone escape character
 * kept. NUL and other C0 bytes from \X\ become '?'. NULL on out of memory. */
struct mv_hl7_delims {
  char field, comp, rep, esc, sub;
};
MV_API char *mv_hl7_unescape(const struct mv_hl7_delims *d, const char *s,
                             size_t len, struct mv_arena *a);

#endif

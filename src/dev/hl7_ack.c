/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The general acknowledgement (HL7 v2.5 chapter 2.14.1, ACK^R01^ACK): MSH
 * with sender and receiver swapped, MSA with the original control id, and
 * for AE/AR one ERR segment (ERR-2 error location as an ERL, ERR-3 the
 * table 0357 code, ERR-4 severity E, ERR-8 a user message). Echoed values
 * are re-escaped with the standard delimiters |^~\& we answer with.
 */
#include <string.h>
#include <time.h>

#include "hl7_int.h"

static int put_escaped(struct mv_buf *b, const char *s) {
  int rc = MV_OK;
  for (; *s && rc == MV_OK; s++) {
    switch (*s) {
    case '|':
      rc = mv_buf_appends(b, "\\F\\");
      break;
    case '^':
      rc = mv_buf_appends(b, "\\S\\");
      break;
    case '&':
      rc = mv_buf_appends(b, "\\T\\");
      break;
    case '~':
      rc = mv_buf_appends(b, "\\R\\");
      break;
    case '\\':
      rc = mv_buf_appends(b, "\\E\\");
      break;
    default:
      /* control bytes would break the segment structure */
      rc = mv_buf_append(b, ((unsigned char)*s < 0x20) ? " " : s, 1);
    }
  }
  return rc;
}

static const char *ack_code(enum mv_hl7_ack a) {
  return a == MV_HL7_AA ? "AA" : a == MV_HL7_AE ? "AE" : "AR";
}

static const char *err_text(enum mv_hl7_errcode c) {
  switch (c) {
  case MV_HL7_E_SEQUENCE:
    return "Segment sequence error";
  case MV_HL7_E_REQUIRED:
    return "Required field missing";
  case MV_HL7_E_DATATYPE:
    return "Data type error";
  case MV_HL7_E_TABLE:
    return "Table value not found";
  case MV_HL7_E_MSGTYPE:
    return "Unsupported message type";
  case MV_HL7_E_VERSION:
    return "Unsupported version id";
  case MV_HL7_E_UNKNOWN_KEY:
    return "Unknown key identifier";
  case MV_HL7_E_INTERNAL:
    return "Application internal error";
  default:
    return "Error";
  }
}

static int put_ts(struct mv_buf *b, int64_t us) {
  time_t t = (time_t)(us / 1000000);
  struct tm tm;
  if (!gmtime_r(&t, &tm))
    return mv_buf_appends(b, "19700101000000+0000");
  return mv_buf_appendf(b, "%04d%02d%02d%02d%02d%02d.%04d+0000",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec,
                        (int)((us % 1000000) / 100));
}

static int put_err(struct mv_buf *b, const struct mv_hl7_error *e) {
  int rc = mv_buf_appends(b, "\rERR||");
  if (!rc && e->segment[0]) {
    rc = put_escaped(b, e->segment);
    if (!rc && e->seq)
      rc = mv_buf_appendf(b, "^%u", e->seq);
    if (!rc && e->seq && e->field)
      rc = mv_buf_appendf(b, "^%u^1", e->field);
    if (!rc && e->seq && e->field && e->comp)
      rc = mv_buf_appendf(b, "^%u", e->comp);
  }
  if (!rc)
    rc = mv_buf_appendf(b, "|%d^%s^HL70357|E||||", (int)e->code,
                        err_text(e->code));
  if (!rc)
    rc = put_escaped(b, e->text);
  return rc;
}

int mv_hl7_ack_write(const struct mv_hl7_header *h, enum mv_hl7_ack ack,
                     const struct mv_hl7_error *err, const char *control_id,
                     int64_t now_us, struct mv_buf *out) {
  const char *ver = h->version && *h->version ? h->version : "2.5";
  const char *proc =
      h->processing_id && *h->processing_id ? h->processing_id : "P";
  const char *trig = h->trigger && *h->trigger ? h->trigger : "R01";
  int rc = mv_buf_appends(out, "MSH|^~\\&|");
  const char *seq[] = {h->receiving_app, h->receiving_fac, h->sending_app,
                       h->sending_fac};
  for (size_t i = 0; i < 4 && !rc; i++) {
    rc = put_escaped(out, seq[i] ? seq[i] : "");
    if (!rc)
      rc = mv_buf_appends(out, "|");
  }
  if (!rc)
    rc = put_ts(out, now_us);
  if (!rc)
    rc = mv_buf_appends(out, "||ACK^");
  if (!rc)
    rc = put_escaped(out, trig);
  if (!rc)
    rc = mv_buf_appends(out, "^ACK|");
  if (!rc)
    rc = put_escaped(out, control_id ? control_id : "");
  if (!rc)
    rc = mv_buf_appends(out, "|");
  if (!rc)
    rc = put_escaped(out, proc);
  if (!rc)
    rc = mv_buf_appends(out, "|");
  if (!rc)
    rc = put_escaped(out, ver);
  if (!rc)
    rc = mv_buf_appendf(out, "\rMSA|%s|", ack_code(ack));
  if (!rc)
    rc = put_escaped(out, h->control_id ? h->control_id : "");
  if (!rc && err && err->code)
    rc = put_err(out, err);
  if (!rc)
    rc = mv_buf_appends(out, "\r");
  return rc;
}

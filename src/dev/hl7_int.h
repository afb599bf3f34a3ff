/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface of the HL7 v2 decoder: a message split into segments
 * and fields (slices of the input, still escaped), and typed access to one
 * component of one field. hl7.c parses; hl7_oru.c maps ORU^R01; hl7_ack.c
 * writes the answer.
 */
#ifndef MV_DEV_HL7_INT_H
#define MV_DEV_HL7_INT_H

#include "mv_dev_hl7.h"

struct hl7_slice {
  const char *p;
  size_t n;
};

struct hl7_seg {
  char id[4];
  unsigned seq;        /* 1-based occurrence of id in the message */
  struct hl7_slice *f; /* f[0] is the id; for MSH f[1] is MSH-2 */
  size_t nf;
  bool msh;
};

struct hl7_msg {
  struct mv_hl7_delims d;
  struct hl7_seg *seg;
  size_t nseg;
};

/* Split msg into segments (CR, LF or CRLF) and fields. The first segment
 * must be MSH with valid delimiters. MV_EPARSE (err set: AR), MV_ETOOBIG,
 * MV_ENOMEM. */
int mv__hl7_split(const char *msg, size_t len, struct mv_arena *a,
                  struct hl7_msg *out, struct mv_hl7_error *err);
/* Field n (1-based, HL7 numbering also for MSH) of s, raw; n absent -> empty. */
struct hl7_slice mv__hl7_field(const struct hl7_seg *s, unsigned n);
/* Component c (1-based) of subcomponent 1 of the first repetition of raw. */
struct hl7_slice mv__hl7_comp(const struct hl7_msg *m, struct hl7_slice raw,
                              unsigned c);
/* Repetition r (0-based) of a raw field; empty when absent. */
struct hl7_slice mv__hl7_rep(const struct hl7_msg *m, struct hl7_slice raw,
                             unsigned r);
/* Unescaped component c of field n of s (arena); "" when empty; NULL on
 * out of memory. */
const char *mv__hl7_get(const struct hl7_msg *m, const struct hl7_seg *s,
                        unsigned n, unsigned c, struct mv_arena *a);

#endif

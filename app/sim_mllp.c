/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse simulate --via mllp`: every simulated second of a patient is one
 * HL7 v2.6 ORU^R01 in the IHE PCD-01 style (PID-3 the Patient id, OBX-3
 * IEEE 11073-10101 MDC codes, OBX-6 MDC units, OBX-8 "questionable" when the
 * device flagged a value), framed with MLLP (0x0B ... 0x1C 0x0D). Up to 8
 * connections carry the patients round robin; each pipelines up to --window
 * messages (the server answers in order per connection) and an ACK with
 * MSA-1 AA (or CA) whose MSA-2 is the message's control id acknowledges it.
 * POSIX sockets and poll(), on the calling thread.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mv_err.h"
#include "sim.h"

#define MAX_CONNS 8
#define RX_MAX (1u << 20)
#define DRAIN_S 5.0

struct inflight {
  char ctl[48];
  double sent_at;
  unsigned values;
};

struct mconn {
  int fd;
  struct inflight *q;
  unsigned cap, head, count;
  unsigned next_patient; /* round robin over patients i % nconn == k */
  struct mv_buf out;
  size_t out_off;
  char *rx;
  size_t rx_len;
};

static int open_conn(const char *hostport) {
  char host[256];
  const char *colon = strrchr(hostport, ':');
  if (!colon || (size_t)(colon - hostport) >= sizeof(host))
    return -1;
  memcpy(host, hostport, (size_t)(colon - hostport));
  host[colon - hostport] = 0;
  struct addrinfo hints, *ai = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
    return -1;
  int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(ai);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

static void hl7_ts(int64_t t_us, char *out, size_t cap) {
  time_t t = (time_t)(t_us / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, cap, "%Y%m%d%H%M%S+0000", &tm);
}

static int obx(struct mv_buf *b, int n, const char *code, double v, int dec,
               const char *unit, uint32_t q, const char *ts) {
  return mv_buf_appendf(b, "OBX|%d|NM|%s|1.0.0.%d|%.*f|%s||%s|||F|||%s\r", n,
                        code, n, dec, v, unit, q ? "questionable" : "", ts);
}

/* Append one framed ORU^R01; returns the number of values. */
static int oru(struct sim *s, unsigned i, int64_t tick, const char *ctl,
               struct mv_buf *b, unsigned *out_n) {
  struct mv_sig_scen_vitals r;
  sim_vitals(s, i, &r);
  char ts[40];
  hl7_ts(s->t0_us + tick * 1000000, ts, sizeof(ts));
  const struct mv_sig_vitals *v = &r.v;
  int rc = mv_buf_appendf(
      b,
      "\x0bMSH|^~\\&|MEDVERSE-SIM^urn:medverse:simulator^URI|SIM|MEDVERSE|"
      "MEDVERSE|%s||ORU^R01^ORU_R01|%s|P|2.6|||AL|NE||UNICODE UTF-8\r"
      "PID|||%s^^^MEDVERSE^PI||Simulated^Patient\r"
      "OBR|1|%s^SIM||182777000^monitoring of patient^SCT|||%s\r",
      ts, ctl, s->p[i].id, ctl, ts);
  if (rc == MV_OK)
    rc = obx(b, 1, "147842^MDC_ECG_HEART_RATE^MDC", v->hr_bpm, 0,
             "264864^MDC_DIM_BEAT_PER_MIN^MDC", r.q_hr, ts);
  if (rc == MV_OK)
    rc = obx(b, 2, "150456^MDC_PULS_OXIM_SAT_O2^MDC", v->spo2_pct, 0,
             "262688^MDC_DIM_PERCENT^MDC", r.q_spo2, ts);
  if (rc == MV_OK)
    rc = obx(b, 3, "150021^MDC_PRESS_BLD_NONINV_SYS^MDC", v->sbp_mmhg, 0,
             "266016^MDC_DIM_MMHG^MDC", 0, ts);
  if (rc == MV_OK)
    rc = obx(b, 4, "150022^MDC_PRESS_BLD_NONINV_DIA^MDC", v->dbp_mmhg, 0,
             "266016^MDC_DIM_MMHG^MDC", 0, ts);
  if (rc == MV_OK)
    rc = obx(b, 5, "151562^MDC_RESP_RATE^MDC", v->rr_bpm, 0,
             "264928^MDC_DIM_RESP_PER_MIN^MDC", 0, ts);
  if (rc == MV_OK)
    rc = obx(b, 6, "150364^MDC_TEMP_BODY^MDC", v->temp_c, 1,
             "268192^MDC_DIM_DEGC^MDC", 0, ts);
  if (rc == MV_OK)
    rc = mv_buf_append(b, "\x1c\r", 2);
  *out_n = 6;
  return rc;
}

/* Field n (1-based after the segment name) of the MSA segment into out. */
static bool msa_field(const char *msg, size_t len, int n, char *out,
                      size_t cap) {
  for (size_t i = 0; i + 4 <= len; i++) {
    if ((i == 0 || msg[i - 1] == '\r' || msg[i - 1] == '\n') &&
        !memcmp(msg + i, "MSA|", 4)) {
      size_t p = i + 4;
      for (int f = 1; f < n; f++) {
        while (p < len && msg[p] != '|' && msg[p] != '\r')
          p++;
        if (p >= len || msg[p] != '|')
          return false;
        p++;
      }
      size_t e = p;
      while (e < len && msg[e] != '|' && msg[e] != '\r' && msg[e] != '^')
        e++;
      if (e - p >= cap)
        return false;
      memcpy(out, msg + p, e - p);
      out[e - p] = 0;
      return true;
    }
  }
  return false;
}

static void on_ack(struct sim *s, struct mconn *c, const char *msg,
                   size_t len) {
  if (c->count == 0) {
    s->st.errors++;
    return;
  }
  struct inflight *f = &c->q[c->head];
  char code[8] = "", ctl[64] = "";
  bool ok = msa_field(msg, len, 1, code, sizeof(code)) &&
            msa_field(msg, len, 2, ctl, sizeof(ctl)) &&
            (!strcmp(code, "AA") || !strcmp(code, "CA")) &&
            !strcmp(ctl, f->ctl);
  if (ok) {
    s->st.msgs_acked++;
    s->st.values_acked += f->values;
    sim_lat_add(s, (sim_now_s() - f->sent_at) * 1000.0);
  } else {
    s->st.errors++;
    if (!s->quiet)
      fprintf(stderr, "medverse simulate: MLLP message %s answered %s\n",
              f->ctl, code[0] ? code : "(no MSA)");
  }
  c->head = (c->head + 1) % c->cap;
  c->count--;
}

/* Split complete MLLP frames off the receive buffer. */
static void on_rx(struct sim *s, struct mconn *c) {
  size_t start = 0;
  for (;;) {
    char *sb = memchr(c->rx + start, 0x0b, c->rx_len - start);
    if (!sb)
      break;
    size_t b0 = (size_t)(sb - c->rx) + 1;
    char *eb = NULL;
    for (size_t i = b0; i + 1 < c->rx_len; i++)
      if (c->rx[i] == 0x1c && c->rx[i + 1] == '\r') {
        eb = c->rx + i;
        break;
      }
    if (!eb)
      break;
    on_ack(s, c, c->rx + b0, (size_t)(eb - c->rx) - b0);
    start = (size_t)(eb - c->rx) + 2;
  }
  memmove(c->rx, c->rx + start, c->rx_len - start);
  c->rx_len -= start;
}

int sim_run_mllp(struct sim *s) {
  unsigned nc = s->n < MAX_CONNS ? s->n : MAX_CONNS;
  struct mconn conns[MAX_CONNS];
  memset(conns, 0, sizeof(conns));
  int rc = MV_OK;
  for (unsigned k = 0; k < nc; k++) {
    struct mconn *c = &conns[k];
    c->fd = -1;
    c->cap = s->window;
    c->q = calloc(c->cap, sizeof(*c->q));
    c->rx = malloc(RX_MAX);
    mv_buf_init(&c->out, 16u << 20);
    c->next_patient = k;
    if (!c->q || !c->rx) {
      rc = MV_ENOMEM;
      goto out;
    }
    if ((c->fd = open_conn(s->mllp)) < 0) {
      fprintf(stderr, "medverse simulate: cannot connect to MLLP %s\n",
              s->mllp);
      rc = MV_EIO;
      goto out;
    }
  }
  bool ending = false;
  double end_at = 0;
  /* Control ids unique per run, so a second run is not a duplicate. */
  unsigned run = (unsigned)((uint64_t)(s->wall0_s * 1000) % 1000000000u);
  for (;;) {
    double now = sim_now_s();
    if (!ending && sim_done(s)) {
      ending = true;
      end_at = now + DRAIN_S;
    }
    int64_t due = sim_due_ticks(s);
    bool pending = false;
    struct pollfd pf[MAX_CONNS];
    for (unsigned k = 0; k < nc; k++) {
      struct mconn *c = &conns[k];
      /* Queue new messages while the window has room and data are due. */
      for (unsigned tries = 0; !ending && c->count < c->cap && tries < s->n;
           tries++) {
        unsigned i = c->next_patient;
        c->next_patient += nc;
        if (c->next_patient >= s->n)
          c->next_patient = k;
        if (s->p[i].ticks >= due)
          continue;
        struct inflight *f = &c->q[(c->head + c->count) % c->cap];
        snprintf(f->ctl, sizeof(f->ctl), "S%llu-%u-%u-%lld",
                 (unsigned long long)s->seed, run, i, (long long)s->p[i].ticks);
        if ((rc = oru(s, i, s->p[i].ticks, f->ctl, &c->out, &f->values)))
          goto out;
        s->p[i].ticks++;
        f->sent_at = sim_now_s();
        c->count++;
        s->st.msgs_sent++;
        s->st.values_sent += f->values;
        tries = 0;
      }
      pf[k].fd = c->fd;
      pf[k].events = POLLIN | (c->out.len > c->out_off ? POLLOUT : 0);
      pf[k].revents = 0;
      if (c->count > 0)
        pending = true;
    }
    if (ending && (!pending || now >= end_at || *s->stop > 1))
      break;
    int pr = poll(pf, nc, 5);
    if (pr < 0 && errno != EINTR) {
      rc = MV_EIO;
      goto out;
    }
    for (unsigned k = 0; pr > 0 && k < nc; k++) {
      struct mconn *c = &conns[k];
      if (pf[k].revents & POLLOUT) {
        ssize_t w = send(c->fd, c->out.data + c->out_off,
                         c->out.len - c->out_off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0)
          c->out_off += (size_t)w;
        if (c->out_off == c->out.len) {
          mv_buf_reset(&c->out);
          c->out_off = 0;
        }
      }
      if (pf[k].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t r =
            recv(c->fd, c->rx + c->rx_len, RX_MAX - c->rx_len, MSG_DONTWAIT);
        if (r <= 0) {
          if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
          fprintf(stderr, "medverse simulate: MLLP connection closed\n");
          s->st.errors += c->count;
          rc = MV_EIO;
          goto out;
        }
        c->rx_len += (size_t)r;
        on_rx(s, c);
        if (c->rx_len == RX_MAX)
          c->rx_len = 0; /* garbage without frames: drop it */
      }
    }
  }
out:
  for (unsigned k = 0; k < nc; k++) {
    if (conns[k].fd >= 0)
      close(conns[k].fd);
    free(conns[k].q);
    free(conns[k].rx);
    mv_buf_release(&conns[k].out);
  }
  return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MLLP, the Minimal Lower Layer Protocol that carries HL7 v2 over TCP
 * (HL7 v2.5 Implementation Guide, appendix C): every message is framed as
 * 0x0B <message> 0x1C 0x0D. Two layers: a pure framing state machine
 * (struct mv_mllp_framer, no I/O, unit-tested byte by byte) and a libuv TCP
 * listener on the server's loop that hands each complete message to a
 * callback and writes the framed reply. HL7 is request/response in order,
 * so each connection has at most one message in flight; later messages wait
 * in a bounded queue and reading pauses while it is full.
 *
 * MLLP has no authentication: bind it to a device network only (docs/HL7.md).
 */
#ifndef MV_NET_MLLP_H
#define MV_NET_MLLP_H

#include <uv.h>

#include "mv_err.h"

#define MV_MLLP_SB 0x0Bu /* start block */
#define MV_MLLP_EB 0x1Cu /* end block, followed by MV_MLLP_CR */
#define MV_MLLP_CR 0x0Du

/* ---- framing (pure) ------------------------------------------------------ */

/* Fields are private; read the counters only. */
struct mv_mllp_framer {
  unsigned char *buf; /* the frame being collected */
  size_t len, cap, max;
  int state;
  uint64_t skipped_bytes;  /* bytes outside any frame (garbage) */
  uint64_t dropped_frames; /* frames cut short by a new start block or a
                              bad end block */
};

/* max: largest message (payload) in bytes; 0 = MV_LIMIT_MLLP_MSG. */
MV_API void mv_mllp_framer_init(struct mv_mllp_framer *f, size_t max);
MV_API void mv_mllp_framer_release(struct mv_mllp_framer *f);

/*
 * Feed n bytes. Consumes input up to and including the end of the first
 * frame that completes (*out_consumed, always > 0 when n > 0). When a frame
 * completed, *out_msg and *out_len are its payload (borrowed until the next
 * call), else *out_msg is NULL. Bytes before a start block are skipped; a
 * start block inside a frame, or 0x1C not followed by 0x0D, drops the frame
 * collected so far (counted) and resynchronises. MV_ETOOBIG when a frame's
 * payload passes max: the frame is dropped and the framer hunts for the next
 * start block (a listener closes the connection). MV_ENOMEM.
 */
MV_API MV_NODISCARD int mv_mllp_framer_feed(struct mv_mllp_framer *f,
                                            const void *data, size_t n,
                                            size_t *out_consumed,
                                            const unsigned char **out_msg,
                                            size_t *out_len);

/* Frame payload into out (0x0B payload 0x1C 0x0D). Returned, caller frees
 * with free(). NULL on out of memory. */
MV_API unsigned char *mv_mllp_frame(const void *payload, size_t n,
                                    size_t *out_len);

/* ---- listener (loop thread) ---------------------------------------------- */

struct mv_mllp_server;
struct mv_mllp_msg; /* one received message awaiting its reply */

/* A complete message: data (len bytes, borrowed until the call returns).
 * The handler must end every message with exactly one mv_mllp_reply (now or
 * later, on the loop thread) or mv_mllp_msg_drop. */
typedef void (*mv_mllp_msg_fn)(void *ctx, struct mv_mllp_msg *m,
                               const unsigned char *data, size_t len);

struct mv_mllp_opts {
  uv_loop_t *loop;    /* borrowed for the server's life */
  const char *host;   /* listen address (copied) */
  int port;           /* 0 picks a free port */
  unsigned idle_s;    /* close a connection quiet this long; 0 = default */
  size_t msg_max;     /* 0 = MV_LIMIT_MLLP_MSG */
  unsigned conn_max;  /* 0 = MV_LIMIT_MLLP_CONNS */
  unsigned queue_max; /* 0 = MV_LIMIT_MLLP_QUEUE */
  mv_mllp_msg_fn on_message;
  void *ctx; /* borrowed for the server's life */
};

/* Bind and listen on opts->loop. Returned, caller frees with
 * mv_mllp_server_free(). MV_EINVAL, MV_EIO (bind failed; diag says why). */
MV_API MV_NODISCARD int mv_mllp_server_new(const struct mv_mllp_opts *opts,
                                           struct mv_mllp_server **out,
                                           struct mv_diag *diag);
/* The bound port. */
MV_API int mv_mllp_server_port(const struct mv_mllp_server *s);
/* Loop thread: stop listening and close every connection (a shutdown hook).
 * Messages in flight still end with reply or drop; their replies go nowhere. */
MV_API void mv_mllp_server_close(struct mv_mllp_server *s);
/* After mv_mllp_server_close and after the loop ran its close callbacks
 * (the server's loop has finished). Accepts NULL. */
MV_API void mv_mllp_server_free(struct mv_mllp_server *s);

/* Loop thread: send payload (framed here; copied) as the reply to m and end
 * m (freed). The next queued message of the connection is delivered. If the
 * connection closed meanwhile the reply is discarded. */
MV_API void mv_mllp_reply(struct mv_mllp_msg *m, const void *payload, size_t n);
/* End m without a reply. Any thread once the loop has finished (e.g. when
 * mv_server_post failed with MV_ECLOSED); on the loop thread at any time,
 * where it also closes the connection (the peer would wait forever). */
MV_API void mv_mllp_msg_drop(struct mv_mllp_msg *m);

/* Counters for logs and tests (loop thread). */
struct mv_mllp_stats {
  uint64_t accepted, refused, open, messages, replies, oversize, garbage_bytes,
      dropped_frames, idle_closed;
};
MV_API void mv_mllp_server_stats(const struct mv_mllp_server *s,
                                 struct mv_mllp_stats *out);

#endif

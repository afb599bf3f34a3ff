/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixed-size worker pool for CPU work (waveform processing, classifier
 * training, epidemiology jobs, signing). The queue is bounded: submitting to
 * a full queue fails with MV_EBUSY instead of growing. Completion is reported
 * through the job's own callback on the worker thread; code that must resume
 * on the event loop posts back with mv_server_post() (mv_net.h).
 */
#ifndef MV_POOL_H
#define MV_POOL_H

#include "mv_common.h"

struct mv_pool;

typedef void (*mv_pool_fn)(void *arg);

/* Returned, caller frees with mv_pool_free(). threads in 1..MV_LIMIT_POOL_THREADS,
 * queue_cap in 1..MV_LIMIT_POOL_QUEUE (0 means the limit). */
MV_API MV_NODISCARD int mv_pool_new(unsigned threads, unsigned queue_cap,
                                    struct mv_pool **out_pool);
/* Queue fn(arg). arg is borrowed until fn returns. MV_EBUSY when full,
 * MV_ECLOSED after mv_pool_free() started. On error fn is never called. */
MV_API MV_NODISCARD int mv_pool_submit(struct mv_pool *p, mv_pool_fn fn,
                                       void *arg);
/* Block until every queued job has run. */
MV_API void mv_pool_drain(struct mv_pool *p);
/* Runs every queued job, joins the threads and frees. Accepts NULL. */
MV_API void mv_pool_free(struct mv_pool *p);

#endif

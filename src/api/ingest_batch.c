/* SPDX-License-Identifier: Apache-2.0 */
/* Batched device writes. (Placeholder: being written.) */
#include "api_int.h"

int mv_api_ingest_batch(struct mv_api *api, const struct mv_api_item *items,
                        size_t n, const struct mv_auth_principal *principal,
                        const char *actor, const struct mv_api_cursor *cursor,
                        mv_api_batch_fn cb, void *ctx, size_t *out_failed,
                        struct mv_diag *diag) {
  (void)api, (void)items, (void)n, (void)principal, (void)actor;
  (void)cursor, (void)cb, (void)ctx, (void)out_failed;
  mv_diag_set(diag, MV_EUNSUPPORTED, "not built yet");
  return MV_EUNSUPPORTED;
}

int mv_api_cursor_get(struct mv_api *api, const char *stream,
                      int64_t *out_seq) {
  (void)api, (void)stream;
  *out_seq = -1;
  return MV_OK;
}

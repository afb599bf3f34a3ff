/* SPDX-License-Identifier: Apache-2.0 */
/* Ledger routes (issue 6): registered by mv_api_new. */
#include "api_int.h"

int api_ledger_routes(struct mv_api *api, struct mv_diag *diag) {
  (void)api;
  (void)diag;
  return MV_OK;
}

void api_ledger_free(struct mv_api *api) {
  (void)api;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* /ws/device and bulk NDJSON ingestion. (Placeholder: being written.) */
#include "api_int.h"

int api_device_routes(struct mv_api *api, struct mv_diag *diag) {
  (void)api;
  (void)diag;
  return MV_OK;
}

void api_device_free(struct mv_api *api) { (void)api; }

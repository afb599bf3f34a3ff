/* SPDX-License-Identifier: Apache-2.0 */
/* HL7 v2 over MLLP. (Placeholder: being written.) */
#include "api_int.h"

int mv_api_mllp_listen(struct mv_api *api, const char *host, int port,
                       unsigned idle_s, struct mv_diag *diag) {
  (void)api;
  (void)host;
  (void)port;
  (void)idle_s;
  mv_diag_set(diag, MV_EUNSUPPORTED, "MLLP is not built yet");
  return MV_EUNSUPPORTED;
}

int mv_api_mllp_port(const struct mv_api *api) {
  (void)api;
  return 0;
}

void api_mllp_free(struct mv_api *api) { (void)api; }

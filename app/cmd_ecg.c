/* SPDX-License-Identifier: Apache-2.0 */
/* `medverse ecg`. (Placeholder: being written.) */
#include <stdio.h>

#include "cli.h"

int cmd_ecg(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "medverse ecg: not built yet\n");
  return 2;
}

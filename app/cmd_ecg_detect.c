/* SPDX-License-Identifier: Apache-2.0 */
/* `medverse ecg detect`. (Placeholder: being written.) */
#include <stdio.h>

#include "cli.h"

int cmd_ecg_detect(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "medverse ecg detect: not built yet\n");
  return 2;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The surveillance part of `medverse demo` (cmd_demo_epi.c). */
#ifndef MV_APP_CMD_DEMO_EPI_H
#define MV_APP_CMD_DEMO_EPI_H

#include "cli.h"

/* Upload a synthetic multi-region daily case series (one region with a
 * growing outbreak) ending today, then run detection once. */
int demo_epi_seed(const struct cli_env *env);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder until the module lands (issue 3). */
#include "mv_common.h"

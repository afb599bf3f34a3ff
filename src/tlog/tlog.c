/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder until the tamper-evident log lands (issue 6). */
#include "mv_common.h"

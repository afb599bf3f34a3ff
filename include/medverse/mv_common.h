/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Common macros shared by every public medverse header: symbol export under
 * -fvisibility=hidden, must-check results, and printf format checking.
 */
#ifndef MV_COMMON_H
#define MV_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#if defined(__GNUC__) || defined(__clang__)
#define MV_API __attribute__((visibility("default")))
#define MV_NODISCARD __attribute__((warn_unused_result))
#define MV_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define MV_API
#define MV_NODISCARD
#define MV_PRINTF(fmt, args)
#endif

#define MV_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif

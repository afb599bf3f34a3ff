/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every cap on input and queues lives here, so an operator or reviewer can see
 * at one glance how much memory any outside party can make the server hold.
 * Values that are also configurable at run time are the defaults.
 */
#ifndef MV_LIMITS_H
#define MV_LIMITS_H

/* One line per limit reads best as a table. */
/* clang-format off */

/* HTTP */
#define MV_LIMIT_HTTP_BODY_MAX (8u * 1024u * 1024u)  /* request body bytes */
#define MV_LIMIT_HTTP_URI_MAX 4096u                  /* path + query bytes */
#define MV_LIMIT_HTTP_HEADER_MAX 8192u               /* one header value */
#define MV_LIMIT_HTTP_HEADERS_TOTAL 16384u           /* all headers (lws pt_serv_buf_size) */
#define MV_LIMIT_HTTP_RESP_MAX (64u * 1024u * 1024u) /* one response body */
#define MV_LIMIT_HTTP_ROUTES 256u                    /* registered routes */
#define MV_LIMIT_HTTP_CONNS 4096u                    /* concurrent connections */
#define MV_LIMIT_HTTP_HEADERS_KEPT 128u              /* request headers kept per exchange */
#define MV_LIMIT_HTTP_DRAIN_MAX (16u * 1024u * 1024u) /* body bytes read and discarded after a 413 */
#define MV_LIMIT_LOOP_POST_QUEUE 4096u               /* tasks waiting for the loop thread (mv_server_post) */
#define MV_LIMIT_METRICS_SERIES_PER_ROUTE 64u        /* (method, status) series per route in /metrics */

/* WebSocket and pub/sub hub */
#define MV_LIMIT_WS_MSG_MAX (1024u * 1024u)    /* one inbound message */
#define MV_LIMIT_WS_QUEUE_MSGS 1024u           /* queued outbound messages per connection */
#define MV_LIMIT_WS_QUEUE_BYTES (8u * 1024u * 1024u) /* queued outbound bytes per connection */
#define MV_LIMIT_WS_TOPICS_PER_CONN 256u       /* subscriptions per connection */
#define MV_LIMIT_WS_TOPIC_LEN 128u             /* bytes in one topic name */

/* JSON */
#define MV_LIMIT_JSON_DEPTH 64                 /* nesting depth */
#define MV_LIMIT_JSON_TEXT_MAX MV_LIMIT_HTTP_BODY_MAX /* bytes in one document */

/* Store */
#define MV_LIMIT_STORE_QUEUE 65536u            /* pending writes before MV_EBUSY */
#define MV_LIMIT_STORE_QUEUE_BYTES (256u * 1024u * 1024u) /* pending body bytes before MV_EBUSY */
#define MV_LIMIT_STORE_INDEX_VALUE 1024u       /* bytes in one index column value (patient, code, status) */
#define MV_LIMIT_STORE_BATCH_MAX 1000u         /* default writes per group commit */
#define MV_LIMIT_STORE_BATCH_DELAY_US 2000     /* default max wait before committing */
#define MV_LIMIT_STORE_RESOURCE_MAX MV_LIMIT_HTTP_BODY_MAX /* stored JSON bytes */
#define MV_LIMIT_ID_LEN 64u                    /* FHIR id: [A-Za-z0-9\-\.]{1,64} */
#define MV_LIMIT_TYPE_LEN 64u                  /* resource type name */

/* FHIR (the fhir module; mv_fhir.h and mv_fhir_search.h name them too) */
#define MV_LIMIT_FHIR_ISSUES 32u                 /* issues kept in one OperationOutcome */
#define MV_LIMIT_FHIR_SEARCH_QUERY 8192u         /* bytes of one raw search query */
#define MV_LIMIT_FHIR_SEARCH_TERMS 32u           /* ANDed parameters in one search */
#define MV_LIMIT_FHIR_SEARCH_VALUES 32u          /* ORed values in one parameter */
#define MV_LIMIT_FHIR_SEARCH_WORDS 8u            /* words in one string search value */
#define MV_LIMIT_FHIR_SEARCH_COUNT 1000u         /* largest _count */
#define MV_LIMIT_FHIR_SEARCH_OFFSET 100000000u   /* largest _offset */
#define MV_LIMIT_FHIR_INDEX_TERMS 256u           /* index terms taken from one resource */
#define MV_LIMIT_FHIR_INDEX_VALUE 1024u          /* bytes of one indexed system or code */
#define MV_LIMIT_FHIR_STRING_WORDS 32u           /* words indexed from one string element */
#define MV_LIMIT_FHIR_BUNDLE_ENTRIES 1000u       /* entries in one batch or transaction */

/* Accounts and tokens (the auth module; mv_auth.h names them too) */
#define MV_LIMIT_AUTH_PASSWORD_MIN 8u            /* bytes in a password or device secret */
#define MV_LIMIT_AUTH_PASSWORD 1024u             /* bytes in a password or device secret */
#define MV_LIMIT_AUTH_SCOPES 16u                 /* resource scopes in one token */
#define MV_LIMIT_AUTH_SCOPE_TEXT 1280u           /* bytes in a space-separated scope list */
#define MV_LIMIT_AUTH_TOKEN 4096u                /* bytes in a bearer token */
#define MV_LIMIT_AUTH_TOKEN_TTL_S (7 * 24 * 3600) /* longest token life */
#define MV_LIMIT_AUTH_LIMITER_KEYS 4096u         /* accounts/addresses the login limiter tracks */

/* Store search index and transactions (mv_store.h names them too) */
#define MV_LIMIT_STORE_PARAM 64u                 /* bytes in a search parameter name */
#define MV_LIMIT_STORE_TERMS 256u                /* index terms per write */
#define MV_LIMIT_STORE_STRING_PREFIX 32u         /* UTF-8 characters hashed per name word */
#define MV_LIMIT_STORE_QUERY_VALUES 1024u        /* values over all lists of one query */
#define MV_LIMIT_STORE_QUERY_ROWS 1000u          /* rows in one search page */
#define MV_LIMIT_STORE_TX 1000u                  /* writes in one transaction */

/* Configuration */
#define MV_LIMIT_CONFIG_FILE_MAX (256u * 1024u) /* config file bytes */
#define MV_LIMIT_CONFIG_LINE_MAX 4096u          /* one config line */
#define MV_LIMIT_PATH_MAX 4096u                 /* a file system path */

/* Worker pool */
#define MV_LIMIT_POOL_QUEUE 4096u              /* pending jobs before MV_EBUSY */
#define MV_LIMIT_POOL_THREADS 64u

/* Logging */
#define MV_LIMIT_LOG_LINE 2048u                /* one formatted log line */

/* Arenas */
#define MV_LIMIT_ARENA_DEFAULT (16u * 1024u * 1024u) /* per-request arena cap */

/* clang-format on */

#endif

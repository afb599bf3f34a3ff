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

/* Outbreak detection (mv_epi_detect.h) */
#define MV_LIMIT_EPI_UNITS 100000u               /* units in one detection panel */
#define MV_LIMIT_EPI_POINTS 1000000u             /* time points in one unit's series */
#define MV_LIMIT_EPI_UNIT_NAME 256u              /* bytes in a unit name */
#define MV_LIMIT_EPI_COUNT 1000000000u           /* largest count at one time point */

/* Ledger command line and witness (app/cmd_ledger*.c) */
#define MV_LIMIT_LEDGER_HTTP_BODY (4u * 1024u * 1024u) /* one HTTP response */
#define MV_LIMIT_LEDGER_HTTP_CONNECT_MS 5000u    /* connect timeout */
#define MV_LIMIT_LEDGER_HTTP_TOTAL_MS 30000u     /* whole-request timeout */
#define MV_LIMIT_LEDGER_TOKEN 4096u              /* bearer token file bytes */
#define MV_LIMIT_LEDGER_KEYFILE 4096u            /* key or state file bytes */
#define MV_LIMIT_LEDGER_INTERVAL_S 86400u        /* longest witness interval */

/* Surveillance in the server (src/api/epi*.c, src/store/sqlite_epi.c) */
#define MV_LIMIT_EPI_SRV_NAME 64u          /* bytes in a region/disease/site */
#define MV_LIMIT_EPI_SRV_UPLOAD_ROWS 200000u /* count rows in one upload */
#define MV_LIMIT_EPI_SRV_DAYS 7400u        /* days in one served series (~20 y) */
#define MV_LIMIT_EPI_SRV_SERIES 10000u     /* region x disease series per run */
#define MV_LIMIT_EPI_SRV_ALERTS 1000u      /* alerts in one listing */
#define MV_LIMIT_EPI_SRV_HORIZON 60u       /* forecast days */

/* Ledger in the store and its HTTP API (src/store/sqlite_ledger.c, src/api/ledger*.c) */
#define MV_LIMIT_LEDGER_ACTOR 128u         /* bytes in a ledger entry's actor */
#define MV_LIMIT_LEDGER_ENTRIES 1000u      /* entries in one GET /ledger/entries */
#define MV_LIMIT_LEDGER_WITNESSES 16u      /* configured witness keys */
#define MV_LIMIT_LEDGER_NOTE 8192u         /* a checkpoint note with its cosignatures */
#define MV_LIMIT_LEDGER_COSIG_BODY 16384u  /* a POST /ledger/cosignature body */

/* Tamper-evident log module (src/tlog, mv_tlog.h) */
#define MV_LIMIT_TLOG_LEAF 4096u           /* bytes of one leaf's data */
#define MV_LIMIT_TLOG_BATCH 100000u        /* leaves in one mv_tlog_append */
#define MV_LIMIT_TLOG_NOTE 16384u          /* bytes of a signed note */
#define MV_LIMIT_TLOG_NOTE_SIGS 32u        /* signature lines in one note */
#define MV_LIMIT_TLOG_ORIGIN 255u          /* bytes of a checkpoint origin line */
#define MV_LIMIT_TLOG_CHECKPOINT_EXT 1024u /* bytes of checkpoint extension lines */

/* Rt, forecast and sharing (src/epi/rt.c, forecast.c, share.c, mv_epi.h) */
#define MV_LIMIT_EPI_RT_DAYS 100000u       /* days of incidence in one Rt run */
#define MV_LIMIT_EPI_RT_WINDOWS 100000u    /* windows in one Rt run */
#define MV_LIMIT_EPI_SI_LEN 100000u        /* entries of a serial-interval pmf */
#define MV_LIMIT_EPI_HORIZON 365u          /* forecast days */
#define MV_LIMIT_EPI_REGION 64u            /* bytes in a shared region name */
#define MV_LIMIT_EPI_REGIONS 100000u       /* regions in one shared table */
#define MV_LIMIT_EPI_PERIODS 10000u        /* periods in one shared table */
#define MV_LIMIT_EPI_CELLS 10000000u       /* cells in one shared table */
#define MV_LIMIT_EPI_QCACHE 65536u         /* shapes memoised by one qcache */

/* Triage inquiry and sessions (src/clf/inquiry.c, src/api/triage*.c) */
#define MV_LIMIT_CLF_INQ_CONCEPTS 256u     /* concepts in one inquiry table */
#define MV_LIMIT_CLF_INQ_LABELS 1024u      /* labels in one inquiry table */
#define MV_LIMIT_CLF_INQ_TRAIN 2000000u    /* training texts for one build */
#define MV_LIMIT_CLF_INQ_TEXT 65536u       /* bytes of one text scanned */
#define MV_LIMIT_CLF_INQ_BYTES (4u << 20)  /* bytes of a saved table */
#define MV_LIMIT_TRIAGE_SESSIONS 1024u     /* live triage sessions */
#define MV_LIMIT_TRIAGE_PER_ACCOUNT 32u    /* live sessions of one account */
#define MV_LIMIT_TRIAGE_IDLE_S 1800u       /* idle seconds before expiry */
#define MV_LIMIT_TRIAGE_BODY 16384u        /* bytes of a session request body */
#define MV_LIMIT_TRIAGE_TEXT 4096u         /* bytes of the patient's text */
#define MV_LIMIT_TRIAGE_QUESTIONS 12u      /* questions in one session */

/* Triage classifier (src/clf, mv_clf.h) */
#define MV_LIMIT_CLF_TEXT 16384u            /* bytes of one text tokenized */
#define MV_LIMIT_CLF_TOKENS 65536u          /* tokens of one text */
#define MV_LIMIT_CLF_MODEL (64u << 20)      /* bytes of a model file */
#define MV_LIMIT_CLF_LABELS 1024u           /* labels in one model */
#define MV_LIMIT_CLF_LABEL 256u             /* bytes of one label name */
#define MV_LIMIT_CLF_ROWS 1000000u          /* training documents */
#define MV_LIMIT_CLF_FEATURES (4u << 20)    /* vocabulary features */
#define MV_LIMIT_CLF_SECTIONS 32u           /* sections in a model file */

/* Triage safety: context, red flags, assessment (src/clf/context.c, redflag.c,
 * triage.c; app/cmd_triage_predict.c) */
#define MV_LIMIT_CLF_CX_TEXT 16384u         /* bytes of one text analysed */
#define MV_LIMIT_CLF_RF_HITS 16u            /* red-flag matches reported */
#define MV_LIMIT_CLF_TRIAGE_TOPK 5u         /* labels in a differential */
#define MV_LIMIT_CLF_TRIAGE_LINE 16384u     /* bytes of one `predict` line */

/* HL7 v2 over MLLP (src/net/mllp.c, src/dev/hl7*.c, src/api/device_mllp.c) */
#define MV_LIMIT_MLLP_MSG (1u << 20)       /* bytes of one framed HL7 message */
#define MV_LIMIT_MLLP_CONNS 512u           /* open MLLP connections */
#define MV_LIMIT_MLLP_QUEUE 16u            /* messages queued behind the one in flight, per connection */
#define MV_LIMIT_MLLP_IDLE_S 300u          /* default idle seconds before a connection is closed */
#define MV_LIMIT_MLLP_DEDUP 8192u          /* recent (sender, MSH-10) pairs remembered */
#define MV_LIMIT_MLLP_DEDUP_S 86400u       /* seconds a remembered control id answers AA again */
#define MV_LIMIT_HL7_SEGMENTS 4096u        /* segments in one message */
#define MV_LIMIT_HL7_FIELDS 256u           /* fields in one segment */
#define MV_LIMIT_HL7_OBS 1000u             /* observations taken from one message */

/* clang-format on */

#endif

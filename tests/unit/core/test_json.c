/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the JSON layer (src/core/json.c): strict parsing with exact
 * error positions, duplicate keys, limits, numbers kept as written through a
 * round trip, and typed member access with path-exact diagnostics.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_json.h"
#include "mv_limits.h"

/* ---- helpers ----------------------------------------------------------- */

static struct json_object *parse_ok(const char *text) {
  struct json_object *obj = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_json_parse(text, strlen(text), &obj, &d);
  if (rc != MV_OK)
    print_error("unexpected error %s: %s\n", mv_err_name(rc), d.msg);
  assert_int_equal(rc, MV_OK);
  return obj;
}

/* Parses text (len bytes), expects err, returns the diagnostic. */
static struct mv_diag parse_fails_n(const char *text, size_t len, int err) {
  struct json_object *sentinel = (struct json_object *)&sentinel;
  struct json_object *obj = sentinel;
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_json_parse(text, len, &obj, &d);
  if (rc != err)
    print_error("input [%.*s]: got %s\n", (int)len, text, mv_err_name(rc));
  assert_int_equal(rc, err);
  assert_ptr_equal(obj, sentinel); /* untouched on error */
  assert_int_equal(d.err, err);
  assert_true(d.msg[0] != '\0');
  return d;
}

static struct mv_diag parse_fails(const char *text, int err) {
  return parse_fails_n(text, strlen(text), err);
}

/* Parse then write compactly; the output must equal expect. */
static void assert_round_trip(const char *text, const char *expect) {
  struct json_object *obj = parse_ok(text);
  struct mv_buf b;
  mv_buf_init(&b, 1u << 20);
  assert_int_equal(mv_json_write(&b, obj), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), expect);
  mv_buf_release(&b);
  json_object_put(obj);
}

/* ---- parsing and round trips ------------------------------------------ */

static void json_keeps_decimal_text(void **state) {
  (void)state;
  const char *t = "{\"v\":37.10,\"w\":1e2,\"x\":-0.0,\"y\":100}";
  assert_round_trip(t, t);
  assert_round_trip("[1E+2,0.0000001,1e-7,-1.50e-05,1e400]",
                    "[1E+2,0.0000001,1e-7,-1.50e-05,1e400]");
}

static void json_keeps_negative_zero_integer(void **state) {
  (void)state;
  assert_round_trip("[-0,0,{\"a\":-0}]", "[-0,0,{\"a\":-0}]");
  assert_round_trip("-0", "-0");
}

static void json_keeps_big_integers_exact(void **state) {
  (void)state;
  const char *t = "{\"n\":123456789012345678901234,"
                  "\"m\":-123456789012345678901234,"
                  "\"u\":18446744073709551615,\"o\":18446744073709551616,"
                  "\"i\":-9223372036854775808,\"j\":-9223372036854775809,"
                  "\"k\":[9223372036854775807,99999999999999999999999]}";
  assert_round_trip(t, t);
  assert_round_trip("123456789012345678901234", "123456789012345678901234");
}

static void json_write_is_compact(void **state) {
  (void)state;
  assert_round_trip("{ \"a\" : [ 1 , 2 ] ,\r\n\t\"b\" : \"x/y\" , \"c\":{ } }",
                    "{\"a\":[1,2],\"b\":\"x/y\",\"c\":{}}");
}

static void json_round_trips_unicode_escapes(void **state) {
  (void)state;
  /* Escapes decode to raw UTF-8, surrogate pairs to one code point. */
  assert_round_trip("[\"\\u00e9\\ud83d\\ude00\\u0041\",\"caf\xc3\xa9\"]",
                    "[\"\xc3\xa9\xf0\x9f\x98\x80"
                    "A\",\"caf\xc3\xa9\"]");
  /* Control characters and \u0000 in values come back escaped. */
  assert_round_trip("[\"a\\nb\\u0000c\\u001f\"]", "[\"a\\nb\\u0000c\\u001f\"]");
}

static void json_parses_bare_values(void **state) {
  (void)state;
  assert_round_trip("true", "true");
  assert_round_trip(" 42 ", "42");
  assert_round_trip("\"s\"", "\"s\"");
  assert_round_trip("37.10", "37.10");
  assert_round_trip("[]", "[]");
}

static void json_parses_bare_null_to_null(void **state) {
  (void)state;
  struct json_object *sentinel = (struct json_object *)&sentinel;
  struct json_object *obj = sentinel;
  assert_int_equal(mv_json_parse(" null\n", 6, &obj, NULL), MV_OK);
  assert_null(obj);
  struct mv_buf b;
  mv_buf_init(&b, 64);
  assert_int_equal(mv_json_write(&b, NULL), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "null");
  mv_buf_release(&b);
}

static void json_accepts_empty_key_and_same_key_in_siblings(void **state) {
  (void)state;
  assert_round_trip("{\"\":[],\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}",
                    "{\"\":[],\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}");
}

static void json_parses_fhir_observation(void **state) {
  (void)state;
  const char *t =
      "{\"resourceType\":\"Observation\",\"id\":\"hr-1\",\"status\":\"final\","
      "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\","
      "\"code\":\"8867-4\",\"display\":\"Heart rate\"}]},"
      "\"valueQuantity\":{\"value\":72.0,\"unit\":\"/min\","
      "\"system\":\"http://unitsofmeasure.org\",\"code\":\"/min\"}}";
  struct json_object *obs = parse_ok(t);
  struct json_object *code = NULL, *coding = NULL, *vq = NULL;
  const char *s = NULL, *num = NULL;
  double v = 0;
  assert_int_equal(
      mv_json_get_object(obs, "Observation", "code", true, &code, NULL), MV_OK);
  assert_int_equal(mv_json_get_array(code, "Observation.code", "coding", true,
                                     &coding, NULL),
                   MV_OK);
  assert_int_equal(json_object_array_length(coding), 1);
  assert_int_equal(mv_json_get_string(json_object_array_get_idx(coding, 0),
                                      "Observation.code.coding[0]", "code",
                                      true, &s, NULL),
                   MV_OK);
  assert_string_equal(s, "8867-4");
  assert_int_equal(
      mv_json_get_object(obs, "Observation", "valueQuantity", true, &vq, NULL),
      MV_OK);
  assert_int_equal(mv_json_get_number(vq, "Observation.valueQuantity", "value",
                                      true, &v, &num, NULL),
                   MV_OK);
  assert_true(v == 72.0);
  assert_string_equal(num, "72.0");
  json_object_put(obs);
  assert_round_trip(t, t);
}

/* ---- syntax errors and their positions -------------------------------- */

static void json_rejects_trailing_comma(void **state) {
  (void)state;
  struct mv_diag d = parse_fails("[1,2,]", MV_EPARSE);
  assert_int_equal(d.line, 1);
  assert_int_equal(d.col, 6);
  assert_int_equal(d.offset, 5);
  assert_non_null(strstr(d.msg, "trailing comma"));
  d = parse_fails("{\"a\":1, }", MV_EPARSE);
  assert_int_equal(d.offset, 8);
  assert_non_null(strstr(d.msg, "trailing comma"));
}

static void json_reports_line_and_column(void **state) {
  (void)state;
  struct mv_diag d = parse_fails("{\n  \"a\": 1,\n  \"b\": x\n}", MV_EPARSE);
  assert_int_equal(d.line, 3);
  assert_int_equal(d.col, 8);
  assert_int_equal(d.offset, 19);
  assert_non_null(strstr(d.msg, "unexpected character"));
}

static void json_column_counts_characters_not_bytes(void **state) {
  (void)state;
  /* "é" is two bytes but one column. */
  struct mv_diag d = parse_fails("[\"\xc3\xa9\", ?]", MV_EPARSE);
  assert_int_equal(d.line, 1);
  assert_int_equal(d.col, 7);
  assert_int_equal(d.offset, 7);
}

static void json_rejects_duplicate_key(void **state) {
  (void)state;
  struct mv_diag d = parse_fails("{\"a\":1,\"b\":2,\"a\":3}", MV_EPARSE);
  assert_string_equal(d.msg, "duplicate key \"a\"");
  assert_int_equal(d.offset, 13); /* the second "a" */
  assert_int_equal(d.col, 14);
}

static void json_rejects_duplicate_key_spelled_differently(void **state) {
  (void)state;
  struct mv_diag d = parse_fails("{\"a\":1,\"\\u0061\":2}", MV_EPARSE);
  assert_non_null(strstr(d.msg, "duplicate key"));
  parse_fails("{\"\xf0\x9f\x98\x80\":1,\"\\ud83d\\ude00\":2}", MV_EPARSE);
  d = parse_fails("{\"\":[],\"\":\"b\"}", MV_EPARSE); /* found by fuzzing */
  assert_string_equal(d.msg, "duplicate key \"\"");
}

static void json_rejects_duplicate_key_in_nested_object(void **state) {
  (void)state;
  char big[4096];
  size_t n = 0;
  /* A large object (sorted path) with the duplicate far from the first. */
  n += (size_t)snprintf(big + n, sizeof(big) - n, "{\"o\":{");
  for (int i = 0; i < 100; i++)
    n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k%d\":%d,", i, i);
  n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k42\":0}}");
  struct mv_diag d = parse_fails(big, MV_EPARSE);
  assert_string_equal(d.msg, "duplicate key \"k42\"");
  assert_int_equal((size_t)d.offset, n - 9);
}

static void json_rejects_too_deep(void **state) {
  (void)state;
  char t[2 * MV_LIMIT_JSON_DEPTH + 8];
  int depth = MV_LIMIT_JSON_DEPTH;
  /* Exactly the limit, with a scalar in the innermost array, is fine. */
  memset(t, '[', (size_t)depth);
  t[depth] = '1';
  memset(t + depth + 1, ']', (size_t)depth);
  t[2 * depth + 1] = '\0';
  json_object_put(parse_ok(t));
  /* One more level is not. */
  depth++;
  memset(t, '[', (size_t)depth);
  memset(t + depth, ']', (size_t)depth);
  t[2 * depth] = '\0';
  struct mv_diag d = parse_fails(t, MV_ETOOBIG);
  assert_int_equal(d.offset, MV_LIMIT_JSON_DEPTH);
}

static void json_accepts_objects_at_depth_limit(void **state) {
  (void)state;
  char t[8 * MV_LIMIT_JSON_DEPTH];
  size_t n = 0;
  for (int i = 0; i < MV_LIMIT_JSON_DEPTH; i++)
    n += (size_t)snprintf(t + n, sizeof(t) - n, "{\"a\":");
  n += (size_t)snprintf(t + n, sizeof(t) - n, "1");
  for (int i = 0; i < MV_LIMIT_JSON_DEPTH; i++)
    t[n++] = '}';
  t[n] = '\0';
  assert_round_trip(t, t);
}

static void json_rejects_too_big(void **state) {
  (void)state;
  size_t len = (size_t)MV_LIMIT_JSON_TEXT_MAX + 1;
  char *t = malloc(len);
  assert_non_null(t);
  memset(t, ' ', len);
  t[0] = '1';
  parse_fails_n(t, len, MV_ETOOBIG);
  free(t);
}

static void json_rejects_nul_byte(void **state) {
  (void)state;
  struct mv_diag d = parse_fails_n("[1,\0 2]", 7, MV_EPARSE);
  assert_int_equal(d.offset, 3);
  assert_non_null(strstr(d.msg, "NUL"));
  d = parse_fails_n("[\"a\0b\"]", 7, MV_EPARSE);
  assert_int_equal(d.offset, 3);
  d = parse_fails_n("{}\0", 3, MV_EPARSE);
  assert_int_equal(d.offset, 2);
}

static void json_rejects_invalid_utf8(void **state) {
  (void)state;
  static const char *const bad[] = {
      "\"\xff\"",             /* never valid */
      "\"\xc0\xaf\"",         /* overlong '/' */
      "\"\xe0\x80\xaf\"",     /* overlong, three bytes */
      "\"\xed\xa0\x80\"",     /* UTF-16 surrogate encoded in UTF-8 */
      "\"\xf4\x90\x80\x80\"", /* beyond U+10FFFF */
      "\"\xe2\x82\"",         /* truncated */
      "\"\x80\"",             /* lone continuation byte */
      "[\xc3\xa9]",           /* valid UTF-8, but outside a string */
  };
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++) {
    struct mv_diag d = parse_fails(bad[i], MV_EPARSE);
    assert_int_equal(d.offset, 1);
  }
}

static void json_rejects_unpaired_surrogate_escape(void **state) {
  (void)state;
  parse_fails("\"\\ud83d\"", MV_EPARSE);
  parse_fails("\"\\ud83dx\"", MV_EPARSE);
  parse_fails("\"\\ud83d\\u0041\"", MV_EPARSE);
  struct mv_diag d = parse_fails("[\"\\ude00\"]", MV_EPARSE);
  assert_int_equal(d.offset, 2);
  assert_non_null(strstr(d.msg, "surrogate"));
}

static void json_rejects_bad_escapes_and_control_chars(void **state) {
  (void)state;
  parse_fails("\"\\x\"", MV_EPARSE);
  parse_fails("\"\\u12g4\"", MV_EPARSE);
  parse_fails("\"\\u12\"", MV_EPARSE);
  struct mv_diag d = parse_fails("\"a\tb\"", MV_EPARSE);
  assert_int_equal(d.offset, 2);
  d = parse_fails("[\"abc", MV_EPARSE);
  assert_int_equal(d.offset, 1);
  assert_non_null(strstr(d.msg, "unterminated"));
  parse_fails("\"\\", MV_EPARSE);
}

static void json_rejects_nul_escape_in_key(void **state) {
  (void)state;
  /* json-c would cut the key to "a" and so merge it with a real "a". */
  struct mv_diag d = parse_fails("{\"a\\u0000b\":1}", MV_EPARSE);
  assert_int_equal(d.offset, 3);
}

static void json_rejects_trailing_data(void **state) {
  (void)state;
  struct mv_diag d = parse_fails("[1] x", MV_EPARSE);
  assert_int_equal(d.offset, 4);
  assert_non_null(strstr(d.msg, "after the value"));
  parse_fails("1 2", MV_EPARSE);
  parse_fails("{}{}", MV_EPARSE);
  parse_fails("truex", MV_EPARSE);
  parse_fails("123abc", MV_EPARSE);
}

static void json_rejects_non_json_numbers(void **state) {
  (void)state;
  static const char *const bad[] = {
      "NaN", "Infinity", "-Infinity", "[nan]", "1.",   ".5",   "01",  "-01",
      "+1",  "1e",       "1e+",       "-",     "0x10", "1.e3", "[-]", "- 1"};
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++)
    parse_fails(bad[i], MV_EPARSE);
  struct mv_diag d = parse_fails("[01]", MV_EPARSE);
  assert_non_null(strstr(d.msg, "leading zero"));
  assert_int_equal(d.offset, 2);
}

static void json_rejects_non_strict_syntax(void **state) {
  (void)state;
  parse_fails("{'a':1}", MV_EPARSE);
  parse_fails("/* c */ 1", MV_EPARSE);
  parse_fails("[1] // c", MV_EPARSE);
  parse_fails("{a:1}", MV_EPARSE);
  parse_fails("{\"a\" 1}", MV_EPARSE);
  parse_fails("{\"a\":1 \"b\":2}", MV_EPARSE);
  parse_fails("[1 2]", MV_EPARSE);
  parse_fails("TRUE", MV_EPARSE);
  parse_fails("nul", MV_EPARSE);
  parse_fails("[\f1]", MV_EPARSE); /* form feed is not JSON whitespace */
  parse_fails("[,1]", MV_EPARSE);
  parse_fails("{,}", MV_EPARSE);
}

static void json_rejects_empty_and_truncated_input(void **state) {
  (void)state;
  struct mv_diag d = parse_fails("", MV_EPARSE);
  assert_int_equal(d.line, 1);
  assert_int_equal(d.col, 1);
  assert_int_equal(d.offset, 0);
  assert_non_null(strstr(d.msg, "end of input"));
  parse_fails(" \n ", MV_EPARSE);
  d = parse_fails("{\"a\":[1,", MV_EPARSE);
  assert_int_equal(d.offset, 8);
  assert_non_null(strstr(d.msg, "end of input"));
  assert_int_equal(mv_json_parse(NULL, 0, &(struct json_object *){NULL}, NULL),
                   MV_EPARSE);
}

static void json_parse_rejects_bad_arguments(void **state) {
  (void)state;
  struct json_object *obj = NULL;
  assert_int_equal(mv_json_parse("1", 1, NULL, NULL), MV_EINVAL);
  assert_int_equal(mv_json_parse(NULL, 3, &obj, NULL), MV_EINVAL);
}

static void json_diag_never_contains_values(void **state) {
  (void)state;
  struct mv_diag d =
      parse_fails("{\"name\":\"SECRET\",\"x\":SECRET}", MV_EPARSE);
  assert_null(strstr(d.msg, "SECRET"));
  struct json_object *o = parse_ok("{\"name\":\"SECRET\"}");
  int64_t n = 0;
  assert_int_equal(mv_json_get_int64(o, "Patient", "name", true, &n, &d),
                   MV_EINVAL);
  assert_null(strstr(d.msg, "SECRET"));
  json_object_put(o);
}

/* ---- writing ----------------------------------------------------------- */

static void json_write_appends_to_buffer(void **state) {
  (void)state;
  struct json_object *o = parse_ok("{\"a\":[true,false,null]}");
  struct mv_buf b;
  mv_buf_init(&b, 1024);
  assert_int_equal(mv_buf_appends(&b, "x="), MV_OK);
  assert_int_equal(mv_json_write(&b, o), MV_OK);
  assert_string_equal(mv_buf_cstr(&b), "x={\"a\":[true,false,null]}");
  mv_buf_release(&b);
  json_object_put(o);
}

static void json_write_reports_too_big(void **state) {
  (void)state;
  struct json_object *o = parse_ok("{\"a\":\"long enough\"}");
  struct mv_buf b;
  mv_buf_init(&b, 10);
  assert_int_equal(mv_buf_appends(&b, "ab"), MV_OK);
  assert_int_equal(mv_json_write(&b, o), MV_ETOOBIG);
  assert_string_equal(mv_buf_cstr(&b), "ab"); /* unchanged */
  assert_int_equal(mv_json_write(NULL, o), MV_EINVAL);
  mv_buf_release(&b);
  json_object_put(o);
}

static void json_new_decimal_keeps_text(void **state) {
  (void)state;
  static const char *const good[] = {"37.10", "-0", "1E+2", "0.000",
                                     "123456789012345678901234"};
  for (size_t i = 0; i < MV_ARRAY_LEN(good); i++) {
    struct json_object *o = NULL;
    assert_int_equal(mv_json_new_decimal(good[i], &o), MV_OK);
    struct mv_buf b;
    mv_buf_init(&b, 256);
    assert_int_equal(mv_json_write(&b, o), MV_OK);
    assert_string_equal(mv_buf_cstr(&b), good[i]);
    mv_buf_release(&b);
    json_object_put(o);
  }
  struct json_object *o = NULL;
  assert_int_equal(mv_json_new_decimal("37.10", &o), MV_OK);
  assert_true(json_object_get_double(o) == 37.1);
  json_object_put(o);
}

static void json_new_decimal_rejects_invalid_number(void **state) {
  (void)state;
  static const char *const bad[] = {"",    "1.", ".5", "01",  "+1",  "1e",
                                    "NaN", "1 ", " 1", "abc", "1,0", "--1"};
  struct json_object *sentinel = (struct json_object *)&sentinel;
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++) {
    struct json_object *o = sentinel;
    assert_int_equal(mv_json_new_decimal(bad[i], &o), MV_EINVAL);
    assert_ptr_equal(o, sentinel);
  }
  assert_int_equal(mv_json_new_decimal(NULL, &sentinel), MV_EINVAL);
  assert_int_equal(mv_json_new_decimal("1", NULL), MV_EINVAL);
}

/* ---- typed access ------------------------------------------------------ */

static void json_get_string_reports_path(void **state) {
  (void)state;
  struct json_object *o = parse_ok("{\"code\":5}");
  const char *s = "untouched";
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(
      mv_json_get_string(o, "Observation.valueQuantity", "code", true, &s, &d),
      MV_EINVAL);
  assert_string_equal(s, "untouched");
  assert_int_equal(d.err, MV_EINVAL);
  assert_string_equal(d.path, "Observation.valueQuantity.code");
  assert_string_equal(d.msg, "expected a string, found int");
  json_object_put(o);
}

static void json_get_reports_missing_required_member(void **state) {
  (void)state;
  struct json_object *o = parse_ok("{\"a\":1}");
  struct json_object *sub = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_json_get_object(o, "Patient", "name", true, &sub, &d),
                   MV_ENOTFOUND);
  assert_null(sub);
  assert_int_equal(d.err, MV_ENOTFOUND);
  assert_string_equal(d.path, "Patient.name");
  assert_non_null(strstr(d.msg, "missing"));
  json_object_put(o);
}

static void json_get_optional_missing_leaves_diag(void **state) {
  (void)state;
  struct json_object *o = parse_ok("{\"a\":1}");
  struct json_object *arr = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_json_get_array(o, "Patient", "name", false, &arr, &d),
                   MV_ENOTFOUND);
  assert_int_equal(d.err, MV_OK);
  assert_string_equal(d.path, "");
  assert_null(arr);
  json_object_put(o);
}

static void json_get_uses_key_alone_when_path_empty(void **state) {
  (void)state;
  struct json_object *o = parse_ok("{\"a\":\"x\"}");
  bool bv = false;
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_json_get_bool(o, NULL, "a", true, &bv, &d), MV_EINVAL);
  assert_string_equal(d.path, "a");
  assert_int_equal(mv_json_get_bool(o, "", "a", true, &bv, &d), MV_EINVAL);
  assert_string_equal(d.path, "a");
  assert_string_equal(d.msg, "expected a boolean, found string");
  json_object_put(o);
}

static void json_get_typed_members(void **state) {
  (void)state;
  struct json_object *o =
      parse_ok("{\"s\":\"txt\",\"b\":true,\"o\":{},\"a\":[1],\"n\":37.10}");
  const char *s = NULL;
  bool bv = false;
  struct json_object *sub = NULL, *arr = NULL;
  assert_int_equal(mv_json_get_string(o, "R", "s", true, &s, NULL), MV_OK);
  assert_string_equal(s, "txt");
  assert_int_equal(mv_json_get_bool(o, "R", "b", true, &bv, NULL), MV_OK);
  assert_true(bv);
  assert_int_equal(mv_json_get_object(o, "R", "o", true, &sub, NULL), MV_OK);
  assert_true(json_object_is_type(sub, json_type_object));
  assert_int_equal(mv_json_get_array(o, "R", "a", true, &arr, NULL), MV_OK);
  assert_int_equal(json_object_array_length(arr), 1);
  /* Each getter refuses the other kinds. */
  assert_int_equal(mv_json_get_object(o, "R", "a", true, &sub, NULL),
                   MV_EINVAL);
  assert_int_equal(mv_json_get_array(o, "R", "o", true, &arr, NULL), MV_EINVAL);
  assert_int_equal(mv_json_get_bool(o, "R", "n", true, &bv, NULL), MV_EINVAL);
  assert_int_equal(mv_json_get_number(o, "R", "s", true, NULL, NULL, NULL),
                   MV_EINVAL);
  json_object_put(o);
}

static void json_get_number_gives_exact_text(void **state) {
  (void)state;
  struct json_object *o = parse_ok(
      "{\"d\":37.10,\"i\":100,\"e\":1e2,\"big\":123456789012345678901234}");
  double v = 0;
  const char *t = NULL;
  assert_int_equal(mv_json_get_number(o, "R", "d", true, &v, &t, NULL), MV_OK);
  assert_true(v == 37.1);
  assert_string_equal(t, "37.10");
  assert_int_equal(mv_json_get_number(o, "R", "i", true, &v, &t, NULL), MV_OK);
  assert_true(v == 100.0);
  assert_string_equal(t, "100");
  assert_int_equal(mv_json_get_number(o, "R", "e", true, &v, &t, NULL), MV_OK);
  assert_true(v == 100.0);
  assert_string_equal(t, "1e2");
  assert_int_equal(mv_json_get_number(o, "R", "big", true, &v, &t, NULL),
                   MV_OK);
  assert_string_equal(t, "123456789012345678901234");
  assert_true(v > 1.2e23 && v < 1.3e23);
  json_object_put(o);
}

static void json_get_int64_rejects_fraction_and_exponent(void **state) {
  (void)state;
  struct json_object *o =
      parse_ok("{\"i\":42,\"f\":1.0,\"e\":1e2,\"min\":-9223372036854775808,"
               "\"max\":9223372036854775807,\"u\":18446744073709551615,"
               "\"big\":-123456789012345678901234,\"z\":-0}");
  int64_t n = 7;
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_json_get_int64(o, "R", "i", true, &n, &d), MV_OK);
  assert_int_equal(n, 42);
  assert_int_equal(mv_json_get_int64(o, "R", "min", true, &n, &d), MV_OK);
  assert_true(n == INT64_MIN);
  assert_int_equal(mv_json_get_int64(o, "R", "max", true, &n, &d), MV_OK);
  assert_true(n == INT64_MAX);
  assert_int_equal(mv_json_get_int64(o, "R", "z", true, &n, &d), MV_OK);
  assert_int_equal(n, 0);
  n = 7;
  assert_int_equal(mv_json_get_int64(o, "R", "f", true, &n, &d), MV_EINVAL);
  assert_string_equal(d.path, "R.f");
  assert_non_null(strstr(d.msg, "integer"));
  assert_int_equal(mv_json_get_int64(o, "R", "e", true, &n, &d), MV_EINVAL);
  assert_int_equal(mv_json_get_int64(o, "R", "u", true, &n, &d), MV_EINVAL);
  assert_non_null(strstr(d.msg, "range"));
  assert_int_equal(mv_json_get_int64(o, "R", "big", true, &n, &d), MV_EINVAL);
  assert_int_equal(n, 7);
  json_object_put(o);
}

static void json_get_rejects_null_member(void **state) {
  (void)state;
  struct json_object *o = parse_ok("{\"a\":null}");
  const char *s = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_json_get_string(o, "R", "a", false, &s, &d), MV_EINVAL);
  assert_string_equal(d.msg, "expected a string, found null");
  assert_string_equal(d.path, "R.a");
  json_object_put(o);
}

static void json_get_on_non_object_reports_path(void **state) {
  (void)state;
  struct json_object *o = parse_ok("[1]");
  const char *s = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_json_get_string(o, "Bundle.entry", "x", true, &s, &d),
                   MV_EINVAL);
  assert_string_equal(d.path, "Bundle.entry");
  assert_int_equal(mv_json_get_string(NULL, "Bundle", "x", true, &s, &d),
                   MV_EINVAL);
  json_object_put(o);
}

static void json_get_string_rejects_embedded_nul(void **state) {
  (void)state;
  struct json_object *o = parse_ok("{\"a\":\"x\\u0000y\"}");
  const char *s = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_json_get_string(o, "R", "a", true, &s, &d), MV_EINVAL);
  assert_null(s);
  assert_string_equal(d.path, "R.a");
  json_object_put(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(json_keeps_decimal_text),
      cmocka_unit_test(json_keeps_negative_zero_integer),
      cmocka_unit_test(json_keeps_big_integers_exact),
      cmocka_unit_test(json_write_is_compact),
      cmocka_unit_test(json_round_trips_unicode_escapes),
      cmocka_unit_test(json_parses_bare_values),
      cmocka_unit_test(json_parses_bare_null_to_null),
      cmocka_unit_test(json_accepts_empty_key_and_same_key_in_siblings),
      cmocka_unit_test(json_parses_fhir_observation),
      cmocka_unit_test(json_rejects_trailing_comma),
      cmocka_unit_test(json_reports_line_and_column),
      cmocka_unit_test(json_column_counts_characters_not_bytes),
      cmocka_unit_test(json_rejects_duplicate_key),
      cmocka_unit_test(json_rejects_duplicate_key_spelled_differently),
      cmocka_unit_test(json_rejects_duplicate_key_in_nested_object),
      cmocka_unit_test(json_rejects_too_deep),
      cmocka_unit_test(json_accepts_objects_at_depth_limit),
      cmocka_unit_test(json_rejects_too_big),
      cmocka_unit_test(json_rejects_nul_byte),
      cmocka_unit_test(json_rejects_invalid_utf8),
      cmocka_unit_test(json_rejects_unpaired_surrogate_escape),
      cmocka_unit_test(json_rejects_bad_escapes_and_control_chars),
      cmocka_unit_test(json_rejects_nul_escape_in_key),
      cmocka_unit_test(json_rejects_trailing_data),
      cmocka_unit_test(json_rejects_non_json_numbers),
      cmocka_unit_test(json_rejects_non_strict_syntax),
      cmocka_unit_test(json_rejects_empty_and_truncated_input),
      cmocka_unit_test(json_parse_rejects_bad_arguments),
      cmocka_unit_test(json_diag_never_contains_values),
      cmocka_unit_test(json_write_appends_to_buffer),
      cmocka_unit_test(json_write_reports_too_big),
      cmocka_unit_test(json_new_decimal_keeps_text),
      cmocka_unit_test(json_new_decimal_rejects_invalid_number),
      cmocka_unit_test(json_get_string_reports_path),
      cmocka_unit_test(json_get_reports_missing_required_member),
      cmocka_unit_test(json_get_optional_missing_leaves_diag),
      cmocka_unit_test(json_get_uses_key_alone_when_path_empty),
      cmocka_unit_test(json_get_typed_members),
      cmocka_unit_test(json_get_number_gives_exact_text),
      cmocka_unit_test(json_get_int64_rejects_fraction_and_exponent),
      cmocka_unit_test(json_get_rejects_null_member),
      cmocka_unit_test(json_get_on_non_object_reports_path),
      cmocka_unit_test(json_get_string_rejects_embedded_nul),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

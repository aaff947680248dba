/* Presets: parsing with line/column errors, --set overrides, the typed
 * reader's messages, unknown keys, atomic save and reload. */
#include "config.h"

#include <glib/gstdio.h>

#include "wb-error.h"
#include "wb-preset.h"

static WbPreset *
load (const char *json)
{
  g_autoptr(GError) error = NULL;
  WbPreset *p = wb_preset_load_data (json, -1, "t", NULL, &error);
  g_assert_no_error (error);
  return p;
}

static void
test_syntax_error (void)
{
  g_autoptr(GError) error = NULL;
  WbPreset *p = wb_preset_load_data ("{\n  \"a\": 1,\n  \"b\": [1, 2,, 3]\n}", -1, "broken", NULL, &error);

  g_assert_null (p);
  g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
  /* The stray comma is on line 3. */
  g_assert_true (g_str_has_prefix (error->message, "preset 'broken': JSON syntax error at line 3, column "));
  g_assert_cmpint (wb_error_exit_code (error), ==, 2);
}

static void
test_not_object (void)
{
  g_autoptr(GError) e1 = NULL;
  g_autoptr(GError) e2 = NULL;

  g_assert_null (wb_preset_load_data ("[1, 2]", -1, "arr", NULL, &e1));
  g_assert_cmpstr (e1->message, ==, "preset 'arr': the document must be a JSON object");
  g_assert_null (wb_preset_load_data ("", -1, "empty", NULL, &e2));
  g_assert_cmpstr (e2->message, ==, "preset 'empty' is empty");
}

static void
test_set (void)
{
  g_autoptr(WbPreset) p = load ("{\"solver\": \"bhte\", \"time\": {\"steps\": 10},"
                                " \"materials\": [{\"name\": \"water\"}, {\"name\": \"skin\"}]}");
  g_autoptr(GError) error = NULL;
  JsonNode *n;

  g_assert_true (wb_preset_set (p, "time.steps=500", &error));
  g_assert_no_error (error);
  n = wb_preset_lookup (p, "time.steps");
  g_assert_cmpint (json_node_get_int (n), ==, 500);

  g_assert_true (wb_preset_set (p, "time.dt=0.01", &error));
  g_assert_cmpfloat (json_node_get_double (wb_preset_lookup (p, "time.dt")), ==, 0.01);

  g_assert_true (wb_preset_set (p, "materials[1].name=brain", &error));
  g_assert_cmpstr (json_node_get_string (wb_preset_lookup (p, "materials[1].name")), ==, "brain");
  g_assert_cmpstr (json_node_get_string (wb_preset_lookup (p, "materials[0].name")), ==, "water");

  g_assert_true (wb_preset_set (p, "grid={\"shape\": [4, 5, 6]}", &error));
  g_assert_cmpint (json_node_get_int (wb_preset_lookup (p, "grid.shape[2]")), ==, 6);

  /* A quoted JSON string stays a string; a bare word becomes one. */
  g_assert_true (wb_preset_set (p, "title=\"42\"", &error));
  g_assert_cmpstr (json_node_get_string (wb_preset_lookup (p, "title")), ==, "42");
}

static void
test_set_errors (void)
{
  g_autoptr(WbPreset) p = load ("{\"solver\": \"bhte\", \"time\": {\"steps\": 10}, \"list\": [1, 2]}");
  struct { const char *arg; const char *msg; } cases[] = {
    { "time.steps", "--set 'time.steps': expected KEY=VALUE, e.g. time.steps=500" },
    { "=3", "--set '=3': expected KEY=VALUE, e.g. time.steps=500" },
    { "nosuch.key=1", "--set nosuch.key: the preset has no 'nosuch' to set a value inside" },
    { "list[5]=1", "--set list[5]: index 5 is past the end of 'list' (2 elements)" },
    { "time[0]=1", "--set time[0]: 'time' is not an array" },
    { "a..b=1", "bad key path 'a..b' (expected names separated by dots, with optional [index])" },
    { "list[x]=1", "bad key path 'list[x]' (expected names separated by dots, with optional [index])" },
    { "time.steps.x=1", "--set time.steps.x: 'x' is inside something that is not an object" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (wb_preset_set (p, cases[i].arg, &error));
      g_assert_error (error, WB_ERROR, WB_ERROR_INVALID);
      g_assert_cmpstr (error->message, ==, cases[i].msg);
    }
}

static void
test_reader (void)
{
  g_autoptr(WbPreset) p = load ("{\"grid\": {\"shape\": [8, 9, 10], \"spacing\": 0.001},"
                                " \"name\": \"x\", \"flag\": true, \"n\": 3.0, \"mats\": [{\"d\": -1}]}");
  g_autoptr(WbObj) root = NULL;
  g_autoptr(WbObj) grid = NULL;
  g_autoptr(WbObj) m0 = NULL;
  g_autoptr(GError) error = NULL;
  gint64 shape[3];
  double h = 0, d = 0;
  gint64 n = 0;
  gboolean flag = FALSE;
  g_autofree char *name = NULL;
  JsonArray *mats = NULL;
  const char *choices[] = { "a", "b", NULL };

  root = wb_obj_new (p->root, "", &error);
  g_assert_nonnull (root);
  g_assert_true (wb_obj_get_obj (root, "grid", TRUE, &grid, &error));
  g_assert_true (wb_obj_get_ints (grid, "shape", TRUE, 3, 1, 4096, shape, &error));
  g_assert_cmpint (shape[2], ==, 10);
  g_assert_true (wb_obj_get_double (grid, "spacing", TRUE, 1e-9, 1, &h, &error));
  g_assert_cmpfloat (h, ==, 0.001);
  g_assert_true (wb_obj_finish (grid, &error));

  /* An integral double is an integer. */
  g_assert_true (wb_obj_get_int (root, "n", TRUE, 0, 10, &n, &error));
  g_assert_cmpint (n, ==, 3);
  g_assert_true (wb_obj_get_bool (root, "flag", TRUE, &flag, &error));
  g_assert_true (flag);
  /* Absent optional keys leave the default. */
  d = 7;
  g_assert_true (wb_obj_get_double (root, "absent", FALSE, 0, 10, &d, &error));
  g_assert_cmpfloat (d, ==, 7);

  g_assert_false (wb_obj_get_string (root, "name", TRUE, choices, &name, &error));
  g_assert_cmpstr (error->message, ==, "name: 'x' is not one of a, b");
  g_clear_error (&error);

  g_assert_false (wb_obj_get_double (root, "missing", TRUE, 0, 1, &d, &error));
  g_assert_cmpstr (error->message, ==, "missing required key 'missing'");
  g_clear_error (&error);

  g_assert_false (wb_obj_get_bool (root, "n", TRUE, &flag, &error));
  g_assert_cmpstr (error->message, ==, "n: expected true or false, got a number");
  g_clear_error (&error);

  g_assert_true (wb_obj_get_array (root, "mats", TRUE, &mats, &error));
  m0 = wb_obj_array_element (root, "mats", mats, 0, &error);
  g_assert_false (wb_obj_get_double (m0, "d", TRUE, 1, 1e5, &d, &error));
  g_assert_cmpstr (error->message, ==, "mats[0].d = -1 is out of range [1, 100000]");
  g_clear_error (&error);

  g_assert_false (wb_obj_get_ints (grid, "shape", TRUE, 2, 1, 4096, shape, &error));
  g_assert_cmpstr (error->message, ==, "grid.shape: expected 2 numbers, got 3");
  g_clear_error (&error);
}

static void
test_unknown_key (void)
{
  g_autoptr(WbPreset) p = load ("{\"grid\": {\"shape\": [8, 9, 10], \"sapcing\": 0.001}}");
  g_autoptr(WbObj) root = NULL;
  g_autoptr(WbObj) grid = NULL;
  g_autoptr(GError) error = NULL;
  gint64 shape[3];
  double h = 1e-3;

  root = wb_obj_new (p->root, "", &error);
  g_assert_true (wb_obj_get_obj (root, "grid", TRUE, &grid, &error));
  g_assert_true (wb_obj_get_ints (grid, "shape", TRUE, 3, 1, 4096, shape, &error));
  g_assert_true (wb_obj_get_double (grid, "spacing", FALSE, 1e-9, 1, &h, &error));
  g_assert_false (wb_obj_finish (grid, &error));
  g_assert_cmpstr (error->message, ==, "unknown key 'grid.sapcing' (known keys in grid: shape, spacing)");
}

static void
test_save_roundtrip (void)
{
  g_autoptr(WbPreset) p = load ("{\"solver\": \"bhte\", \"time\": {\"steps\": 10, \"dt\": 0.125}}");
  g_autoptr(WbPreset) q = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("wb-preset-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "saved.json", NULL);

  g_assert_true (wb_preset_set (p, "time.steps=77", &error));
  g_assert_true (wb_preset_save (p, path, &error));
  g_assert_no_error (error);
  q = wb_preset_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (q->name, ==, "saved");
  g_assert_cmpint (json_node_get_int (wb_preset_lookup (q, "time.steps")), ==, 77);
  g_assert_cmpfloat (json_node_get_double (wb_preset_lookup (q, "time.dt")), ==, 0.125);
  /* No temporary file is left beside it. */
  {
    g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    guint count = 0;
    while ((name = g_dir_read_name (d)))
      count++;
    g_assert_cmpuint (count, ==, 1);
  }
  g_unlink (path);
  g_rmdir (dir);
}

/* What we write loads back equal: escapes, control characters, UTF-8,
 * long backslash runs, extreme doubles and integers. */
static void
test_writer_roundtrip (void)
{
  g_autoptr(WbPreset) p = load ("{\"s\": \"q\\\"b\\\\\\\\\\\\\\\\7 t\\u000f \\n \u00e9\u00df\","
                                " \"d\": [1e308, -2.5e-300, 0.1, 3.0], \"i\": -9007199254740993,"
                                " \"o\": {}, \"a\": [], \"b\": false, \"n\": null}");
  g_autoptr(WbPreset) q = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  g_autofree char *text = wb_preset_to_data (p, &len);

  g_assert_true (g_utf8_validate (text, len, NULL));
  q = wb_preset_load_data (text, len, "again", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (p->root, q->root));
  g_assert_cmpstr (json_node_get_string (wb_preset_lookup (q, "s")), ==,
                   "q\"b\\\\\\\\7 t\x0f \n \u00e9\u00df");
  g_assert_cmpfloat (json_node_get_double (wb_preset_lookup (q, "d[0]")), ==, 1e308);
  g_assert_cmpfloat (json_node_get_double (wb_preset_lookup (q, "d[2]")), ==, 0.1);
  g_assert_cmpint (json_node_get_int (wb_preset_lookup (q, "i")), ==, G_GINT64_CONSTANT (-9007199254740993));
}

static void
test_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_assert_null (wb_preset_load ("/nonexistent/dir/p.json", &error));
  g_assert_error (error, WB_ERROR, WB_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "cannot read preset: "));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/wavebench/preset/syntax-error", test_syntax_error);
  g_test_add_func ("/wavebench/preset/not-object", test_not_object);
  g_test_add_func ("/wavebench/preset/set", test_set);
  g_test_add_func ("/wavebench/preset/set-errors", test_set_errors);
  g_test_add_func ("/wavebench/preset/reader", test_reader);
  g_test_add_func ("/wavebench/preset/unknown-key", test_unknown_key);
  g_test_add_func ("/wavebench/preset/save-roundtrip", test_save_roundtrip);
  g_test_add_func ("/wavebench/preset/writer-roundtrip", test_writer_roundtrip);
  g_test_add_func ("/wavebench/preset/missing-file", test_missing_file);
  return g_test_run ();
}
